"""Who may start a process by hand: the roles of the lanes its plain start events lie in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition


def start_roles(spec: Any, lane_role: Callable[[str | None], str | None]) -> frozenset[str] | None:
    """The roles whose holders may start ``spec`` by hand; None when a plain start event lies in no lane.

    Only plain (none) start events count: a process that starts on a message or a timer is started by
    the engine, never by a person, so it yields an empty set.
    """
    roles: set[str] = set()
    for event in spec.start.outputs:
        if not isinstance(getattr(event, "event_definition", None), NoneEventDefinition):
            continue
        if event.lane is None:
            return None
        role = lane_role(event.lane)
        if role is not None:
            roles.add(role)
    return frozenset(roles)
