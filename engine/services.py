"""Named operations that BPMN service tasks call.

The application registers its operations (e.g. the casefile ones) by name; the script engine looks them up
when a ``spiffworkflow:serviceTaskOperator`` runs, so the engine never imports the code it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engine.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])


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
        """Call operation ``name`` with ``params`` as keyword arguments and return its result."""
        try:
            func = self._operations[name]
        except KeyError:
            raise ServiceError(f"unknown service operation '{name}'", operation=name) from None
        return func(**params)
