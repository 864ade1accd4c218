"""The sandbox's stale reads (IAM's eventual consistency), kind by kind of root credential."""

from __future__ import annotations

import pytest

from rootkeys.errors import InputError
from rootkeys.testing import Sandbox, SandboxAccount

PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----"


def _certificates(iam: object) -> set[str]:
    listed = iam.list_signing_certificates()["Certificates"]  # type: ignore[attr-defined]
    return {c["CertificateId"] for c in listed}


def _mfa(iam: object) -> set[str]:
    listed = iam.list_mfa_devices()["MFADevices"]  # type: ignore[attr-defined]
    return {d["SerialNumber"] for d in listed}


def _has_password(iam: object) -> bool:
    try:
        iam.get_login_profile()  # type: ignore[attr-defined]
    except iam.exceptions.NoSuchEntityException:  # type: ignore[attr-defined]
        return False
    return True


def _summary(iam: object, field: str) -> int:
    return int(iam.get_account_summary()["SummaryMap"][field])  # type: ignore[attr-defined]


def test_a_deleted_certificate_is_listed_for_the_stale_reads(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """After DeleteSigningCertificate, ListSigningCertificates shows it twice more, then not."""
    cert = sandbox.add_root_signing_certificate(account.account_id)
    sandbox.inject_stale_reads(account.account_id, reads=2, credentials={"certificates"})
    iam = sandbox.root_session(account.account_id).client("iam")

    iam.delete_signing_certificate(CertificateId=cert)

    assert [_certificates(iam) for _ in range(3)] == [{cert}, {cert}, set()]
    assert sandbox.root_signing_certificates(account.account_id) == {}


def test_a_deleted_password_is_still_answered_for_the_stale_reads(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """After DeleteLoginProfile, GetLoginProfile still answers the password once, then not."""
    sandbox.set_root_password(account.account_id)
    sandbox.inject_stale_reads(account.account_id, reads=1, credentials={"password"})
    iam = sandbox.root_session(account.account_id).client("iam")

    iam.delete_login_profile()

    assert [_has_password(iam) for _ in range(2)] == [True, False]
    assert not sandbox.root_password(account.account_id)


def test_a_deactivated_mfa_device_is_listed_for_the_stale_reads(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """After DeactivateMFADevice, ListMFADevices and AccountMFAEnabled show the old state."""
    serial = sandbox.add_root_mfa_device(account.account_id, kind="hardware")
    sandbox.inject_stale_reads(account.account_id, reads=2, credentials={"mfa"})
    iam = sandbox.root_session(account.account_id).client("iam")

    iam.deactivate_mfa_device(SerialNumber=serial)

    assert _mfa(iam) == {serial}
    assert _summary(iam, "AccountMFAEnabled") == 1
    assert _mfa(iam) == set()
    assert sandbox.root_mfa_devices(account.account_id) == {}


def test_each_kind_counts_its_own_writes(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Stale certificates leave access keys true, and only the next ``writes`` writes count."""
    first = sandbox.add_root_signing_certificate(account.account_id)
    second = sandbox.add_root_signing_certificate(account.account_id)
    sandbox.inject_stale_reads(account.account_id, reads=1, writes=1, credentials={"certificates"})
    iam = sandbox.root_session(account.account_id).client("iam")

    iam.delete_access_key(AccessKeyId=account.root_key_ids[0])
    keys = {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
    iam.delete_signing_certificate(CertificateId=first)
    stale = _certificates(iam)
    iam.delete_signing_certificate(CertificateId=second)

    assert keys == {account.root_key_ids[1]}  # no stale read of keys was asked for
    assert stale == {first, second}
    assert _certificates(iam) == set()  # the second write left no stale read behind


def test_access_keys_alone_are_stale_by_default(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Without ``credentials``, a deleted key is still listed but a certificate is not."""
    cert = sandbox.add_root_signing_certificate(account.account_id)
    sandbox.inject_stale_reads(account.account_id, reads=1, writes=2)
    iam = sandbox.root_session(account.account_id).client("iam")

    iam.delete_signing_certificate(CertificateId=cert)
    iam.delete_access_key(AccessKeyId=account.root_key_ids[0])

    assert _certificates(iam) == set()
    keys = {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
    assert account.root_key_ids[0] in keys


def test_clear_faults_ends_every_kind_of_stale_read(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """clear_faults: the stale reads left, of every kind, are gone."""
    sandbox.set_root_password(account.account_id)
    cert = sandbox.add_root_signing_certificate(account.account_id)
    serial = sandbox.add_root_mfa_device(account.account_id, kind="hardware")
    sandbox.inject_stale_reads(
        account.account_id,
        reads=5,
        writes=4,
        credentials={"keys", "password", "mfa", "certificates"},
    )
    iam = sandbox.root_session(account.account_id).client("iam")
    iam.delete_login_profile()
    iam.delete_signing_certificate(CertificateId=cert)
    iam.deactivate_mfa_device(SerialNumber=serial)
    iam.delete_access_key(AccessKeyId=account.root_key_ids[0])

    sandbox.clear_faults()

    assert not _has_password(iam)
    assert _certificates(iam) == set()
    assert iam.list_mfa_devices()["MFADevices"] == []
    keys = {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
    assert account.root_key_ids[0] not in keys


def test_an_unknown_kind_is_refused(sandbox: Sandbox, account: SandboxAccount) -> None:
    """``credentials={"passwords"}`` is a typo, refused with InputError."""
    with pytest.raises(InputError, match="not a kind of root credential"):
        sandbox.inject_stale_reads(account.account_id, reads=1, credentials={"passwords"})
