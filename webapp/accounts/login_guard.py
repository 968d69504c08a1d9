"""In-process defences of the login form that need no database: a per-address failure limit, and
lockouts for usernames that do not exist.

Both live in the memory of one process: with several server processes each keeps its own counts,
so the address limit is "per process" (a front proxy can add a shared one). Account lockouts of real
users are stored on the user row (casefile.accounts) and hold across processes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Any

from casefile.accounts import LoginPolicy

MAX_TRACKED = 10_000  # keys kept per table; the oldest are forgotten first, so memory stays bounded


class LoginGuard:
    """Counts failed logins per client address and per unknown username."""

    def __init__(self, policy: LoginPolicy, address_limit: int, address_window: timedelta) -> None:
        self.policy = policy
        self.address_limit = address_limit
        self.address_window = address_window
        self._failures_by_address: OrderedDict[str, deque[datetime]] = OrderedDict()
        # Unknown usernames lock like real ones, so the login page never tells whether a name exists.
        self._unknown: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def address_retry_after(self, address: str, now: datetime) -> int | None:
        """Seconds until ``address`` may try again, or None when it is under the limit."""
        if self.address_limit <= 0:
            return None
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self.address_limit:
                return None
            return max(1, int((failures[0] + self.address_window - now).total_seconds()) + 1)

    def note_address_failure(self, address: str, now: datetime) -> None:
        """Count a failed login from ``address``."""
        if self.address_limit <= 0:
            return
        with self._lock:
            self._recent(address, now).append(now)
            self._failures_by_address.move_to_end(address)
            _trim(self._failures_by_address)

    def unknown_name_locked(self, username: str, now: datetime) -> bool:
        """Whether an unknown username is "locked" as a real account would be."""
        with self._lock:
            _failures, until = self._unknown.get(username, (0, None))
            return until is not None and until > now

    def note_unknown_name_failure(self, username: str, now: datetime) -> bool:
        """Count a login with an unknown username; True when it now counts as locked."""
        with self._lock:
            failures, until = self._unknown.pop(username, (0, None))
            if until is not None and until <= now:
                failures, until = 0, None
            failures += 1
            if failures >= self.policy.max_failures:
                until = now + self.policy.lock_for
            self._unknown[username] = (failures, until)
            _trim(self._unknown)
            return until is not None

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        failures = self._failures_by_address.setdefault(address, deque())
        while failures and failures[0] <= now - self.address_window:
            failures.popleft()
        return failures


def _trim(table: OrderedDict[str, Any]) -> None:
    while len(table) > MAX_TRACKED:
        table.popitem(last=False)
