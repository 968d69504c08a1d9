"""Housing operations: landlords, units, leases held by a partner, placements, occupancy and move-in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from sqlalchemy import select

from casefile.codes import APE_CLASSES, LANDLORD_KINDS, LEASE_END_STATUSES, LEASE_TYPES, OCCUPANCY_KINDS, UNIT_SOURCES
from casefile.dates import add_months
from casefile.errors import RuleViolationError
from casefile.models import Enrollment, HousingUnit, Landlord, LeaseContract, OccupancyAgreement, Placement
from casefile.operations.base import OperationContext, operation
from casefile.operations.fields import Code, Money
from casefile.operations.households import find_organisation, raise_field

# A unit can be under one lease at a time; a lease given notice still binds until it ends.
LIVE_LEASE_STATUSES = ("attivo", "in_disdetta")
PLACEABLE_STATUSES = ("in_attesa_alloggio", "inserito")
# L. 392/78 art. 11: the deposit may not exceed three months' rent.
MAX_DEPOSIT_MONTHS = 3
# 4+4 (L. 431/98 art. 2 c.1), 3+2 (art. 2 c.3), transitorio 1-18 months (D.M. 16/1/2017), art. 42 (L. 392/78):
# months of the first term, and whether it is exact or a minimum. Comodato has no statutory term.
LEASE_TERMS: dict[str, tuple[int, int | None]] = {
    "4+4": (48, 48), "3+2": (36, None), "transitorio": (1, 18), "art42": (72, 72),
}


def lease_end(lease: LeaseContract) -> date:
    """The last day a lease runs: its end when ended or given notice, else its first expiry."""
    return lease.ended_on or lease.first_expiry


def household_under_lease(op: OperationContext, lease_id: int) -> Enrollment | None:
    """The enrollment currently placed in the unit of a lease, if any (for the journal)."""
    return op.session.scalars(select(Enrollment).join(Placement, Placement.enrollment_id == Enrollment.id)
                              .where(Placement.lease_id == lease_id, Placement.end_date.is_(None))
                              .order_by(Placement.id)).first()


def journal_placement(op: OperationContext, placement: Placement, on: date, summary: str, record: Any) -> None:
    """Journal on the household of a placement."""
    enrollment: Enrollment = op.get(Enrollment, placement.enrollment_id, "placement_id")
    op.journal(enrollment.household_id, on, summary, record=record, enrollment_id=enrollment.id)


def journal_lease(op: OperationContext, lease: LeaseContract, on: date, summary: str, record: Any) -> None:
    """Journal on the household living under a lease; a vacant unit's lease concerns no household."""
    enrollment = household_under_lease(op, lease.id)
    if enrollment is not None:
        op.journal(enrollment.household_id, on, summary, record=record, enrollment_id=enrollment.id)


def open_placement(op: OperationContext, placement_id: int) -> Placement:
    """A placement that has not ended, or a refusal naming placement_id."""
    placement: Placement = op.get(Placement, placement_id, "placement_id")
    if placement.end_date is not None:
        raise RuleViolationError(f"placement {placement_id} ended on {placement.end_date.isoformat()}",
                                 field="placement_id")
    return placement


def agreement_of(op: OperationContext, placement: Placement) -> OccupancyAgreement | None:
    """The occupancy agreement of a placement, queried: ``placement.agreement`` may be cached from before it."""
    return op.session.scalars(select(OccupancyAgreement)
                              .where(OccupancyAgreement.placement_id == placement.id)).one_or_none()


class RegisterLandlordSchema(Schema):
    """A landlord and the lease-holding partner that manages the relationship with them."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = Code(LANDLORD_KINDS, required=True)
    # A codice fiscale or a partita IVA (11 digits) for companies.
    tax_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=11, max=16))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    managed_by = fields.String(required=True, validate=validate.Length(min=1, max=100))


@operation("register_landlord", RegisterLandlordSchema, record_type="landlord")
def register_landlord(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Register a landlord, managed by a lease-holding partner."""
    org = find_organisation(op, data.pop("managed_by"), "managed_by")
    if not org.plays("lease_holder"):
        raise RuleViolationError(f"{org.name} does not hold leases in the programme", field="managed_by")
    landlord = op.add(Landlord(**data, managed_by_org_id=org.id))
    return {"landlord_id": landlord.id}


class RegisterHousingUnitSchema(Schema):
    """A flat: address, cadastral data, size and where it comes from."""

    address = fields.String(required=True, validate=validate.Length(min=1, max=300))
    circoscrizione = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    cadastral_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    cadastral_category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    sqm = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10_000))
    rooms = fields.Integer(required=True, validate=validate.Range(min=1, max=50))
    floor = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=-5, max=100))
    lift = fields.Boolean(load_default=False)
    furnished = fields.Boolean(load_default=False)
    ape_class = Code(APE_CLASSES, load_default=None, allow_none=True)
    availability_date = fields.Date(load_default=None, allow_none=True)
    source = Code(UNIT_SOURCES, required=True)
    landlord_id = fields.Integer(load_default=None, allow_none=True)


@operation("register_housing_unit", RegisterHousingUnitSchema, record_type="housing_unit")
def register_housing_unit(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Register a housing unit found for the programme."""
    if data["landlord_id"] is not None:
        op.get(Landlord, data["landlord_id"], "landlord_id")
    unit = op.add(HousingUnit(**data))
    return {"unit_id": unit.id}


class SignLeaseSchema(Schema):
    """A lease between a landlord and the lease-holding partner, for one unit."""

    unit_id = fields.Integer(required=True)
    landlord_id = fields.Integer(required=True)
    tenant = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lease_type = Code(LEASE_TYPES, required=True)
    signed_on = fields.Date(required=True)
    start_date = fields.Date(required=True)
    first_expiry = fields.Date(required=True)
    notice_period_months = fields.Integer(load_default=6, validate=validate.Range(min=0, max=24))
    monthly_rent = Money(required=True)
    service_charges = Money(load_default=0)
    rent_due_day = fields.Integer(required=True, validate=validate.Range(min=1, max=28))
    deposit = Money(load_default=0)
    sublet_clause = fields.Boolean(load_default=False)
    cedolare_secca = fields.Boolean(load_default=False)

    @validates_schema
    def term(self, data: dict[str, Any], **_: Any) -> None:
        start, expiry = data["start_date"], data["first_expiry"]
        if expiry <= start:
            raise_field("first_expiry", "The first expiry must be after the start date.")
        if data["lease_type"] not in LEASE_TERMS:
            return
        shortest, longest = LEASE_TERMS[data["lease_type"]]
        # Leases usually run to the day before the anniversary (1/1/2026-31/12/2029): both count as the term.
        if expiry < add_months(start, shortest) - timedelta(days=1):
            raise_field("first_expiry", f"A {data['lease_type']} lease runs at least {shortest} months.")
        if longest is not None and expiry > add_months(start, longest):
            raise_field("first_expiry", f"A {data['lease_type']} lease runs at most {longest} months.")

    @validates_schema
    def amounts(self, data: dict[str, Any], **_: Any) -> None:
        rent = data["monthly_rent"]
        if data["lease_type"] == "comodato" and rent != 0:
            raise_field("monthly_rent", "A comodato is free: the rent must be 0.")
        if data["lease_type"] != "comodato" and rent == 0:
            raise_field("monthly_rent", "The rent must be more than 0.")
        if data["deposit"] > MAX_DEPOSIT_MONTHS * rent:
            raise_field("deposit", "The deposit may not exceed three months' rent (L. 392/78 art. 11).")


@operation("sign_lease", SignLeaseSchema, record_type="lease")
def sign_lease(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign a lease of a unit, held by a lease-holding partner."""
    unit = op.get(HousingUnit, data["unit_id"], "unit_id")
    landlord = op.get(Landlord, data["landlord_id"], "landlord_id")
    tenant = find_organisation(op, data["tenant"], "tenant")
    if not tenant.plays("lease_holder"):
        raise RuleViolationError(f"{tenant.name} does not hold leases in the programme", field="tenant")
    if unit.landlord_id is not None and unit.landlord_id != landlord.id:
        raise RuleViolationError(f"unit {unit.id} belongs to another landlord", field="landlord_id")
    live = op.session.scalars(select(LeaseContract.id).where(
        LeaseContract.unit_id == unit.id, LeaseContract.status.in_(LIVE_LEASE_STATUSES))).first()
    if live is not None:
        raise RuleViolationError(f"unit {unit.id} is already under lease {live}", field="unit_id")
    lease = op.add(LeaseContract(
        unit_id=unit.id, landlord_id=landlord.id, tenant_org_id=tenant.id, lease_type=data["lease_type"],
        signed_on=data["signed_on"], start_date=data["start_date"], first_expiry=data["first_expiry"],
        notice_period_months=data["notice_period_months"], monthly_rent_cents=data["monthly_rent"],
        service_charges_cents=data["service_charges"], rent_due_day=data["rent_due_day"],
        deposit_cents=data["deposit"], sublet_clause=data["sublet_clause"], cedolare_secca=data["cedolare_secca"],
        status="attivo"))
    return {"lease_id": lease.id, "registration_due": (lease.signed_on + timedelta(days=30)).isoformat()}


class RegisterLeaseSchema(Schema):
    """The registration of a lease with the Agenzia delle Entrate."""

    lease_id = fields.Integer(required=True)
    registration_date = fields.Date(required=True)
    registration_code = fields.String(required=True, validate=validate.Length(min=1, max=60))


@operation("register_lease", RegisterLeaseSchema, record_type="lease")
def register_lease(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the registration of a lease (due within 30 days of signature)."""
    lease: LeaseContract = op.get(LeaseContract, data["lease_id"], "lease_id")
    if lease.registration_date is not None:
        raise RuleViolationError(f"lease {lease.id} was registered on {lease.registration_date.isoformat()}",
                                 field="lease_id")
    if data["registration_date"] < lease.signed_on:
        raise RuleViolationError("a lease cannot be registered before it is signed", field="registration_date")
    lease.registration_date = data["registration_date"]
    lease.registration_code = data["registration_code"]
    late = data["registration_date"] > lease.signed_on + timedelta(days=30)
    journal_lease(op, lease, data["registration_date"], f"lease {lease.id} registered", lease)
    return {"lease_id": lease.id, "late": late}


class EndLeaseSchema(Schema):
    """Notice given on a lease, or its end (expiry, termination, transfer to the household)."""

    lease_id = fields.Integer(required=True)
    status = Code(LEASE_END_STATUSES, required=True)
    ended_on = fields.Date(required=True)


@operation("end_lease", EndLeaseSchema, record_type="lease")
def end_lease(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Put a lease under notice, or end it."""
    lease: LeaseContract = op.get(LeaseContract, data["lease_id"], "lease_id")
    if lease.status not in LIVE_LEASE_STATUSES:
        raise RuleViolationError(f"lease {lease.id} has already ended ({lease.status})", field="lease_id")
    if lease.status == data["status"]:
        raise RuleViolationError(f"lease {lease.id} is already {lease.status}", field="status")
    if data["ended_on"] < lease.start_date:
        raise RuleViolationError("a lease cannot end before it starts", field="ended_on")
    # A household still living there would lose its home: end (or move) the placement first.
    if data["status"] != "in_disdetta" and household_under_lease(op, lease.id) is not None:
        raise RuleViolationError(f"a household still lives under lease {lease.id}: end its placement first",
                                 field="status")
    lease.status, lease.ended_on = data["status"], data["ended_on"]
    journal_lease(op, lease, data["ended_on"], f"lease {lease.id}: {lease.status}", lease)
    return {"lease_id": lease.id, "status": lease.status}


class PlaceHouseholdSchema(Schema):
    """A household given a unit under a lease of the partner."""

    enrollment_id = fields.Integer(required=True)
    lease_id = fields.Integer(required=True)
    start_date = fields.Date(required=True)


@operation("place_household", PlaceHouseholdSchema, record_type="placement")
def place_household(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Place a household in the unit of a lease (also a move to another unit)."""
    enrollment: Enrollment = op.get(Enrollment, data["enrollment_id"], "enrollment_id")
    lease: LeaseContract = op.get(LeaseContract, data["lease_id"], "lease_id")
    start = data["start_date"]
    if enrollment.status not in PLACEABLE_STATUSES:
        raise RuleViolationError(f"an enrollment {enrollment.status} cannot be placed", field="enrollment_id")
    if lease.status != "attivo":
        raise RuleViolationError(f"lease {lease.id} is {lease.status}, not attivo", field="lease_id")
    if not lease.start_date <= start <= lease_end(lease):
        raise RuleViolationError(f"the placement must start within the lease ({lease.start_date.isoformat()}"
                                 f" to {lease_end(lease).isoformat()})", field="start_date")
    occupied = select(Placement.id).where(Placement.end_date.is_(None))
    if op.session.scalars(occupied.where(Placement.unit_id == lease.unit_id)).first() is not None:
        raise RuleViolationError(f"unit {lease.unit_id} is occupied", field="lease_id")
    if op.session.scalars(occupied.where(Placement.enrollment_id == enrollment.id)).first() is not None:
        raise RuleViolationError("the household is still placed elsewhere: end that placement first",
                                 field="enrollment_id")
    placement = op.add(Placement(enrollment_id=enrollment.id, unit_id=lease.unit_id, lease_id=lease.id,
                                 start_date=start))
    op.journal(enrollment.household_id, start, f"placed in {lease.unit.address}", record=placement,
               enrollment_id=enrollment.id)
    return {"placement_id": placement.id, "unit_id": placement.unit_id}


class OccupancyAgreementSchema(Schema):
    """How the household occupies the unit and what it contributes each month."""

    placement_id = fields.Integer(required=True)
    kind = Code(OCCUPANCY_KINDS, required=True)
    signed_on = fields.Date(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    monthly_contribution = Money(required=True)
    contribution_due_day = fields.Integer(load_default=5, validate=validate.Range(min=1, max=28))
    house_rules_ack = fields.Boolean(required=True)

    @validates_schema
    def consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["end_date"] is not None and data["end_date"] <= data["start_date"]:
            raise_field("end_date", "The end date must be after the start date.")
        if data["kind"] == "comodato" and data["monthly_contribution"] != 0:
            raise_field("monthly_contribution", "A comodato is free: the contribution must be 0.")
        if not data["house_rules_ack"]:
            raise_field("house_rules_ack", "The household must acknowledge the house rules.")


@operation("sign_occupancy_agreement", OccupancyAgreementSchema, record_type="occupancy_agreement")
def sign_occupancy_agreement(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign the occupancy agreement of a placement with the household."""
    placement = open_placement(op, data["placement_id"])
    existing = agreement_of(op, placement)
    if existing is not None:
        raise RuleViolationError(f"placement {placement.id} already has agreement {existing.id}",
                                 field="placement_id")
    if data["start_date"] < placement.start_date:
        raise RuleViolationError("the agreement cannot start before the placement", field="start_date")
    agreement = op.add(OccupancyAgreement(
        placement_id=placement.id, kind=data["kind"], signed_on=data["signed_on"], start_date=data["start_date"],
        end_date=data["end_date"], monthly_contribution_cents=data["monthly_contribution"],
        contribution_due_day=data["contribution_due_day"], house_rules_ack=True))
    journal_placement(op, placement, data["signed_on"], f"occupancy agreement ({agreement.kind})", agreement)
    return {"agreement_id": agreement.id}


class HandOverKeysSchema(Schema):
    """The keys of the unit given to the household."""

    placement_id = fields.Integer(required=True)
    handed_over_on = fields.Date(required=True)
    keys_count = fields.Integer(required=True, validate=validate.Range(min=1, max=50))


@operation("hand_over_keys", HandOverKeysSchema, record_type="placement")
def hand_over_keys(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the handover of the unit's keys to the household."""
    placement = open_placement(op, data["placement_id"])
    if placement.keys_handed_over_on is not None:
        raise RuleViolationError(f"the keys were handed over on {placement.keys_handed_over_on.isoformat()}",
                                 field="placement_id")
    if data["handed_over_on"] < placement.start_date:
        raise RuleViolationError("the keys cannot be handed over before the placement starts",
                                 field="handed_over_on")
    placement.keys_handed_over_on, placement.keys_count = data["handed_over_on"], data["keys_count"]
    journal_placement(op, placement, data["handed_over_on"], f"{data['keys_count']} keys handed over", placement)
    return {"placement_id": placement.id}


class RecordMoveInSchema(Schema):
    """The day the household moved in (HMIS 3.20 Housing Move-In Date)."""

    placement_id = fields.Integer(required=True)
    move_in_date = fields.Date(required=True)


def check_move_in(placement: Placement, agreement: OccupancyAgreement | None, enrollment: Enrollment,
                  day: date) -> None:
    """The HMIS move-in rule: an agreement in place, keys handed over, within the enrollment."""
    if placement.move_in_date is not None:
        raise RuleViolationError(f"the household moved in on {placement.move_in_date.isoformat()}",
                                 field="placement_id")
    if agreement is None or placement.keys_handed_over_on is None:
        raise RuleViolationError("move-in needs a signed occupancy agreement and the keys handed over",
                                 field="placement_id")
    if enrollment.status not in PLACEABLE_STATUSES:
        raise RuleViolationError(f"the enrollment is {enrollment.status}", field="placement_id")
    earliest = max(placement.keys_handed_over_on, agreement.start_date, enrollment.project_start_date)
    if day < earliest:
        raise RuleViolationError(f"move-in cannot be before {earliest.isoformat()} (keys, agreement start "
                                 "and project start)", field="move_in_date")
    if enrollment.exit_date is not None and day > enrollment.exit_date:
        raise RuleViolationError("move-in cannot be after the exit", field="move_in_date")


@operation("record_move_in", RecordMoveInSchema, record_type="placement")
def record_move_in(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the household's move-in date (needs the agreement and the keys)."""
    placement = open_placement(op, data["placement_id"])
    enrollment: Enrollment = op.get(Enrollment, placement.enrollment_id, "placement_id")
    check_move_in(placement, agreement_of(op, placement), enrollment, data["move_in_date"])
    placement.move_in_date = data["move_in_date"]
    # HMIS: the enrollment's move-in date is the first one; a later move does not change it.
    first = enrollment.move_in_date is None
    if first:
        enrollment.move_in_date = data["move_in_date"]
    enrollment.status = "inserito"
    journal_placement(op, placement, data["move_in_date"], "moved in", placement)
    return {"placement_id": placement.id, "first_move_in": first,
            "enrollment_move_in_date": (enrollment.move_in_date or data["move_in_date"]).isoformat()}


class EndPlacementSchema(Schema):
    """The end of a household's stay in a unit."""

    placement_id = fields.Integer(required=True)
    end_date = fields.Date(required=True)
    end_reason = fields.String(required=True, validate=validate.Length(min=1, max=60))


@operation("end_placement", EndPlacementSchema, record_type="placement")
def end_placement(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """End a placement (move-out, a move to another unit, or exit)."""
    placement = open_placement(op, data["placement_id"])
    if data["end_date"] < (placement.move_in_date or placement.start_date):
        raise RuleViolationError("a placement cannot end before it starts (or before the move-in)",
                                 field="end_date")
    # Journal before ending: the lease holder's reach over the household comes from the open placement.
    journal_placement(op, placement, data["end_date"], f"placement ended: {data['end_reason']}", placement)
    placement.end_date, placement.end_reason = data["end_date"], data["end_reason"]
    return {"placement_id": placement.id}
