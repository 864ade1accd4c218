"""Findings about root credentials, the controls they map to, and their export formats.

A `Finding` is one check's verdict on one account (or organization), naming the
controls a security team is measured on: AWS Security Hub (AWS Foundational Security
Best Practices) IAM.4, IAM.6 and IAM.9, the CIS AWS Foundations Benchmark's 1.4, 1.5
and 1.6, and the Prowler checks of the same names. It exports as a row (table, CSV),
as JSON (``model_dump``) and as an OCSF Detection Finding (class 2004), the shape
Prowler emits, so the results go where a team's other findings go. No finding holds a
secret: credential ids, serial numbers and dates only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict

from rootkeys._public import rehome

__all__ = [
    "CHECKS",
    "Finding",
    "FindingStatus",
    "RootCheck",
    "Severity",
    "ocsf_finding",
]


class FindingStatus(StrEnum):
    """A check's verdict, as Prowler and AWS Config write it."""

    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    """The check does not apply: AWS Config answers so for the MFA rules when the root
    user has no credentials (no password, access key or signing certificate)."""


class Severity(StrEnum):
    """A finding's severity, with OCSF's ``severity_id`` (`id`)."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"

    @property
    def id(self) -> int:
        """OCSF ``severity_id``: Low 2, Medium 3, High 4, Critical 5."""
        return {"Low": 2, "Medium": 3, "High": 4, "Critical": 5}[self.value]


class RootCheck(BaseModel):
    """One check rootkeys runs on root credentials, and the controls it maps to."""

    model_config = ConfigDict(frozen=True)

    uid: str
    title: str
    severity: Severity
    controls: Mapping[str, tuple[str, ...]]
    """Each framework and its control ids: ``{"AWS-Security-Hub": ("IAM.4",), ...}``."""
    remediation: str


_SECURITY_HUB = "AWS-Foundational-Security-Best-Practices"
_CIS = "CIS-AWS-Foundations-Benchmark"
_PROWLER = "Prowler"

CHECKS: Mapping[str, RootCheck] = MappingProxyType(
    {
        c.uid: c
        for c in (
            RootCheck(
                uid="root_no_access_key",
                title="The root user has no access key",
                severity=Severity.CRITICAL,
                controls={
                    _SECURITY_HUB: ("IAM.4",),
                    _CIS: ("1.4",),
                    _PROWLER: ("iam_no_root_access_key",),
                },
                remediation="Remove them safely: rootkeys remove (deactivate, observe, delete).",
            ),
            RootCheck(
                uid="root_mfa_enabled",
                title="The root user has MFA",
                severity=Severity.CRITICAL,
                controls={
                    _SECURITY_HUB: ("IAM.9",),
                    _CIS: ("1.5",),
                    _PROWLER: ("iam_root_mfa_enabled",),
                },
                remediation="Sign in as root and assign an MFA device (console only); or, "
                "in a member account, remove every root credential instead.",
            ),
            RootCheck(
                uid="root_hardware_mfa_enabled",
                title="The root user's MFA is hardware",
                severity=Severity.CRITICAL,
                controls={
                    _SECURITY_HUB: ("IAM.6",),
                    _CIS: ("1.6",),
                    _PROWLER: ("iam_root_hardware_mfa_enabled",),
                },
                remediation="Assign a hardware MFA device (a FIDO security key or a "
                "hardware TOTP token) and remove the virtual one.",
            ),
            RootCheck(
                uid="root_no_signing_certificate",
                title="The root user has no X.509 signing certificate",
                severity=Severity.HIGH,
                controls={},
                remediation="Delete the root user's signing certificates (in a member "
                "account: an IAMDeleteRootUserCredentials session).",
            ),
            RootCheck(
                uid="member_root_no_password",
                title="The member account's root user has no password",
                severity=Severity.MEDIUM,
                controls={},
                remediation="With centralized root access, AWS recommends member "
                "accounts keep no root password: delete it (IAMDeleteRootUserCredentials); "
                "password recovery (IAMCreateRootUserPassword) brings it back.",
            ),
            RootCheck(
                uid="root_credentials_management_enabled",
                title="Centralized root access (root credentials management) is enabled",
                severity=Severity.HIGH,
                controls={_PROWLER: ("iam_root_credentials_management_enabled",)},
                remediation="Enable it in the management account: "
                "iam:EnableOrganizationsRootCredentialsManagement.",
            ),
        )
    }
)
"""Every check, by uid. Control ids: AWS Security Hub controls reference (IAM.4, IAM.6,
IAM.9), CIS AWS Foundations Benchmark v1.4.0 to v3.0.0 (1.4, 1.5, 1.6), Prowler checks."""


class Finding(BaseModel):
    """One check's verdict on one account's root user (or on the organization).

    Attributes:
        check: the `RootCheck` uid (see `CHECKS`).
        account_id: the account judged (the management account for an organization check).
        status: PASS, FAIL or NOT_APPLICABLE.
        detail: what was seen, in a sentence (ids and dates only, never a secret).
        resource: the resource judged: the root user's ARN, or the organization's id.
        time: when it was seen.
    """

    model_config = ConfigDict(frozen=True)

    check: str
    account_id: str
    status: FindingStatus
    detail: str
    resource: str
    time: datetime

    @property
    def definition(self) -> RootCheck:
        """The check this finding is a verdict of."""
        return CHECKS[self.check]

    @property
    def controls(self) -> tuple[str, ...]:
        """Every control id it maps to, framework first: ``("AWS-...: IAM.4", ...)``."""
        return tuple(
            f"{framework}: {control}"
            for framework, ids in self.definition.controls.items()
            for control in ids
        )

    def row(self) -> dict[str, str]:
        """A flat row for CSV and tables."""
        return {
            "account_id": self.account_id,
            "check": self.check,
            "status": self.status.value,
            "severity": self.definition.severity.value,
            "controls": "; ".join(self.controls),
            "resource": self.resource,
            "detail": self.detail,
            "time": self.time.astimezone(UTC).isoformat(),
        }


def ocsf_finding(finding: Finding, *, version: str, partition: str = "aws") -> dict[str, Any]:
    """``finding`` as an OCSF Detection Finding (class 2004), as Prowler emits them.

    Args:
        finding: the finding.
        version: rootkeys' version, for ``metadata.product.version``.
        partition: the AWS partition of the account (``resources[].cloud_partition``).
    """
    check = finding.definition
    seconds = int(finding.time.timestamp())
    when = finding.time.astimezone(UTC).isoformat()
    return {
        "message": finding.detail,
        "metadata": {
            "event_code": check.uid,
            "product": {
                "uid": "rootkeys",
                "name": "rootkeys",
                "vendor_name": "rootkeys",
                "version": version,
            },
            "profiles": ["cloud", "datetime"],
            "version": "1.4.0",
        },
        "severity_id": check.severity.id,
        "severity": check.severity.value,
        "status_id": 1,
        "status": "New",
        "status_code": finding.status.value,
        "status_detail": finding.detail,
        "activity_id": 1,
        "activity_name": "Create",
        "finding_info": {
            "uid": f"rootkeys-aws-{check.uid}-{finding.account_id}",
            "title": check.title,
            "desc": f"{check.title} ({', '.join(finding.controls) or 'rootkeys check'}).",
            "created_time": seconds,
            "created_time_dt": when,
            "types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        },
        "remediation": {"desc": check.remediation, "references": []},
        "resources": [
            {
                "uid": finding.resource,
                "name": "<root_account>" if ":root" in finding.resource else finding.resource,
                "type": "AwsAccount" if ":root" in finding.resource else "Other",
                "group": {"name": "iam"},
                "cloud_partition": partition,
                "region": "global",
                "labels": [],
            }
        ],
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "time": seconds,
        "time_dt": when,
        "cloud": {
            "provider": "aws",
            "region": "global",
            "account": {"uid": finding.account_id, "type": "AWS Account", "type_id": 10},
        },
        "unmapped": {
            "compliance": {framework: list(ids) for framework, ids in check.controls.items()},
        },
    }


rehome(globals())
