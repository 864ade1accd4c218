"""Every root credential of one account, read in one pass, and the findings it gives.

`read_root_credentials` reads, through one `IamGateway` signed as the root user (a root
session, or an AssumeRoot session under ``IAMAuditRootUserCredentials``), the root
user's access keys, signing certificates, password and MFA devices, and the account
summary. Every call it makes is in that task policy: ``ListAccessKeys``,
``GetAccessKeyLastUsed``, ``ListSigningCertificates``, ``GetLoginProfile``, ``GetUser``,
``ListMFADevices``, ``GetAccountSummary``. It only reads.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from rootkeys._controls import Finding, FindingStatus, ocsf_finding
from rootkeys._models import DEFAULT_KINDS, AccessKey, AccountId, CredentialKind, KeyStatus
from rootkeys._orgreports import AuditStatus
from rootkeys._public import package_version, rehome
from rootkeys._render import Table, Tabular, stamp

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rootkeys._iam import IamGateway

__all__ = [
    "CSV_COLUMNS",
    "MfaDevice",
    "MfaKind",
    "RootCredentials",
    "RootPassword",
    "SigningCertificate",
    "findings_csv",
    "read_root_credentials",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SigningCertificate(BaseModel):
    """One X.509 signing certificate of the root user (its id, not its body)."""

    model_config = _FROZEN

    certificate_id: str
    status: KeyStatus
    uploaded_at: datetime


class RootPassword(BaseModel):
    """The root user's console password: whether it exists, and its dates (never itself)."""

    model_config = _FROZEN

    exists: bool
    created_at: datetime | None = None
    last_used_at: datetime | None = Field(
        default=None, description="GetUser's PasswordLastUsed; None: never, or not recorded."
    )


class MfaKind(StrEnum):
    """How the root user's MFA device works."""

    VIRTUAL = "virtual"
    """An authenticator app: its serial number is an ARN ``...:mfa/<name>``."""
    HARDWARE = "hardware"
    """A hardware TOTP token (a serial number) or a FIDO security key (``...:u2f/...``)."""


class MfaDevice(BaseModel):
    """One MFA device assigned to the root user."""

    model_config = _FROZEN

    serial: str
    kind: MfaKind
    enabled_at: datetime


def mfa_kind(serial: str) -> MfaKind:
    """A device's kind from its serial: a virtual device's is an ARN with ``:mfa/``."""
    return MfaKind.VIRTUAL if serial.startswith("arn:") and ":mfa/" in serial else MfaKind.HARDWARE


class RootCredentials(Tabular, BaseModel):
    """Every credential of one account's root user, as one read saw it, and its findings.

    ``findings`` is computed from the credentials (and is in ``model_dump``): see
    `rootkeys.reports.CHECKS` for the checks and the controls they map to. ``member``
    says the account was read as a member of an organization (through AssumeRoot),
    where AWS recommends the root user keeps no password at all.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    name: str = ""
    status: AuditStatus = AuditStatus.AUDITED
    reason: str = ""
    member: bool = False
    partition: str = "aws"
    read_at: datetime
    keys: tuple[AccessKey, ...] = ()
    keys_present: bool | None = Field(
        default=None, description="AccountAccessKeysPresent: what IAM.4 and CIS 1.4 judge."
    )
    certificates: tuple[SigningCertificate, ...] = ()
    password: RootPassword = RootPassword(exists=False)
    mfa_devices: tuple[MfaDevice, ...] = ()

    @property
    def arn(self) -> str:
        """The root user's ARN."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def has_sign_in_credentials(self) -> bool:
        """Whether the root user has a password, an access key or a signing certificate."""
        return self.password.exists or bool(self.keys) or bool(self.certificates)

    def remaining(self, kinds: Iterable[CredentialKind] = DEFAULT_KINDS) -> tuple[str, ...]:
        """What is left of the credentials of ``kinds``, in words (empty: none remains).

        Access keys count when listed or when ``AccountAccessKeysPresent`` says so.
        """
        wanted = frozenset(kinds)
        left: list[str] = []
        if CredentialKind.KEYS in wanted and (self.keys or self.keys_present):
            left.append(f"{len(self.keys) or 'an unlisted'} root access key(s)")
        if CredentialKind.CERTIFICATES in wanted and self.certificates:
            left.append(f"{len(self.certificates)} signing certificate(s)")
        if CredentialKind.PASSWORD in wanted and self.password.exists:
            left.append("a root password")
        if CredentialKind.MFA in wanted and self.mfa_devices:
            left.append(f"{len(self.mfa_devices)} MFA device(s)")
        return tuple(left)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def findings(self) -> tuple[Finding, ...]:
        """Each check's verdict on this account (none when it could not be read)."""
        if self.status is not AuditStatus.AUDITED:
            return ()
        return tuple(_judge(self))

    @property
    def failed(self) -> tuple[Finding, ...]:
        """The findings that failed."""
        return tuple(f for f in self.findings if f.status is FindingStatus.FAIL)

    def to_ocsf(self, *, version: str | None = None) -> list[dict[str, Any]]:
        """Every finding as an OCSF Detection Finding (class 2004) dict, as Prowler emits."""
        shown = version or package_version()
        return [ocsf_finding(f, version=shown, partition=self.partition) for f in self.findings]

    def to_csv(self, *, header: bool = True) -> str:
        """Every finding as CSV rows (`CSV_COLUMNS`), with the header unless told not to."""
        return findings_csv(self.findings, header=header)

    def _table(self, wide: bool = False) -> Table:
        title = f"Root credentials of {self.account_id} {self.name}".rstrip()
        if self.status is not AuditStatus.AUDITED:
            return Table(f"{title}: {self.status.value}", (), (), after=[self.reason], empty="")
        rows: list[tuple[str, ...]] = []
        rows += [("access key", k.key_id, k.status.value, _when(k.created_at)) for k in self.keys]
        rows += [
            ("certificate", c.certificate_id, c.status.value, _when(c.uploaded_at))
            for c in self.certificates
        ]
        if self.password.exists:
            used = self.password.last_used_at
            rows.append(
                (
                    "password",
                    "",
                    "last used " + (_when(used) if used else "never"),
                    _when(self.password.created_at),
                )
            )
        rows += [
            ("MFA " + d.kind.value, d.serial, "enabled", _when(d.enabled_at))
            for d in self.mfa_devices
        ]
        after = [
            f"{f.status.value:<4} {f.check}: {f.detail}"
            + (f" [{', '.join(_short(c) for c in f.controls)}]" if f.controls else "")
            for f in self.findings
        ]
        return Table(
            title,
            ("credential", "id", "status", "since"),
            rows,
            after=after,
            empty="no root credentials",
        )


CSV_COLUMNS = (
    "account_id",
    "check",
    "status",
    "severity",
    "controls",
    "resource",
    "detail",
    "time",
)
"""The columns of the findings CSV, in order."""


def findings_csv(findings: Iterable[Finding], *, header: bool = True) -> str:
    """Findings as CSV text (`CSV_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for finding in findings:
        writer.writerow(finding.row())
    return out.getvalue()


def read_root_credentials(
    gateway: IamGateway,
    account_id: str,
    *,
    now: datetime,
    name: str = "",
    member: bool = False,
    partition: str = "aws",
) -> RootCredentials:
    """Read every root credential through ``gateway`` (a root or audit session): reads only.

    Raises:
        RootKeysError: an AWS call failed (the caller decides what that means).
    """
    keys = tuple(gateway.access_keys())
    summary = gateway.account_summary()
    certificates = tuple(
        SigningCertificate(certificate_id=i, status=s, uploaded_at=at)
        for i, s, at in gateway.signing_certificates()
    )
    created = gateway.login_profile()
    password = RootPassword(
        exists=created is not None,
        created_at=created,
        last_used_at=gateway.password_last_used(),
    )
    devices = tuple(
        MfaDevice(serial=serial, kind=mfa_kind(serial), enabled_at=at)
        for serial, at in gateway.mfa_devices()
    )
    return RootCredentials(
        account_id=account_id,
        name=name,
        member=member,
        partition=partition,
        read_at=now,
        keys=keys,
        keys_present=bool(summary.get("AccountAccessKeysPresent", 0)),
        certificates=certificates,
        password=password,
        mfa_devices=devices,
    )


def _judge(found: RootCredentials) -> list[Finding]:
    """Every check's verdict on one account's root credentials."""

    def verdict(check: str, fail: bool, detail: str, applies: bool = True) -> Finding:
        status = (
            FindingStatus.NOT_APPLICABLE
            if not applies
            else FindingStatus.FAIL
            if fail
            else FindingStatus.PASS
        )
        return Finding(
            check=check,
            account_id=found.account_id,
            status=status,
            detail=detail,
            resource=found.arn,
            time=found.read_at,
        )

    keys = ", ".join(f"{k.key_id} ({k.status.value})" for k in found.keys)
    has_keys = bool(found.keys) or bool(found.keys_present)
    kinds = {d.kind for d in found.mfa_devices}
    signs_in = found.has_sign_in_credentials
    no_credentials = "the root user has no password, access key or signing certificate"
    findings = [
        verdict(
            "root_no_access_key",
            has_keys,
            f"root access keys: {keys}" if keys else "no root access key",
        ),
        verdict(
            "root_mfa_enabled",
            not kinds,
            ("MFA: " + ", ".join(sorted(kinds)))
            if kinds
            else "no MFA device"
            if signs_in
            else no_credentials,
            applies=signs_in or bool(kinds),
        ),
        verdict(
            "root_hardware_mfa_enabled",
            kinds != {MfaKind.HARDWARE},
            "hardware MFA only"
            if kinds == {MfaKind.HARDWARE}
            else "a virtual MFA device"
            if MfaKind.VIRTUAL in kinds
            else "no MFA device"
            if signs_in
            else no_credentials,
            applies=signs_in or bool(kinds),
        ),
        verdict(
            "root_no_signing_certificate",
            bool(found.certificates),
            "signing certificates: "
            + ", ".join(f"{c.certificate_id} ({c.status.value})" for c in found.certificates)
            if found.certificates
            else "no signing certificate",
        ),
    ]
    if found.member:
        used = found.password.last_used_at
        findings.append(
            verdict(
                "member_root_no_password",
                found.password.exists,
                ("a root password, last used " + (_when(used) if used else "never"))
                if found.password.exists
                else "no root password",
            )
        )
    return findings


def _when(at: datetime | None) -> str:
    return stamp(at) if at else ""


def _short(control: str) -> str:
    framework, _, control_id = control.partition(": ")
    names = {
        "AWS-Foundational-Security-Best-Practices": "",
        "CIS-AWS-Foundations-Benchmark": "CIS ",
        "Prowler": "",
    }
    return names.get(framework, framework + " ") + control_id


rehome(globals())
