"""rootkeys: remove AWS root user access keys safely.

Deactivate each key, observe whether anything breaks, and only then delete it::

    import boto3, rootkeys
    from datetime import timedelta

    manager = rootkeys.RootKeyManager(boto3.Session(profile_name="root-of-prod"))
    print(manager.plan().table())
    report = manager.remove_all(observe_for=timedelta(hours=1))
    print(report.table())

`rootkeys.testing` holds a sandbox (on moto) to try it, and your hooks, without AWS.
"""

import logging

from rootkeys._checks import CloudWatchAlarmCheck, DriftCheck, HttpHealthCheck
from rootkeys._clock import Clock, SystemClock
from rootkeys._errors import (
    AccessDeniedError,
    AccountMismatchError,
    AWSError,
    EndpointError,
    IllegalTransitionError,
    InputError,
    InvalidCredentialsError,
    JournalError,
    JournalLockedError,
    KeyNotFoundError,
    LimitExceededError,
    NotRootError,
    OrganizationSetupError,
    ProtectedKeyError,
    QuarantineBlockedError,
    RootKeysError,
    ServiceError,
    ThrottledError,
)
from rootkeys._findings import (
    CloudTrailEvidence,
    Count,
    CredentialReportRow,
    KeyEvidence,
    Preflight,
    RemovalPolicy,
    ReportKey,
    Risk,
)
from rootkeys._journal import Journal, JournalRecord, KeyHistory, RecordKind, default_journal_path
from rootkeys._lifecycle import TRANSITIONS
from rootkeys._manager import RootKeyManager
from rootkeys._models import (
    AccessKey,
    Action,
    CallerIdentity,
    KeyState,
    KeyStatus,
    LastUsed,
    ObservedKey,
    Step,
    StepResult,
    StepStatus,
)
from rootkeys._observe import Check, CheckResult, Event, EventKind, Hook
from rootkeys._org import Organization
from rootkeys._orgrun import (
    AccountAudit,
    AccountOutcome,
    AccountRemoval,
    AuditStatus,
    OrganizationReport,
    QuarantineStatus,
)
from rootkeys._reports import (
    CheckFailure,
    KeyOutcome,
    KeyReport,
    Plan,
    PlannedAction,
    PlannedKey,
    RemovalReport,
    RunOutcome,
)
from rootkeys._retry import BOTO_CONFIG, RetryPolicy
from rootkeys._status import KeyProgress, RemovalStatus, Stage

logging.getLogger("rootkeys").addHandler(logging.NullHandler())


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed package's metadata when first asked for."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("rootkeys")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'rootkeys' has no attribute {name!r}")


__all__ = [
    "BOTO_CONFIG",
    "TRANSITIONS",
    "AWSError",
    "AccessDeniedError",
    "AccessKey",
    "AccountAudit",
    "AccountMismatchError",
    "AccountOutcome",
    "AccountRemoval",
    "Action",
    "AuditStatus",
    "CallerIdentity",
    "Check",
    "CheckFailure",
    "CheckResult",
    "Clock",
    "CloudTrailEvidence",
    "CloudWatchAlarmCheck",
    "Count",
    "CredentialReportRow",
    "DriftCheck",
    "EndpointError",
    "Event",
    "EventKind",
    "Hook",
    "HttpHealthCheck",
    "IllegalTransitionError",
    "InputError",
    "InvalidCredentialsError",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "JournalRecord",
    "KeyEvidence",
    "KeyHistory",
    "KeyNotFoundError",
    "KeyOutcome",
    "KeyProgress",
    "KeyReport",
    "KeyState",
    "KeyStatus",
    "LastUsed",
    "LimitExceededError",
    "NotRootError",
    "ObservedKey",
    "Organization",
    "OrganizationReport",
    "OrganizationSetupError",
    "Plan",
    "PlannedAction",
    "PlannedKey",
    "Preflight",
    "ProtectedKeyError",
    "QuarantineBlockedError",
    "QuarantineStatus",
    "RecordKind",
    "RemovalPolicy",
    "RemovalReport",
    "RemovalStatus",
    "ReportKey",
    "RetryPolicy",
    "Risk",
    "RootKeyManager",
    "RootKeysError",
    "RunOutcome",
    "ServiceError",
    "Stage",
    "Step",
    "StepResult",
    "StepStatus",
    "SystemClock",
    "ThrottledError",
    "__version__",
    "default_journal_path",
]
