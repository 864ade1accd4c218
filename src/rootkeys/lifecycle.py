"""A root access key (or signing certificate) and its lifecycle: states, statuses, moves."""

from rootkeys._lifecycle import TRANSITIONS
from rootkeys._models import (
    AccessKey,
    Action,
    CallerIdentity,
    CredentialKind,
    KeyState,
    KeyStatus,
    LastUsed,
)

__all__ = [
    "TRANSITIONS",
    "AccessKey",
    "Action",
    "CallerIdentity",
    "CredentialKind",
    "KeyState",
    "KeyStatus",
    "LastUsed",
]
