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

import importlib as _importlib
import logging
import typing as _typing

if _typing.TYPE_CHECKING:
    from rootkeys._checks import CloudWatchAlarmCheck, DriftCheck, HttpHealthCheck
    from rootkeys._clock import Clock, SystemClock
    from rootkeys._decide import Next
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
    from rootkeys._journal import (
        Journal,
        JournalRecord,
        KeyHistory,
        RecordKind,
        default_journal_path,
    )
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
    from rootkeys._orgreports import (
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
        PlannedKey,
        RemovalReport,
        RunOutcome,
    )
    from rootkeys._retry import BOTO_CONFIG, RetryPolicy
    from rootkeys._status import RemovalStatus

    __version__: str

logging.getLogger("rootkeys").addHandler(logging.NullHandler())

# Each public name and the private module it lives in. The modules are imported when a
# name is first asked for (PEP 562), so `import rootkeys` costs almost nothing, and a
# single-account tool never loads the organization, checks or evidence machinery.
_MODULES: dict[str, tuple[str, ...]] = {
    "_checks": ("CloudWatchAlarmCheck", "DriftCheck", "HttpHealthCheck"),
    "_clock": ("Clock", "SystemClock"),
    "_decide": ("Next",),
    "_errors": (
        "AWSError",
        "AccessDeniedError",
        "AccountMismatchError",
        "EndpointError",
        "IllegalTransitionError",
        "InputError",
        "InvalidCredentialsError",
        "JournalError",
        "JournalLockedError",
        "KeyNotFoundError",
        "LimitExceededError",
        "NotRootError",
        "OrganizationSetupError",
        "ProtectedKeyError",
        "QuarantineBlockedError",
        "RootKeysError",
        "ServiceError",
        "ThrottledError",
    ),
    "_findings": (
        "CloudTrailEvidence",
        "Count",
        "CredentialReportRow",
        "KeyEvidence",
        "Preflight",
        "RemovalPolicy",
        "ReportKey",
        "Risk",
    ),
    "_journal": ("Journal", "JournalRecord", "KeyHistory", "RecordKind", "default_journal_path"),
    "_lifecycle": ("TRANSITIONS",),
    "_manager": ("RootKeyManager",),
    "_models": (
        "AccessKey",
        "Action",
        "CallerIdentity",
        "KeyState",
        "KeyStatus",
        "LastUsed",
        "ObservedKey",
        "Step",
        "StepResult",
        "StepStatus",
    ),
    "_observe": ("Check", "CheckResult", "Event", "EventKind", "Hook"),
    "_org": ("Organization",),
    "_orgreports": (
        "AccountAudit",
        "AccountOutcome",
        "AccountRemoval",
        "AuditStatus",
        "OrganizationReport",
        "QuarantineStatus",
    ),
    "_reports": (
        "CheckFailure",
        "KeyOutcome",
        "KeyReport",
        "Plan",
        "PlannedKey",
        "RemovalReport",
        "RunOutcome",
    ),
    "_retry": ("BOTO_CONFIG", "RetryPolicy"),
    "_status": ("RemovalStatus",),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}


if not _typing.TYPE_CHECKING:  # hidden from type checkers, so a misspelt name is still an error

    def __getattr__(name: str) -> object:
        """Import the module behind a public name on first use; ``__version__`` from metadata."""
        if name in _EXPORTS:
            value = getattr(_importlib.import_module(f"rootkeys.{_EXPORTS[name]}"), name)
            globals()[name] = value
            return value
        if name == "__version__":
            from importlib.metadata import PackageNotFoundError, version

            try:
                return version("rootkeys")
            except PackageNotFoundError:  # pragma: no cover - running from a source tree
                return "0.0.0"
        raise AttributeError(f"module 'rootkeys' has no attribute {name!r}")

    def __dir__() -> list[str]:
        """The module's names, the ones not yet imported included."""
        return sorted({*globals(), *_EXPORTS, "__version__"})


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
    "KeyReport",
    "KeyState",
    "KeyStatus",
    "LastUsed",
    "LimitExceededError",
    "Next",
    "NotRootError",
    "ObservedKey",
    "Organization",
    "OrganizationReport",
    "OrganizationSetupError",
    "Plan",
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
    "Step",
    "StepResult",
    "StepStatus",
    "SystemClock",
    "ThrottledError",
    "__version__",
    "default_journal_path",
]
