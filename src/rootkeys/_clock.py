"""Time, injectable: the manager never reads the wall clock or sleeps behind your back.

Tests and the sandbox pass a clock whose ``sleep`` only moves time forward, so a
seven-day observation window runs in milliseconds.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from rootkeys._errors import InputError
from rootkeys._public import rehome

__all__ = ["Clock", "SystemClock", "clock_or_default", "parse_duration"]


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


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """A duration as people type it: ``7d``, ``12h``, ``1d12h``, ``30m``, ``45s``, ``2w``, ``0``.

    Units, largest first, each at most once: ``w`` weeks, ``d`` days, ``h`` hours,
    ``m`` minutes, ``s`` seconds. The forms `rootkeys` prints durations in (``7d``,
    ``1d12h``) read back as the same duration. The command line's ``--observe`` and
    the config file's windows and timeouts are read with it.

    Raises:
        InputError: anything else (a negative duration, a number without a unit, not a
            string).
    """
    given: object = text
    if not isinstance(given, str):
        raise InputError(f"a duration must be a string like '7d', not {type(given).__name__}")
    cleaned = given.strip().lower()
    found = _DURATION.fullmatch(cleaned)
    if cleaned == "0":
        return timedelta(0)
    if not cleaned or found is None:
        shown = repr(given[:20] + "…") if len(given) > 20 else repr(given)
        raise InputError(f"{shown} is not a duration: use forms like 7d, 12h, 1d12h, 30m, 45s or 0")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    try:
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise InputError(f"{given!r} is far too long a duration") from None


rehome(globals())
