"""What rootkeys tells you: plans, statuses, removal reports, evidence, organization reports."""

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
    "AccountAudit",
    "AccountOutcome",
    "AccountRemoval",
    "AuditStatus",
    "CheckFailure",
    "CloudTrailEvidence",
    "Count",
    "CredentialReportRow",
    "KeyEvidence",
    "KeyOutcome",
    "KeyReport",
    "Next",
    "OrganizationReport",
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
    "RunOutcome",
    "Step",
    "StepResult",
    "StepStatus",
]
