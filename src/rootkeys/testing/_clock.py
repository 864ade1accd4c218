"""A clock for tests: ``sleep`` moves time forward at once, so windows of days take no time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """A `rootkeys.clock.Clock` whose time moves only when slept on or advanced.

    Args:
        start: the starting time (default: the real current time, in UTC).
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()
        self.slept = timedelta(0)
        """The total time slept on this clock."""

    def now(self) -> datetime:
        """The clock's current time."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Move time forward by ``seconds``, at once."""
        if seconds < 0:
            raise ValueError("cannot sleep a negative time")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self.slept += timedelta(seconds=seconds)

    def advance(self, by: timedelta) -> None:
        """Move time forward by ``by`` (not counted as sleep)."""
        with self._lock:
            self._now += by
