"""Checks: what judges, during a key's window, whether anything broke; the built-in ones."""

from rootkeys._checks import CloudWatchAlarmCheck, CommandCheck, DriftCheck, HttpHealthCheck
from rootkeys._models import ObservedKey
from rootkeys._observe import Check, CheckResult

__all__ = [
    "Check",
    "CheckResult",
    "CloudWatchAlarmCheck",
    "CommandCheck",
    "DriftCheck",
    "HttpHealthCheck",
    "ObservedKey",
]
