"""Operations on households and people: composition over time, health data, privacy notices, consents."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from sqlalchemy import func, select

from casefile.codes import CONSENT_PURPOSES, RELATIONSHIP_TO_HOH, RESIDENCE_STATUS, SEX
from casefile.errors import RuleViolationError
from casefile.models import (
    Consent,
    Household,
    HouseholdMembership,
    Organisation,
    Person,
    PersonSensitive,
    PrivacyNotice,
    utcnow,
)
from casefile.operations.base import OperationContext, local_date, local_today, operation
from casefile.operations.fields import Code, CodiceFiscale

# Business dates of timestamped events (a notice given at 00:30 in Turin) are the programme's local dates.


class PersonSchema(Schema):
    """A person's ordinary data (health data goes through record_sensitive_data)."""

    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    codice_fiscale = CodiceFiscale(load_default=None, allow_none=True)
    birth_date = fields.Date(load_default=None, allow_none=True)
    sex = Code(SEX, load_default=None, allow_none=True)
    citizenship = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    residence_status = Code(RESIDENCE_STATUS, load_default=None, allow_none=True)
    permit_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    permit_expiry = fields.Date(load_default=None, allow_none=True)
    language = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class MemberSchema(PersonSchema):
    """A person joining a household, with their relationship to its head (HMIS 3.15)."""

    relationship_to_hoh = fields.Integer(required=True, validate=validate.OneOf(tuple(RELATIONSHIP_TO_HOH)))


class RegisterHouseholdSchema(Schema):
    """A new household: its managing organisation, a display name and its members."""

    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=100))
    since = fields.Date(required=True)
    members = fields.List(fields.Nested(MemberSchema), required=True, validate=validate.Length(min=1, max=20))

    @validates_schema
    def one_head(self, data: dict[str, Any], **_: Any) -> None:
        heads = [m for m in data.get("members", []) if m["relationship_to_hoh"] == 1]
        if len(heads) != 1:
            raise_field("members", "Exactly one member must be the head of household (relationship 1).")


def raise_field(field: str, message: str) -> None:
    """Refuse input with a message on one field (inside a schema validator)."""
    from marshmallow import ValidationError

    raise ValidationError({field: [message]})


def next_reference(op: OperationContext, year: int) -> str:
    """The next household reference of a year: NUC-2026-0001, NUC-2026-0002…"""
    prefix = f"NUC-{year}-"
    count = op.session.scalar(select(func.count()).select_from(Household)
                              .where(Household.reference.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def find_organisation(op: OperationContext, key: str, field: str) -> Organisation:
    """An organisation by key, or an error naming the input field."""
    org = op.session.scalars(select(Organisation).where(Organisation.key == key)).first()
    if org is None:
        raise RuleViolationError(f"unknown organisation '{key}'", field=field)
    return org


def add_person(op: OperationContext, data: dict[str, Any], field: str) -> Person:
    """Insert a person, refusing a codice fiscale that is already on file."""
    values = {k: v for k, v in data.items() if k in PersonSchema._declared_fields}
    cf = values.get("codice_fiscale")
    if cf and op.session.scalars(select(Person.id).where(Person.codice_fiscale == cf)).first() is not None:
        raise RuleViolationError(f"codice fiscale {cf} already belongs to a person on file",
                                 field=f"{field}.codice_fiscale")
    return op.add(Person(**values))  # type: ignore[no-any-return]


@operation("register_household", RegisterHouseholdSchema, record_type="household")
def register_household(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Register a household and its members."""
    org = find_organisation(op, data["organisation"], "organisation")
    household = op.add(Household(reference=next_reference(op, data["since"].year),
                                 display_name=data["display_name"], organisation_id=org.id))
    member_ids = []
    for index, member in enumerate(data["members"]):
        person = add_person(op, member, f"members.{index}")
        relationship = member["relationship_to_hoh"]
        op.add(HouseholdMembership(household_id=household.id, person_id=person.id,
                                   relationship_to_hoh=relationship, is_hoh=relationship == 1,
                                   valid_from=data["since"]))
        member_ids.append(person.id)
    op.journal(household.id, data["since"], f"{household.display_name}: {len(member_ids)} members",
               record=household)
    return {"household_id": household.id, "reference": household.reference, "person_ids": member_ids}


# --- shared look-ups ---------------------------------------------------------------------------------

def current_head(op: OperationContext, household_id: int) -> HouseholdMembership | None:
    """The open membership of the household's head, if it has one."""
    return op.session.scalars(select(HouseholdMembership).where(
        HouseholdMembership.household_id == household_id, HouseholdMembership.is_hoh.is_(True),
        HouseholdMembership.valid_to.is_(None)).order_by(HouseholdMembership.id)).first()


def current_membership(op: OperationContext, person_id: int, field: str, *,
                       household_id: int | None = None) -> HouseholdMembership:
    """The person's open membership (in ``household_id`` when given), or a refusal naming ``field``."""
    query = select(HouseholdMembership).where(HouseholdMembership.person_id == person_id,
                                              HouseholdMembership.valid_to.is_(None))
    if household_id is not None:
        query = query.where(HouseholdMembership.household_id == household_id)
    membership = op.session.scalars(query.order_by(HouseholdMembership.valid_from.desc(),
                                                   HouseholdMembership.id.desc())).first()
    if membership is None:
        where = f"household {household_id}" if household_id is not None else "any household"
        raise RuleViolationError(f"person {person_id} is not a current member of {where}", field=field)
    return membership


def last_household_id(op: OperationContext, person_id: int, field: str) -> int:
    """The household the person belongs or last belonged to (for records that outlive membership)."""
    household_id = op.session.scalars(
        select(HouseholdMembership.household_id).where(HouseholdMembership.person_id == person_id)
        .order_by(HouseholdMembership.valid_to.is_(None).desc(), HouseholdMembership.valid_to.desc(),
                  HouseholdMembership.id.desc())).first()
    if household_id is None:
        raise RuleViolationError(f"person {person_id} has never belonged to a household", field=field)
    return int(household_id)


# --- composition -------------------------------------------------------------------------------------

class AddMemberSchema(Schema):
    """A new person joining an existing household from a date."""

    household_id = fields.Integer(required=True, strict=True)
    since = fields.Date(required=True)
    member = fields.Nested(MemberSchema, required=True)


@operation("add_household_member", AddMemberSchema, record_type="membership")
def add_household_member(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Add a new person to a household; a second head is refused while one is current."""
    household = op.get(Household, data["household_id"], "household_id")
    relationship = data["member"]["relationship_to_hoh"]
    if relationship == 1 and current_head(op, household.id) is not None:
        raise RuleViolationError("the household already has a current head; end that membership first",
                                 field="member.relationship_to_hoh")
    person = add_person(op, data["member"], "member")
    membership = op.add(HouseholdMembership(household_id=household.id, person_id=person.id,
                                            relationship_to_hoh=relationship, is_hoh=relationship == 1,
                                            valid_from=data["since"]))
    op.journal(household.id, data["since"], f"member joined ({RELATIONSHIP_TO_HOH[relationship]})",
               record=membership)
    return {"membership_id": membership.id, "person_id": person.id}


class EndMembershipSchema(Schema):
    """A member leaving a household on ``valid_to`` (the last day in it), and the next head if needed."""

    membership_id = fields.Integer(required=True, strict=True)
    valid_to = fields.Date(required=True)
    new_head_person_id = fields.Integer(load_default=None, allow_none=True, strict=True)


def _hand_over_headship(op: OperationContext, leaving: HouseholdMembership, new_head_person_id: int,
                        last_day: date) -> HouseholdMembership:
    """Make another current member the head from the day after ``last_day``.

    Their membership as (say) spouse is closed on ``last_day`` and a new one as head opens the next day,
    rather than flipping ``is_hoh`` in place: the household's composition on any past date stays true.
    """
    if new_head_person_id == leaving.person_id:
        raise RuleViolationError("the new head must be another member", field="new_head_person_id")
    current = current_membership(op, new_head_person_id, "new_head_person_id", household_id=leaving.household_id)
    if current.valid_from > last_day:
        raise RuleViolationError("the new head joined after the head's last day", field="new_head_person_id")
    current.valid_to = last_day
    return op.add(HouseholdMembership(household_id=leaving.household_id, person_id=new_head_person_id,
                                      relationship_to_hoh=1, is_hoh=True, valid_from=last_day + timedelta(days=1)))


@operation("end_household_membership", EndMembershipSchema, record_type="membership")
def end_household_membership(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """End a person's membership of a household; a leaving head hands over to a remaining member."""
    membership = op.get(HouseholdMembership, data["membership_id"], "membership_id")
    if membership.valid_to is not None:
        raise RuleViolationError(f"this membership already ended on {membership.valid_to.isoformat()}",
                                 field="membership_id")
    if data["valid_to"] < membership.valid_from:
        raise RuleViolationError("the membership cannot end before it started", field="valid_to")
    new_head_id = data["new_head_person_id"]
    if new_head_id is not None and not membership.is_hoh:
        raise RuleViolationError("only a leaving head hands over to a new head", field="new_head_person_id")
    others = op.session.scalar(select(func.count()).select_from(HouseholdMembership).where(
        HouseholdMembership.household_id == membership.household_id, HouseholdMembership.valid_to.is_(None),
        HouseholdMembership.id != membership.id)) or 0
    if membership.is_hoh and others and new_head_id is None:
        raise RuleViolationError("the head cannot leave while other members remain: name the new head",
                                 field="new_head_person_id")
    new_head = _hand_over_headship(op, membership, new_head_id, data["valid_to"]) if new_head_id else None
    membership.valid_to = data["valid_to"]
    summary = "head of household left; new head named" if new_head else "member left"
    op.journal(membership.household_id, data["valid_to"], summary, record=membership)
    return {"membership_id": membership.id, "valid_to": data["valid_to"].isoformat(),
            "new_head_membership_id": new_head.id if new_head else None}


# --- a person's data ---------------------------------------------------------------------------------

class UpdatePersonSchema(PersonSchema):
    """Changes to a person's ordinary data: only the fields given are changed (null clears one)."""

    person_id = fields.Integer(required=True, strict=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Partial on the person's fields: an absent field keeps its value instead of loading its default.
        kwargs.setdefault("partial", tuple(PersonSchema._declared_fields))
        super().__init__(*args, **kwargs)

    @validates_schema
    def something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if len(data) < 2:
            raise_field("_schema", "Give at least one field to change.")


@operation("update_person", UpdatePersonSchema, record_type="person")
def update_person(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Correct or complete a person's ordinary data (codice fiscale stays unique)."""
    person = op.get(Person, data["person_id"], "person_id")
    changes = {k: v for k, v in data.items() if k != "person_id"}
    cf = changes.get("codice_fiscale")
    if cf and op.session.scalars(select(Person.id).where(Person.codice_fiscale == cf,
                                                         Person.id != person.id)).first() is not None:
        raise RuleViolationError(f"codice fiscale {cf} already belongs to another person", field="codice_fiscale")
    membership = current_membership(op, person.id, "person_id")
    for key, value in changes.items():
        setattr(person, key, value)
    op.session.flush()
    # Field names only: the journal is read more widely than the person's record.
    op.journal(membership.household_id, local_today(), "personal data updated: " + ", ".join(sorted(changes)),
               record=person)
    return {"person_id": person.id, "changed": sorted(changes)}


SENSITIVE_FIELDS = ("disability", "chronic_condition", "mental_health_service", "addiction_service", "dv_survivor",
                    "pregnancy", "notes")


class SensitiveDataSchema(Schema):
    """Special-category data of one person; only the fields given are changed (null clears one)."""

    person_id = fields.Integer(required=True, strict=True)
    disability = fields.Boolean(allow_none=True)
    chronic_condition = fields.String(allow_none=True, validate=validate.Length(max=2000))
    mental_health_service = fields.Boolean(allow_none=True)
    addiction_service = fields.Boolean(allow_none=True)
    dv_survivor = fields.Boolean(allow_none=True)
    pregnancy = fields.Boolean(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))

    @validates_schema
    def something_to_record(self, data: dict[str, Any], **_: Any) -> None:
        if not any(name in data for name in SENSITIVE_FIELDS):
            raise_field("_schema", "Give at least one field to record.")


@operation("record_sensitive_data", SensitiveDataSchema, record_type="person_sensitive")
def record_sensitive_data(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record or update a person's health and vulnerability data (special category, case team only)."""
    person = op.get(Person, data["person_id"], "person_id")
    membership = current_membership(op, person.id, "person_id")
    row = op.session.scalars(select(PersonSensitive).where(PersonSensitive.person_id == person.id)).first()
    created = row is None
    if row is None:
        row = PersonSensitive(person_id=person.id)
    for name in SENSITIVE_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    row.updated_at = utcnow()
    op.add(row)
    # Never the values, nor even which conditions were touched: the journal is not special-category data.
    op.journal(membership.household_id, local_date(row.updated_at), "health data updated", record=row)
    return {"person_sensitive_id": row.id, "created": created}


# --- privacy notice and consents ---------------------------------------------------------------------

class PrivacyNoticeSchema(Schema):
    """The GDPR art. 13 notice given to a member of a household (timezone-aware moment)."""

    person_id = fields.Integer(required=True, strict=True)
    household_id = fields.Integer(required=True, strict=True)
    given_at = fields.AwareDateTime(required=True)
    language = fields.String(required=True, validate=validate.Length(min=1, max=40))
    document_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    interpreter_used = fields.Boolean(load_default=False)


@operation("record_privacy_notice", PrivacyNoticeSchema, record_type="privacy_notice")
def record_privacy_notice(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record that a household member was given the privacy notice."""
    person = op.get(Person, data["person_id"], "person_id")
    household = op.get(Household, data["household_id"], "household_id")
    current_membership(op, person.id, "person_id", household_id=household.id)
    notice = op.add(PrivacyNotice(person_id=person.id, household_id=household.id, given_at=data["given_at"],
                                  language=data["language"], document_ref=data["document_ref"],
                                  interpreter_used=data["interpreter_used"], given_by=op.caller.username))
    interpreter = " with interpreter" if data["interpreter_used"] else ""
    op.journal(household.id, local_date(data["given_at"]), f"privacy notice given ({data['language']}){interpreter}",
               record=notice)
    return {"privacy_notice_id": notice.id}


class ConsentSchema(Schema):
    """Consent of a person to one optional purpose."""

    person_id = fields.Integer(required=True, strict=True)
    purpose = Code(CONSENT_PURPOSES, required=True)
    given_at = fields.AwareDateTime(required=True)
    document_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


@operation("record_consent", ConsentSchema, record_type="consent")
def record_consent(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a person's consent to an optional purpose (one active consent per purpose)."""
    person = op.get(Person, data["person_id"], "person_id")
    membership = current_membership(op, person.id, "person_id")
    active = op.session.scalars(select(Consent.id).where(
        Consent.person_id == person.id, Consent.purpose == data["purpose"], Consent.withdrawn_at.is_(None))).first()
    if active is not None:
        raise RuleViolationError(f"the person already has an active consent for '{data['purpose']}'",
                                 field="purpose")
    consent = op.add(Consent(person_id=person.id, purpose=data["purpose"], given_at=data["given_at"],
                             document_ref=data["document_ref"]))
    op.journal(membership.household_id, local_date(data["given_at"]), f"consent given: {data['purpose']}",
               record=consent)
    return {"consent_id": consent.id}


class WithdrawConsentSchema(Schema):
    """The withdrawal of a consent (timezone-aware moment)."""

    consent_id = fields.Integer(required=True, strict=True)
    withdrawn_at = fields.AwareDateTime(required=True)


@operation("withdraw_consent", WithdrawConsentSchema, record_type="consent")
def withdraw_consent(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the withdrawal of a consent."""
    consent = op.get(Consent, data["consent_id"], "consent_id")
    if consent.withdrawn_at is not None:
        raise RuleViolationError("this consent was already withdrawn", field="consent_id")
    if data["withdrawn_at"] < consent.given_at:
        raise RuleViolationError("a consent cannot be withdrawn before it was given", field="withdrawn_at")
    # GDPR art. 7(3): withdrawing must stay possible after the person has left the household.
    household_id = last_household_id(op, consent.person_id, "consent_id")
    consent.withdrawn_at = data["withdrawn_at"]
    op.session.flush()
    op.journal(household_id, local_date(data["withdrawn_at"]), f"consent withdrawn: {consent.purpose}",
               record=consent)
    return {"consent_id": consent.id, "withdrawn_at": data["withdrawn_at"].isoformat()}
