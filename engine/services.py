"""Named operations that BPMN service tasks call.

The application registers its operations (e.g. the casefile ones) by name; the script engine looks them up
when a ``spiffworkflow:serviceTaskOperator`` runs, so the engine never imports the code it calls.
Every operation is called with a :class:`ServiceContext` first: the database session of the step, so
that what it writes commits or rolls back with the instance, and the instance and person behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from engine.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ServiceContext:
    """Where a service operation runs: the step's session, instance and the person who caused the step."""

    session: Session
    instance_id: int
    process_id: str
    organisation: str | None
    actor: str
    business_key: str | None = None


_current_context: ContextVar[ServiceContext | None] = ContextVar("pis2_service_context", default=None)


@contextmanager
def service_context(context: ServiceContext) -> Iterator[None]:
    """Make ``context`` the one service operations receive while an instance steps."""
    token = _current_context.set(context)
    try:
        yield
    finally:
        _current_context.reset(token)


class ServiceRegistry:
    """A mapping of operation names to the callables that implement them."""

    def __init__(self) -> None:
        self._operations: dict[str, Callable[..., Any]] = {}

    def register(self, name: str, func: Callable[..., Any]) -> None:
        """Register ``func`` under ``name``; a name can be registered only once."""
        if name in self._operations:
            raise ValueError(f"service operation '{name}' is already registered")
        self._operations[name] = func

    def operation(self, name: str) -> Callable[[F], F]:
        """Decorator form of :meth:`register`: ``@registry.operation("name")``."""

        def decorator(func: F) -> F:
            self.register(name, func)
            return func

        return decorator

    def names(self) -> list[str]:
        """Return the registered operation names, sorted."""
        return sorted(self._operations)

    def __contains__(self, name: object) -> bool:
        return name in self._operations

    def call(self, name: str, params: dict[str, Any]) -> Any:
        """Call operation ``name`` with the current context and ``params`` as keyword arguments."""
        try:
            func = self._operations[name]
        except KeyError:
            raise ServiceError(f"unknown service operation '{name}'", operation=name) from None
        context = _current_context.get()
        if context is None:
            raise ServiceError(f"service operation '{name}' called outside an instance step", operation=name)
        return func(context, **params)
