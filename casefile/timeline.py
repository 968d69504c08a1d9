"""Everything that happened to a household, in order: its records' journal and its process instances.

The case file cannot see the engine's tables, so process events arrive as a ``process_events``
iterable the application builds (webapp.casefile_services does it from the engine's audit trail).
What a viewer may not read is left out, decided by the access policy one record type at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile import access
from casefile.models import CaseEvent


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: a record written, or a step of a process instance."""

    occurred_on: date
    recorded_at: datetime
    source: str  # "record" or "process"
    kind: str  # the operation name, or the engine's event kind
    summary: str
    record_type: str
    record_id: int | None = None
    actor: str | None = None
    process_id: str | None = None
    instance_id: int | None = None

    def sort_key(self) -> tuple[date, datetime, int]:
        """Business date first, then the moment it was recorded; records before process steps on ties."""
        return (self.occurred_on, self.recorded_at, 0 if self.source == "record" else 1)


def record_entries(session: Session, household_id: int) -> list[TimelineEntry]:
    """The household's journal, oldest first."""
    events = session.scalars(select(CaseEvent).where(CaseEvent.household_id == household_id)
                             .order_by(CaseEvent.occurred_on, CaseEvent.recorded_at, CaseEvent.id))
    return [TimelineEntry(occurred_on=e.occurred_on, recorded_at=e.recorded_at, source="record",
                          kind=e.operation, summary=e.summary, record_type=e.record_type, record_id=e.record_id,
                          actor=e.actor, process_id=e.process_id, instance_id=e.instance_id) for e in events]


def household_instance_ids(session: Session, household_id: int) -> set[int]:
    """The process instances that wrote to this household's records."""
    return set(session.scalars(select(CaseEvent.instance_id).distinct().where(
        CaseEvent.household_id == household_id, CaseEvent.instance_id.is_not(None))))


def household_timeline(session: Session, household_id: int, *, viewer: access.Viewer | None = None,
                       purpose: str = "household timeline",
                       process_events: Iterable[TimelineEntry] = ()) -> list[TimelineEntry]:
    """The household's records and process steps merged in order, filtered for ``viewer`` when given.

    A viewer sees only the entries whose record type the policy lets them read for this household
    (process steps count as ordinary case data); one who may read none of it, nor the household, is
    refused. Reading protected entries is logged.
    """
    entries = sorted([*record_entries(session, household_id), *process_events], key=TimelineEntry.sort_key)
    if viewer is None:
        return entries
    scope = access.case_scope(session, household_id)
    visible, protected = [], set()
    for entry in entries:
        decision = access.decide(viewer, "read", entry.record_type, scope)
        if decision:
            visible.append(entry)
            if decision.data_class != access.ORDINARY:
                protected.add((entry.record_type, decision.data_class))
    if not visible and not access.decide(viewer, "read", "household", scope):
        raise access.AccessDeniedError("this household is outside what you may read", record_type="timeline",
                                       action="read")
    for record_type, data_class in sorted(protected):
        access.log_access(session, viewer, "read", record_type, data_class=data_class, purpose=purpose,
                          household_id=household_id)
    return visible
