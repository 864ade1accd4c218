"""Notifications: built-in hooks that tell people each account's outcome (SNS, a webhook)."""

from rootkeys._notify import (
    DEFAULT_OUTCOMES,
    SCHEMA_VERSION,
    NotificationError,
    SnsNotifier,
    WebhookNotifier,
    notification,
)

__all__ = [
    "DEFAULT_OUTCOMES",
    "SCHEMA_VERSION",
    "NotificationError",
    "SnsNotifier",
    "WebhookNotifier",
    "notification",
]
