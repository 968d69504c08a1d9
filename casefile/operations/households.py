"""Operations on households and people: composition over time, health data, privacy notices, consents."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from sqlalchemy import func, select

from casefile.codes import RELATIONSHIP_TO_HOH, RESIDENCE_STATUS, SEX
from casefile.errors import RuleViolationError
from casefile.models import Household, HouseholdMembership, Organisation, Person
from casefile.operations.base import OperationContext, operation
from casefile.operations.fields import Code, CodiceFiscale


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
