"""Time, injectable: the manager never reads the wall clock or sleeps behind your back.

Tests and the sandbox pass a clock whose ``sleep`` only moves time forward, so a
seven-day observation window runs in milliseconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from rootkeys._errors import InputError
from rootkeys._public import rehome

__all__ = ["Clock", "SystemClock", "clock_or_default"]


@runtime_checkable
class Clock(Protocol):
    """What rootkeys needs of time: the current moment, and a way to wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (never negative)."""
        ...


class SystemClock:
    """The real clock: `datetime.now` in UTC and `time.sleep`."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


def clock_or_default(clock: object) -> Clock:
    """``clock``, checked to be a `Clock`; the real one when None."""
    if clock is None:
        return SystemClock()
    if not isinstance(clock, Clock):
        raise InputError("clock must have now() and sleep(seconds) methods")
    return clock


rehome(globals())
