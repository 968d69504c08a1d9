"""What a task page shows besides its form: where the task belongs, its instructions, its prefill,
and where to go once it is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import Household
from engine import Actor, Engine
from engine.models import HumanTask, ProcessInstance
from engine.tasklist import may_work_on, my_tasks


def get_engine() -> Engine:
    """The app's engine."""
    return current_app.extensions["engine"]  # type: ignore[no-any-return]


# CommonMark with raw HTML off: a <script> an analyst (or anyone editing a model) types into the
# instructions is shown as text, never run. markdown-it also refuses javascript: and data: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_instructions(text: str | None) -> Markup | None:
    """Task instructions (Markdown) as safe HTML."""
    if not text or not text.strip():
        return None
    return Markup(_MARKDOWN.render(text))  # noqa: S704 (raw HTML is escaped by html=False)


@dataclass(frozen=True)
class HouseholdRef:
    """The household a task is about, for the breadcrumbs."""

    id: int
    reference: str
    name: str


def household_of(session: Session, business_key: str | None) -> HouseholdRef | None:
    """The household whose reference is the task's business key, if there is one."""
    if not business_key:
        return None
    row = session.execute(select(Household.id, Household.reference, Household.display_name)
                          .where(Household.reference == business_key)).first()
    return HouseholdRef(row.id, row.reference, row.display_name) if row is not None else None


def households_by_reference(session: Session, keys: set[str]) -> dict[str, int]:
    """Household ids of the business keys that are household references (one query for a whole list)."""
    if not keys:
        return {}
    return dict(session.execute(select(Household.reference, Household.id).where(Household.reference.in_(keys))).all())


def task_data_of(session: Session, engine: Engine, row: HumanTask) -> dict[str, Any]:
    """The data the task sees in its instance (what earlier steps wrote), read through the engine."""
    instance = session.get(ProcessInstance, row.instance_id)
    if instance is None or row.status != "ready":
        return {}
    task = engine.load(instance).get_task_from_id(UUID(row.id))
    return dict(task.data) if task is not None else {}


def next_task_of(session: Session, actor: Actor, instance_id: int) -> HumanTask | None:
    """Where to go after completing a task: the next step of the same case if it is mine, else my first task."""
    same_case = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")
                                .order_by(HumanTask.queue_order, HumanTask.created_at)).all()
    for row in same_case:
        if may_work_on(row, actor):
            return row
    return session.scalars(my_tasks(actor, limit=1)).first()
