"""How every case-file write runs: validated input, access policy, all-or-nothing, a journal entry.

An operation is a function ``(op: OperationContext, data: dict) -> dict`` registered with
:func:`operation` under a name and a marshmallow input schema. :func:`execute` loads the input
(unknown fields refused), checks the caller's right to write that kind of record, runs the function
inside a SAVEPOINT (a refusal leaves nothing behind) and flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError
from sqlalchemy.orm import Session

from casefile import access
from casefile.errors import InvalidInputError, NotFoundError
from casefile.models import Base, CaseEvent, utcnow

# The programme's calendar: a visit at 00:30 in Turin belongs to that Turin day, not to UTC's.
PROGRAMME_TZ = ZoneInfo("Europe/Rome")


def local_date(moment: datetime) -> date:
    """The programme's calendar date of a timezone-aware moment."""
    return moment.astimezone(PROGRAMME_TZ).date()


def local_today() -> date:
    """Today in Turin: the business date of an operation whose input carries none."""
    return local_date(utcnow())


@dataclass(frozen=True)
class Caller:
    """Who runs an operation: a staff member, or a process instance acting for the one who moved it."""

    username: str | None
    roles: frozenset[str] = frozenset()
    organisation: str | None = None
    process_id: str | None = None
    instance_id: int | None = None
    # The application itself (demo data, imports): no staff member to hold to the policy.
    is_system: bool = False

    @classmethod
    def system(cls, name: str) -> Caller:
        """The application acting on its own account, under ``name`` in the journal."""
        return cls(name, is_system=True)

    @property
    def via_process(self) -> bool:
        """A BPMN service task or the application: the policy was applied before it got here."""
        return self.instance_id is not None or self.is_system

    def viewer(self) -> access.Viewer:
        """The access policy's view of this caller."""
        return access.Viewer(self.username or "system", self.roles, self.organisation)


OperationFunc = Callable[["OperationContext", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """A named write with its input schema and the kind of record it writes."""

    name: str
    schema: type[Schema]
    record_type: str
    func: OperationFunc
    summary: str


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, schema: type[Schema], *, record_type: str) -> Callable[[OperationFunc], OperationFunc]:
    """Register the decorated function as operation ``name``."""
    access.record_class(record_type)  # fail at import on a typo

    def register(func: OperationFunc) -> OperationFunc:
        if name in OPERATIONS:
            raise ValueError(f"operation '{name}' is already registered")
        doc = (func.__doc__ or name).strip().splitlines()[0]
        OPERATIONS[name] = Operation(name, schema, record_type, func, doc)
        return func

    return register


@dataclass
class OperationContext:
    """What an operation function works with: the session, the caller and its own name."""

    session: Session
    caller: Caller
    operation: Operation

    def get(self, model: type[Any], record_id: int, field: str) -> Any:
        """The row of ``model`` with ``record_id``, or a NotFoundError naming the input ``field``."""
        row = self.session.get(model, record_id)
        if row is None:
            raise NotFoundError(f"no {model.__tablename__} with id {record_id}", field=field)
        return row

    def add(self, row: Base) -> Any:
        """Add a row and flush, so that its id is known."""
        self.session.add(row)
        self.session.flush()
        return row

    def journal(self, household_id: int, occurred_on: date, summary: str, *, record: Base | None = None,
                record_type: str | None = None, enrollment_id: int | None = None) -> None:
        """Append what happened to the household's timeline; a staff caller must reach the household."""
        record_type = record_type or self.operation.record_type
        if not self.caller.via_process:
            access.authorize(self.session, self.caller.viewer(), "write", record_type,
                             household_id=household_id, purpose=self.operation.name,
                             record_id=getattr(record, "id", None))
        self.session.add(CaseEvent(
            household_id=household_id, enrollment_id=enrollment_id, occurred_on=occurred_on,
            recorded_at=utcnow(), operation=self.operation.name, record_type=record_type,
            record_id=getattr(record, "id", None), summary=summary, actor=self.caller.username,
            process_id=self.caller.process_id, instance_id=self.caller.instance_id))


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as {"members.0.birth_date": [...]}."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def load_input(schema: type[Schema], payload: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``payload`` with ``schema``; errors become an InvalidInputError naming each field."""
    if not isinstance(payload, Mapping):
        raise InvalidInputError("the input must be an object", field="_schema")
    try:
        return schema(unknown=RAISE).load(dict(payload))  # type: ignore[no-any-return]
    except ValidationError as exc:
        fields = _flatten(exc.messages)
        raise InvalidInputError("invalid input: " + ", ".join(sorted(fields)), fields=fields) from None


def execute(session: Session, name: str, payload: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """Run operation ``name`` for ``caller``: all of it is written, or nothing."""
    try:
        op = OPERATIONS[name]
    except KeyError:
        raise NotFoundError(f"unknown operation '{name}'", field="operation") from None
    data = load_input(op.schema, payload)
    if not caller.via_process:
        decision = access.decide(caller.viewer(), "write", op.record_type)
        if not decision:
            raise access.AccessDeniedError(decision.reason, record_type=op.record_type, action="write")
    with session.begin_nested():
        result = op.func(OperationContext(session, caller, op), data)
        session.flush()
    return result
