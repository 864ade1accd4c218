"""Retrying AWS calls: the policy, and the botocore settings rootkeys' clients use."""

from rootkeys._retry import BOTO_CONFIG, RetryPolicy

__all__ = [
    "BOTO_CONFIG",
    "RetryPolicy",
]
