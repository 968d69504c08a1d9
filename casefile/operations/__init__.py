"""The case file's named operations: every write to the programme's records goes through one of them.

``execute(session, name, payload, caller)`` runs one; ``OPERATIONS`` lists them all. Importing this
package registers every operation module below.
"""

# Importing a module registers its operations.
from casefile.operations import (  # noqa: F401
    accompaniment,
    cases,
    exits,
    households,
    housing,
    mediation,
    money,
    plans,
)
from casefile.operations.base import OPERATIONS, Caller, Operation, OperationContext, execute

__all__ = ["OPERATIONS", "Caller", "Operation", "OperationContext", "execute"]
