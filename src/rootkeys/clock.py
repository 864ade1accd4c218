"""Where rootkeys' time comes from (tests pass a fake one)."""

from rootkeys._clock import Clock, SystemClock

__all__ = [
    "Clock",
    "SystemClock",
]
