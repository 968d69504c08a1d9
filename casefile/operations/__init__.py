"""The case file's named operations: every write to the programme's records goes through one of them.

``execute(session, name, payload, caller)`` runs one; ``OPERATIONS`` lists them all. Importing this
package registers every operation module below.
"""

from casefile.operations import accompaniment, cases, households, housing, money  # noqa: F401 - registers
from casefile.operations.base import OPERATIONS, Caller, Operation, OperationContext, execute

__all__ = ["OPERATIONS", "Caller", "Operation", "OperationContext", "execute"]
