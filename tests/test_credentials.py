"""The audit of every root credential: one account, an organization, findings, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

import rootkeys
from rootkeys.reports import CHECKS, FindingStatus, MfaKind, RootCredentials
from rootkeys.testing import MIXED, FakeClock, MemberCredentials, Sandbox, SandboxAccount


def _status(found: RootCredentials, check: str) -> FindingStatus:
    (finding,) = [f for f in found.findings if f.check == check]
    return finding.status


def test_one_account_reads_every_root_credential(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """Keys, certificates (with status), password (with its last use) and MFA (by kind)."""
    used = clock.now() - timedelta(days=3)
    cert = sandbox.add_root_signing_certificate(account.account_id, status="Inactive")
    sandbox.set_root_password(account.account_id, last_used=used)
    serial = sandbox.add_root_mfa_device(account.account_id, kind="hardware")
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    assert {k.key_id for k in found.keys} == set(account.root_key_ids)
    assert [(c.certificate_id, c.status.value) for c in found.certificates] == [(cert, "Inactive")]
    assert found.password.exists
    assert found.password.last_used_at == used.replace(microsecond=0)
    assert [(d.serial, d.kind) for d in found.mfa_devices] == [(serial, MfaKind.HARDWARE)]


def test_reading_credentials_changes_nothing(sandbox: Sandbox, account: SandboxAccount) -> None:
    """credentials() is a read: no mutating call reaches the sandbox."""
    sandbox.add_root_signing_certificate(account.account_id)
    rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    assert sandbox.mutations(account.account_id) == ()


def test_an_iam_user_cannot_read_the_root_users_credentials(sandbox: Sandbox) -> None:
    """Signed by an IAM user, the calls would describe that user: refused before reading."""
    account_id = sandbox.create_account().account_id
    session = sandbox.iam_user_session(account_id, "alice")
    with pytest.raises(rootkeys.NotRootError):
        rootkeys.RootKeyManager(session).credentials()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (MemberCredentials(), {"root_mfa_enabled": "NOT_APPLICABLE"}),
        (
            MemberCredentials(password=True),
            {"root_mfa_enabled": "FAIL", "root_hardware_mfa_enabled": "FAIL"},
        ),
        (
            MemberCredentials(password=True, mfa=("virtual",)),
            {"root_mfa_enabled": "PASS", "root_hardware_mfa_enabled": "FAIL"},
        ),
        (
            MemberCredentials(password=True, mfa=("hardware",)),
            {"root_mfa_enabled": "PASS", "root_hardware_mfa_enabled": "PASS"},
        ),
        (MemberCredentials(certificates=1), {"root_no_signing_certificate": "FAIL"}),
        (MemberCredentials(), {"root_no_signing_certificate": "PASS"}),
    ],
    ids=["no-credentials", "password-only", "virtual", "hardware", "certificate", "none"],
)
def test_findings_judge_mfa_and_certificates(
    sandbox: Sandbox, spec: MemberCredentials, expected: dict[str, str]
) -> None:
    """MFA checks fail without MFA when root can sign in, and do not apply when it cannot
    (AWS Config's NOT_APPLICABLE); hardware MFA passes only with no virtual device."""
    account_id = sandbox.create_account(root_keys=0).account_id
    sandbox.give_root_credentials(account_id, spec)
    found = rootkeys.RootKeyManager(sandbox.root_session(account_id)).credentials()
    assert {check: _status(found, check).value for check in expected} == expected


def test_findings_name_the_controls(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Root keys fail IAM.4 and CIS 1.4; MFA maps to IAM.9/CIS 1.5 and IAM.6/CIS 1.6."""
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    by_check = {f.check: f for f in found.findings}
    assert by_check["root_no_access_key"].status is FindingStatus.FAIL
    assert (
        "AWS-Foundational-Security-Best-Practices: IAM.4" in by_check["root_no_access_key"].controls
    )
    assert "CIS-AWS-Foundations-Benchmark: 1.4" in by_check["root_no_access_key"].controls
    assert CHECKS["root_mfa_enabled"].controls["AWS-Foundational-Security-Best-Practices"] == (
        "IAM.9",
    )
    assert CHECKS["root_hardware_mfa_enabled"].controls["CIS-AWS-Foundations-Benchmark"] == ("1.6",)
    assert CHECKS["root_credentials_management_enabled"].controls["Prowler"] == (
        "iam_root_credentials_management_enabled",
    )


def test_ocsf_detection_findings_have_the_core_fields(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """Class 2004, type 200401, severity and status code, cloud account, resource, compliance."""
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    events = found.to_ocsf(version="9.9")
    assert len(events) == len(found.findings)
    event = next(e for e in events if e["metadata"]["event_code"] == "root_no_access_key")
    assert (event["class_uid"], event["category_uid"], event["type_uid"]) == (2004, 2, 200401)
    assert (event["activity_id"], event["severity_id"], event["status_code"]) == (1, 5, "FAIL")
    assert event["metadata"]["product"] == {
        "uid": "rootkeys",
        "name": "rootkeys",
        "vendor_name": "rootkeys",
        "version": "9.9",
    }
    assert set(event["finding_info"]) >= {"uid", "title", "desc"}
    assert event["cloud"]["provider"] == "aws"
    assert event["cloud"]["account"]["uid"] == account.account_id
    assert event["resources"][0]["uid"] == f"arn:aws:iam::{account.account_id}:root"
    assert event["unmapped"]["compliance"]["CIS-AWS-Foundations-Benchmark"] == ["1.4"]
    assert isinstance(event["time"], int)
    json.dumps(events)  # plain JSON


def test_exports_hold_no_secret(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Table, CSV, JSON and OCSF never contain a secret the sandbox handed out."""
    sandbox.set_root_password(account.account_id)
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    text = "".join(
        [found.table(), found.to_csv(), found.model_dump_json(), json.dumps(found.to_ocsf())]
    )
    assert not [s for s in sandbox.secrets() if s in text]


def test_csv_has_one_row_per_finding(sandbox: Sandbox, account: SandboxAccount) -> None:
    """The CSV's header and a row per finding, with the controls joined."""
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    rows = list(csv.DictReader(io.StringIO(found.to_csv())))
    assert [r["check"] for r in rows] == [f.check for f in found.findings]
    assert "IAM.4" in rows[0]["controls"]


def test_the_table_fits_100_columns(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Every credential and finding shown, no line past 100 columns."""
    sandbox.add_root_mfa_device(account.account_id)
    sandbox.add_root_signing_certificate(account.account_id)
    found = rootkeys.RootKeyManager(sandbox.root_session(account.account_id)).credentials()
    text = found.table()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "certificate" in text
    assert "MFA virtual" in text


def test_an_organization_of_ten_members_is_audited_in_policy(sandbox: Sandbox) -> None:
    """Ten members with a mix: each member's credentials read right, the management
    account out of reach, every call inside IAMAuditRootUserCredentials (no denial)."""
    org = sandbox.create_organization(members=10, root_keys=1, credentials=MIXED)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    made = len(sandbox.mutations())
    results = {r.account_id: r for r in organization.credentials()}
    assert results[org.management_account_id].status.value == "out of reach"
    for n, member in enumerate(org.member_account_ids):
        spec = MIXED[n % len(MIXED)]
        found = results[member]
        assert found.status.value == "audited"
        assert len(found.certificates) == spec.certificates
        assert found.password.exists == spec.password
        assert [d.kind.value for d in found.mfa_devices] == list(spec.mfa)
        assert _status(found, "member_root_no_password") is (
            FindingStatus.FAIL if spec.password else FindingStatus.PASS
        )
    assert sandbox.denials() == ()
    assert len(sandbox.mutations()) == made  # a read: nothing changed


def test_a_member_that_cannot_be_read_is_reported_failed(sandbox: Sandbox) -> None:
    """An AssumeRoot refusal fails that account only; the others are read."""
    org = sandbox.create_organization(members=3)
    broken = org.member_account_ids[1]
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    sandbox.inject_error(
        "AccessDenied", status=403, operation="ListSigningCertificates", account_id=broken, times=5
    )
    results = {r.account_id: r for r in organization.credentials(org.member_account_ids)}
    assert results[broken].status.value == "failed"
    assert results[broken].findings == ()
    others = [results[m] for m in org.member_account_ids if m != broken]
    assert all(r.status.value == "audited" for r in others)


def test_the_organization_finding_follows_root_credentials_management(
    sandbox: Sandbox,
) -> None:
    """PASS when centralized root access is on; FAIL, saying what is missing, when off."""
    sandbox.create_organization(members=1, root_features=False)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    off = organization.root_access_finding()
    assert off.status is FindingStatus.FAIL
    assert "RootCredentialsManagement" in off.detail
    organization.enable_root_access()
    assert organization.root_access_finding().status is FindingStatus.PASS


def test_bad_account_ids_are_refused_before_any_call(sandbox: Sandbox) -> None:
    """A lone string or a malformed id is an InputError, and nothing is called."""
    sandbox.create_organization(members=1)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    before = len(sandbox.calls)
    with pytest.raises(rootkeys.InputError):
        organization.credentials("123456789012")
    with pytest.raises(rootkeys.InputError):
        organization.credentials(["12345"])
    with pytest.raises(rootkeys.InputError):
        organization.credentials(ou="not-an-ou")
    assert len(sandbox.calls) == before
