"""Where rootkeys' time comes from (tests pass a fake one)."""

from rootkeys._clock import Clock, SystemClock, parse_duration

__all__ = [
    "Clock",
    "SystemClock",
    "parse_duration",
]
