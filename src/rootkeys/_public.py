"""Where each public name lives: the module its reprs, tracebacks and docs show.

Names are defined in private modules and exported from `rootkeys` or one of its public
submodules (`rootkeys.errors`, `.checks`, `.config`, `.reports`, `.journal`, `.lifecycle`,
`.notify`, `.retry`, `.clock`).
Each private module calls `rehome` last, so an object shows its public home
(``rootkeys.Plan``, ``rootkeys.errors.ThrottledError``) however it was reached.
"""

from __future__ import annotations

__all__ = ["HOMES", "package_version", "rehome"]


def package_version() -> str:
    """The installed rootkeys' version (``rootkeys.__version__``); 0.0.0 from a bare tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rootkeys")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


HOMES: dict[str, str] = {
    "AccountLine": "rootkeys.aws_lambda",
    "Continuation": "rootkeys.aws_lambda",
    "Handler": "rootkeys.aws_lambda",
    "LambdaConfig": "rootkeys.config",
    "LambdaContext": "rootkeys.aws_lambda",
    "OrganizationConfig": "rootkeys.config",
    "ScheduledRunReport": "rootkeys.aws_lambda",
    "AWSError": "rootkeys.errors",
    "AccessDeniedError": "rootkeys.errors",
    "AccessKey": "rootkeys",
    "AccountAudit": "rootkeys",
    "AccountMismatchError": "rootkeys.errors",
    "AccountOutcome": "rootkeys",
    "AccountRemoval": "rootkeys",
    "Action": "rootkeys.lifecycle",
    "AlarmCheckConfig": "rootkeys.config",
    "AuditStatus": "rootkeys.reports",
    "CallerIdentity": "rootkeys.lifecycle",
    "Check": "rootkeys",
    "CheckFailure": "rootkeys.reports",
    "CheckResult": "rootkeys",
    "ChecksConfig": "rootkeys.config",
    "Clock": "rootkeys.clock",
    "CloudTrailEvidence": "rootkeys.reports",
    "CloudWatchAlarmCheck": "rootkeys.checks",
    "CommandCheck": "rootkeys.checks",
    "CommandCheckConfig": "rootkeys.config",
    "Config": "rootkeys.config",
    "ConfigError": "rootkeys.errors",
    "Count": "rootkeys.reports",
    "CredentialKind": "rootkeys.lifecycle",
    "CredentialReportRow": "rootkeys.reports",
    "DriftCheck": "rootkeys.checks",
    "EndpointError": "rootkeys.errors",
    "Event": "rootkeys",
    "EventKind": "rootkeys",
    "Finding": "rootkeys.reports",
    "FindingStatus": "rootkeys.reports",
    "Hook": "rootkeys",
    "HttpCheckConfig": "rootkeys.config",
    "HttpHealthCheck": "rootkeys.checks",
    "IllegalTransitionError": "rootkeys.errors",
    "InputError": "rootkeys",
    "InvalidCredentialsError": "rootkeys.errors",
    "Journal": "rootkeys",
    "JournalError": "rootkeys.errors",
    "JournalFencedError": "rootkeys.errors",
    "JournalLockedError": "rootkeys.errors",
    "JournalRecord": "rootkeys.journal",
    "KeyEvidence": "rootkeys.reports",
    "KeyHistory": "rootkeys.journal",
    "Lease": "rootkeys.journal",
    "KeyNotFoundError": "rootkeys.errors",
    "KeyOutcome": "rootkeys",
    "KeyReport": "rootkeys",
    "KeyState": "rootkeys",
    "KeyStatus": "rootkeys.lifecycle",
    "LastUsed": "rootkeys.lifecycle",
    "LimitExceededError": "rootkeys.errors",
    "MfaDevice": "rootkeys.reports",
    "MfaKind": "rootkeys.reports",
    "NotificationError": "rootkeys.notify",
    "NotifyConfig": "rootkeys.config",
    "Next": "rootkeys",
    "NotManagementAccountError": "rootkeys.errors",
    "NotRootError": "rootkeys",
    "ObservedKey": "rootkeys",
    "Organization": "rootkeys",
    "OrganizationReport": "rootkeys",
    "OrganizationSetupError": "rootkeys.errors",
    "Plan": "rootkeys",
    "PlannedKey": "rootkeys",
    "PolicyConfig": "rootkeys.config",
    "Preflight": "rootkeys.reports",
    "ProtectedKeyError": "rootkeys.errors",
    "QuarantineBlockedError": "rootkeys.errors",
    "QuarantineStatus": "rootkeys.reports",
    "RecordKind": "rootkeys.journal",
    "RemovalPolicy": "rootkeys",
    "RemovalReport": "rootkeys",
    "RemovalStatus": "rootkeys",
    "ReportKey": "rootkeys.reports",
    "RootAccess": "rootkeys.reports",
    "RootAccessRole": "rootkeys.reports",
    "RetryPolicy": "rootkeys",
    "Risk": "rootkeys.reports",
    "RootCheck": "rootkeys.reports",
    "RootCredentials": "rootkeys.reports",
    "ControlConfirmation": "rootkeys.reports",
    "RuleVerdict": "rootkeys.reports",
    "PasswordRecovery": "rootkeys.reports",
    "RootKeyManager": "rootkeys",
    "RootKeysError": "rootkeys",
    "RootPassword": "rootkeys.reports",
    "RunOutcome": "rootkeys",
    "ServiceError": "rootkeys.errors",
    "Severity": "rootkeys.reports",
    "SigningCertificate": "rootkeys.reports",
    "SnsNotifier": "rootkeys.notify",
    "SnsNotifyConfig": "rootkeys.config",
    "Step": "rootkeys.reports",
    "StepResult": "rootkeys",
    "StepStatus": "rootkeys.reports",
    "SystemClock": "rootkeys.clock",
    "ThrottledError": "rootkeys.errors",
    "WebhookNotifier": "rootkeys.notify",
    "WebhookNotifyConfig": "rootkeys.config",
    "WindowConfig": "rootkeys.config",
    "default_config_path": "rootkeys.config",
    "default_journal_path": "rootkeys.journal",
    "findings_csv": "rootkeys.reports",
    "load_config": "rootkeys",
    "notification": "rootkeys.notify",
    "parse_duration": "rootkeys.clock",
    "root_access_finding": "rootkeys.reports",
}
"""Each public class or function and its public module."""


def rehome(namespace: dict[str, object]) -> None:
    """Give each public name a private module defines its public home (its ``__module__``)."""
    module = namespace["__name__"]
    for name, home in HOMES.items():
        found = namespace.get(name)
        if found is not None and getattr(found, "__module__", None) == module:
            found.__module__ = home
