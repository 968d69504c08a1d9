"""Persistent engine state: model versions, instances, projected tasks, timers, messages, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always handed back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the engine's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class ProcessVersion(Base):
    """One deployed content of one process model, stored once per content hash."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),
                      UniqueConstraint("process_id", "number", name="uq_process_version_number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    # What people call the version: 1, 2, 3… within its process (the id runs across all processes).
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(300))
    # Read only when a version's spec is parsed (once per process, then cached): not on every load.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    # The DMN files and JSON Schema forms the model uses, frozen with it so that an instance keeps
    # running against exactly what it was started with.
    dmn_files: Mapped[dict[str, Any]] = mapped_column(default=dict, deferred=True)
    forms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    start_messages: Mapped[list[Any]] = mapped_column(default=list)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(150))


class ProcessInstance(Base):
    """A running or finished process instance; ``state`` is the serialized workflow without its spec."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    organisation: Mapped[str | None] = mapped_column(String(100))
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    started_by: Mapped[str | None] = mapped_column(String(150))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined")

    # Optimistic locking: every UPDATE carries "WHERE version = <read version>".
    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """A user or manual task projected out of the workflow state so task lists never deserialize."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_role_queue", "status", "role", "organisation", "assigned_user", "queue_order"),
        Index("ix_human_task_user_queue", "status", "assigned_user", "queue_order"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    # Copied from the instance so that task lists need no join.
    process_name: Mapped[str | None] = mapped_column(String(300))
    business_key: Mapped[str | None] = mapped_column(String(200))
    task_spec_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    organisation: Mapped[str | None] = mapped_column(String(100))
    assigned_user: Mapped[str | None] = mapped_column(String(150))
    form_key: Mapped[str | None] = mapped_column(String(300))
    ui_form_key: Mapped[str | None] = mapped_column(String(300))
    instructions: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    # due_at, or a far-future constant when there is none: task lists sort on it through an index.
    queue_order: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(150))


class TaskDraft(Base):
    """What a user typed into a task's form and saved without completing it (one draft per task)."""

    __tablename__ = "task_draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class Timer(Base):
    """A waiting timer event with its due time, claimed by workers with row locks."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_spec_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(index=True)


class MessageSubscription(Base):
    """A catching message event waiting in an instance, with the correlation values it expects."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    # The catching element (None on rows older than migration 0007): where the dashboard draws the wait.
    task_spec_id: Mapped[str | None] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200), index=True)
    correlations: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Message(Base):
    """A thrown message and what became of it; undeliverable ones stay visible here."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    correlations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), index=True)
    source_instance_id: Mapped[int | None] = mapped_column(Integer)
    target_instance_id: Mapped[int | None] = mapped_column(Integer)
    # The organisation a process started by this message belongs to (a thrown message: its sender's).
    organisation: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class Incident(Base):
    """An error inside an instance (script, service) that stopped it until somebody retries."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec_id: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    stack: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(150))


class AuditEvent(Base):
    """Append-only record of what happened to an instance, and who did it."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FormDefinition(Base):
    """A JSON Schema form saved by an analyst in the form editor; it wins over the forms directory's file.

    ``name`` is the form's plain name: the model references ``<name>.schema.json`` and
    ``<name>.uischema.json``. A deployed version freezes its own copy, so editing never moves instances.
    """

    __tablename__ = "form_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    ui_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
