"""What rootkeys tells you: plans, statuses, removal reports, evidence, organization reports."""

from rootkeys._compliance import ControlConfirmation, RuleVerdict
from rootkeys._controls import CHECKS, Finding, FindingStatus, RootCheck, Severity
from rootkeys._credentials import (
    MfaDevice,
    MfaKind,
    RootCredentials,
    RootPassword,
    SigningCertificate,
    findings_csv,
)
from rootkeys._decide import Next
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
from rootkeys._models import Step, StepResult, StepStatus
from rootkeys._org_credentials import PasswordRecovery, root_access_finding
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
    RemovalStatus,
    RunOutcome,
)
from rootkeys._root_access import RootAccess, RootAccessRole

__all__ = [
    "CHECKS",
    "AccountAudit",
    "AccountOutcome",
    "AccountRemoval",
    "AuditStatus",
    "CheckFailure",
    "CloudTrailEvidence",
    "ControlConfirmation",
    "Count",
    "CredentialReportRow",
    "Finding",
    "FindingStatus",
    "KeyEvidence",
    "KeyOutcome",
    "KeyReport",
    "MfaDevice",
    "MfaKind",
    "Next",
    "OrganizationReport",
    "PasswordRecovery",
    "Plan",
    "PlannedKey",
    "Preflight",
    "QuarantineStatus",
    "RemovalPolicy",
    "RemovalReport",
    "RemovalStatus",
    "ReportKey",
    "Risk",
    "RootAccess",
    "RootAccessRole",
    "RootCheck",
    "RootCredentials",
    "RootPassword",
    "RuleVerdict",
    "RunOutcome",
    "Severity",
    "SigningCertificate",
    "Step",
    "StepResult",
    "StepStatus",
    "findings_csv",
    "root_access_finding",
]
