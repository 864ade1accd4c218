"""The scheduled run inside AWS: an AWS Lambda entry point (docs/lambda.md).

Point the function's handler at ``rootkeys.aws_lambda.handler``. Each invocation makes
one staged organization pass (``wait=False``) from the config file (``ROOTKEYS_CONFIG_S3``,
``ROOTKEYS_CONFIG`` or ``ROOTKEYS_CONFIG_TOML``) with the journal ``ROOTKEYS_JOURNAL``
names, stops before the function's time runs out, and invokes itself again to go on;
it returns, and prints as one JSON line, a `ScheduledRunReport`. Importing this module
loads nothing heavy: the organization machinery is imported by the first invocation.
"""

from rootkeys._scheduled import (
    CONFIG_S3_VARIABLE,
    CONFIG_TOML_VARIABLE,
    CONFIG_VARIABLE,
    JOURNAL_VARIABLE,
    AccountLine,
    Continuation,
    Handler,
    LambdaContext,
    ScheduledRunReport,
)

handler = Handler()
"""The entry point: ``handler(event, context)`` (a `Handler` with every default)."""

__all__ = [
    "CONFIG_S3_VARIABLE",
    "CONFIG_TOML_VARIABLE",
    "CONFIG_VARIABLE",
    "JOURNAL_VARIABLE",
    "AccountLine",
    "Continuation",
    "Handler",
    "LambdaContext",
    "ScheduledRunReport",
    "handler",
]
