"""The sandbox's root signing certificates, password and MFA devices, as AWS answers them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import boto3
import botocore.exceptions
import pytest

from rootkeys.testing import MIXED, FakeClock, MemberCredentials, Sandbox, SandboxAccount

AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
RECOVER = "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----"


def _code(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(caught.value.response["Error"]["Code"])


def _assume(sandbox: Sandbox, target: str, arn: str) -> boto3.Session:
    sts = sandbox.management_session().client("sts", region_name="us-east-1")
    made = sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": arn})
    c = made["Credentials"]
    return sandbox._session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def _root_row(sandbox: Sandbox, clock: FakeClock, account_id: str) -> dict[str, str]:
    iam = sandbox.root_session(account_id).client("iam")
    iam.generate_credential_report()
    clock.advance(timedelta(seconds=1))
    with pytest.raises(botocore.exceptions.ClientError):
        iam.get_credential_report()  # ReportInProgress once, as AWS may answer
    text = iam.get_credential_report()["Content"].decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    (root,) = [r for r in rows if r["user"] == "<root_account>"]
    return root


def test_root_signing_certificates_follow_their_lifecycle(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """Upload (at most 2), list, make Inactive, delete: each without UserName, on root."""
    iam = sandbox.root_session(account.account_id).client("iam")
    first = iam.upload_signing_certificate(CertificateBody=PEM)["Certificate"]["CertificateId"]
    iam.upload_signing_certificate(CertificateBody=PEM)
    assert _code(iam.upload_signing_certificate, CertificateBody=PEM) == "LimitExceeded"
    iam.update_signing_certificate(CertificateId=first, Status="Inactive")
    listed = {
        c["CertificateId"]: c["Status"] for c in iam.list_signing_certificates()["Certificates"]
    }
    assert listed[first] == "Inactive"
    assert len(listed) == 2
    iam.delete_signing_certificate(CertificateId=first)
    assert first not in sandbox.root_signing_certificates(account.account_id)
    assert _code(iam.delete_signing_certificate, CertificateId=first) == "NoSuchEntity"


def test_root_password_is_a_login_profile_and_get_user_says_when_it_was_used(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """GetLoginProfile finds the password, GetUser gives PasswordLastUsed; deleted, it is gone."""
    used = clock.now() - timedelta(days=2)
    sandbox.set_root_password(account.account_id, last_used=used)
    iam = sandbox.root_session(account.account_id).client("iam")
    assert iam.get_login_profile()["LoginProfile"]["CreateDate"] == clock.now().replace(
        microsecond=0
    )
    assert iam.get_user()["User"]["PasswordLastUsed"] == used.replace(microsecond=0)
    iam.delete_login_profile()
    assert _code(iam.get_login_profile) == "NoSuchEntity"
    assert "PasswordLastUsed" not in iam.get_user()["User"]


def test_a_virtual_mfa_device_outlives_its_deactivation_until_deleted(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """A virtual device cannot be deleted while assigned; deactivated, it can; a hardware
    device is gone once deactivated."""
    virtual = sandbox.add_root_mfa_device(account.account_id, kind="virtual")
    hardware = sandbox.add_root_mfa_device(account.account_id, kind="hardware")
    iam = sandbox.root_session(account.account_id).client("iam")
    assert {d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]} == {
        virtual,
        hardware,
    }
    assert _code(iam.delete_virtual_mfa_device, SerialNumber=virtual) == "DeleteConflict"
    iam.deactivate_mfa_device(SerialNumber=virtual)
    iam.deactivate_mfa_device(SerialNumber=hardware)
    assert iam.list_mfa_devices()["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=virtual)
    assert _code(iam.delete_virtual_mfa_device, SerialNumber=virtual) == "NoSuchEntity"


def test_account_summary_reports_certificates_and_mfa(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """AccountSigningCertificatesPresent and AccountMFAEnabled follow the root user."""
    iam = sandbox.root_session(account.account_id).client("iam")

    def summary() -> tuple[int, int]:
        found = iam.get_account_summary()["SummaryMap"]
        return found["AccountSigningCertificatesPresent"], found["AccountMFAEnabled"]

    assert summary() == (0, 0)
    sandbox.add_root_signing_certificate(account.account_id, status="Inactive")
    sandbox.add_root_mfa_device(account.account_id, kind="hardware")
    assert summary() == (1, 1)


def test_the_credential_report_root_row_shows_every_credential(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """password_enabled/last_used, mfa_active and cert_N_active/last_rotated, as AWS
    writes them for the root user."""
    used = clock.now() - timedelta(days=1)
    sandbox.set_root_password(account.account_id, last_used=used)
    sandbox.add_root_mfa_device(account.account_id)
    sandbox.add_root_signing_certificate(account.account_id)
    clock.advance(timedelta(minutes=1))
    sandbox.add_root_signing_certificate(account.account_id, status="Inactive")
    root = _root_row(sandbox, clock, account.account_id)
    assert root["password_enabled"] == "true"
    assert root["password_last_used"] == used.isoformat()
    assert root["mfa_active"] == "true"
    assert (root["cert_1_active"], root["cert_2_active"]) == ("true", "false")
    assert root["cert_1_last_rotated"] < root["cert_2_last_rotated"]


def test_an_account_without_root_credentials_reports_none(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    """No password, no MFA, no certificate: false and N/A, and no_information for use."""
    account_id = sandbox.create_account(root_keys=0).account_id
    root = _root_row(sandbox, clock, account_id)
    assert (root["password_enabled"], root["password_last_used"]) == ("false", "no_information")
    assert (root["mfa_active"], root["cert_1_active"], root["cert_1_last_rotated"]) == (
        "false",
        "false",
        "N/A",
    )


def test_audit_session_reads_every_credential_without_a_denial(sandbox: Sandbox) -> None:
    """IAMAuditRootUserCredentials reads certificates, password, MFA and the summary."""
    org = sandbox.create_organization(members=1, credentials=[MIXED[2]])
    member = org.member_account_ids[0]
    iam = _assume(sandbox, member, AUDIT).client("iam")
    iam.list_signing_certificates()
    iam.get_login_profile()
    assert "PasswordLastUsed" in iam.get_user()["User"]
    assert len(iam.list_mfa_devices()["MFADevices"]) == 1
    iam.get_account_summary()
    assert sandbox.denials() == ()


@pytest.mark.parametrize(
    ("task", "call"),
    [
        (AUDIT, "delete_login_profile"),
        (AUDIT, "update_signing_certificate"),
        (DELETE, "update_signing_certificate"),
        (DELETE, "get_account_summary"),
        (DELETE, "create_login_profile"),
        (RECOVER, "delete_login_profile"),
        (RECOVER, "list_mfa_devices"),
    ],
    ids=lambda v: v.rsplit("/", 1)[-1] if isinstance(v, str) else v,
)
def test_a_call_outside_the_task_policy_is_denied_and_recorded(
    sandbox: Sandbox, task: str, call: str
) -> None:
    """AccessDenied, the credential untouched, and the denial in the sandbox's record."""
    org = sandbox.create_organization(members=1, credentials=[MIXED[3]])
    member = org.member_account_ids[0]
    iam = _assume(sandbox, member, task).client("iam")
    kwargs = {"CertificateId": "X" * 24, "Status": "Inactive"} if "certificate" in call else {}
    assert _code(getattr(iam, call), **kwargs) == "AccessDenied"
    assert sandbox.root_password(member)
    (denied,) = sandbox.denials(member)
    assert denied.denied_by == "task policy"


def test_delete_session_removes_every_credential(sandbox: Sandbox) -> None:
    """IAMDeleteRootUserCredentials deletes certificates, password and MFA, no denial."""
    spec = MemberCredentials(certificates=2, password=True, mfa=("virtual", "hardware"))
    org = sandbox.create_organization(members=1, credentials=[spec])
    member = org.member_account_ids[0]
    iam = _assume(sandbox, member, DELETE).client("iam")
    for cert in iam.list_signing_certificates()["Certificates"]:
        iam.delete_signing_certificate(CertificateId=cert["CertificateId"])
    iam.delete_login_profile()
    for device in iam.list_mfa_devices()["MFADevices"]:
        iam.deactivate_mfa_device(SerialNumber=device["SerialNumber"])
        if device["SerialNumber"].startswith("arn:"):
            iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    assert sandbox.root_signing_certificates(member) == {}
    assert not sandbox.root_password(member)
    assert sandbox.root_mfa_devices(member) == {}
    assert sandbox.denials() == ()


def test_password_recovery_creates_a_login_profile_without_a_password(
    sandbox: Sandbox,
) -> None:
    """IAMCreateRootUserPassword: CreateLoginProfile with no Password (AssumeRoot); one
    given is refused, and a password never reaches the call log."""
    org = sandbox.create_organization(members=1)
    member = org.member_account_ids[0]
    iam = _assume(sandbox, member, RECOVER).client("iam")
    assert _code(iam.create_login_profile, Password="Hunter2-secret!") == "ValidationError"
    iam.create_login_profile()
    assert sandbox.root_password(member)
    assert all("Hunter2" not in str(c.params) for c in sandbox.calls)
    assert sandbox.denials() == ()


def test_mixed_credentials_are_dealt_out_to_members(sandbox: Sandbox) -> None:
    """create_organization(credentials=MIXED) gives member n the n-th mix, in turn."""
    org = sandbox.create_organization(members=len(MIXED) + 1, credentials=MIXED)
    ids = org.member_account_ids
    assert sandbox.root_signing_certificates(ids[1]) != {}
    assert sandbox.root_mfa_devices(ids[4])
    assert not sandbox.root_password(ids[4])
    assert list(sandbox.root_mfa_devices(ids[5]).values()) == ["hardware"]
    assert sandbox.root_signing_certificates(ids[len(MIXED)]) == {}  # the mix starts over
