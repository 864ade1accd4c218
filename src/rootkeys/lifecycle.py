"""A root access key and its lifecycle: states, statuses, the moves between them."""

from rootkeys._lifecycle import TRANSITIONS
from rootkeys._models import AccessKey, Action, CallerIdentity, KeyState, KeyStatus, LastUsed

__all__ = [
    "TRANSITIONS",
    "AccessKey",
    "Action",
    "CallerIdentity",
    "KeyState",
    "KeyStatus",
    "LastUsed",
]
