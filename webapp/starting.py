"""Who may start which process by hand (the API and the pages ask the same question here)."""

from __future__ import annotations

from casefile.roles import NON_TASK_ROLES
from engine import Actor, Engine
from engine.models import ProcessVersion
from engine.starting import start_roles


def may_start(engine: Engine, version: ProcessVersion, actor: Actor) -> bool:
    """Whether the actor holds the role of the lane the process's start event lies in.

    A start event outside any lane lets every role that receives tasks start the process; a process
    that starts only on a message or a timer is never started by hand. Starting also needs an
    organisation: the instance and its tasks belong to it.
    """
    if not actor.organisation:
        return False
    spec, _ = engine.specs.get(version)
    roles = start_roles(spec, engine.lane_role)
    if roles is None:
        return bool(actor.roles - NON_TASK_ROLES)
    return bool(roles & actor.roles)
