"""The sandbox emulates the root user faithfully where rootkeys depends on it."""

from __future__ import annotations

import boto3
import botocore.config
import botocore.exceptions
import moto
import pytest
from packaging.version import Version

import rootkeys
from rootkeys.testing import Sandbox, SandboxAccount


def test_moto_version_is_within_the_pinned_range() -> None:
    """The sandbox runs on the moto versions pyproject.toml names (>=5.1, <5.3)."""
    assert Version("5.1") <= Version(moto.__version__) < Version("5.3")


def test_root_caller_identity(sandbox: Sandbox, account: SandboxAccount) -> None:
    """A root session's GetCallerIdentity answers the :root ARN of its own account."""
    sts = sandbox.root_session(account.account_id).client("sts")
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert identity["Account"] == account.account_id


def test_no_user_name_means_the_caller(sandbox: Sandbox, account: SandboxAccount) -> None:
    """ListAccessKeys without UserName lists root's keys for root, the user's for a user."""
    root_iam = sandbox.root_session(account.account_id).client("iam")
    listed = {k["AccessKeyId"] for k in root_iam.list_access_keys()["AccessKeyMetadata"]}
    assert listed == set(account.root_key_ids)

    user_iam = sandbox.iam_user_session(account.account_id, "bob").client("iam")
    user_keys = user_iam.list_access_keys()["AccessKeyMetadata"]
    assert len(user_keys) == 1
    assert user_keys[0]["AccessKeyId"] not in account.root_key_ids


def test_a_user_cannot_update_a_root_key(sandbox: Sandbox, account: SandboxAccount) -> None:
    """An IAM user's UpdateAccessKey on a root key id is NoSuchEntity; root's key unchanged."""
    user_iam = sandbox.iam_user_session(account.account_id, "bob").client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        user_iam.update_access_key(AccessKeyId=account.root_key_ids[0], Status="Inactive")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    assert {k.status for k in sandbox.root_keys(account.account_id)} == {
        rootkeys.lifecycle.KeyStatus.ACTIVE
    }


def test_account_access_keys_present_follows_real_state(
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """AccountAccessKeysPresent is 1 with any key (even Inactive), 0 with none."""
    iam = sandbox.root_session(account.account_id).client("iam")

    def present() -> int:
        return iam.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"]

    assert present() == 1
    first, second = account.root_key_ids
    iam.update_access_key(AccessKeyId=first, Status="Inactive")
    iam.update_access_key(AccessKeyId=second, Status="Inactive")
    assert present() == 1
    iam.delete_access_key(AccessKeyId=first)
    iam.delete_access_key(AccessKeyId=second)
    assert present() == 0


def test_root_key_quota_is_two(sandbox: Sandbox, account: SandboxAccount) -> None:
    """A third root key is refused with LimitExceeded (HTTP 409), as in AWS."""
    iam = sandbox.root_session(account.account_id).client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_access_key()
    assert caught.value.response["Error"]["Code"] == "LimitExceeded"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_iam_state_is_per_account(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Users made in one sandbox account are not seen in another (moto's per-account state)."""
    other = sandbox.create_account("444455556666", root_keys=0)
    sandbox.admin_session(account.account_id).client("iam").create_user(UserName="carol")
    names = {
        u["UserName"]
        for u in sandbox.admin_session(other.account_id).client("iam").list_users()["Users"]
    }
    assert "carol" not in names


def test_last_used_is_recorded_for_root_keys(sandbox: Sandbox, account: SandboxAccount) -> None:
    """A call signed with a root key sets its last use; an unused key reports N/A."""
    first, second = account.root_key_ids
    sandbox.root_session(account.account_id, key_id=first).client("sts").get_caller_identity()
    iam = sandbox.root_session(account.account_id).client("iam")
    used = iam.get_access_key_last_used(AccessKeyId=first)["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts"
    assert "LastUsedDate" in used
    unused = iam.get_access_key_last_used(AccessKeyId=second)["AccessKeyLastUsed"]
    assert unused["ServiceName"] == "N/A"
    assert "LastUsedDate" not in unused


def test_faults_fire_the_number_of_times_asked(sandbox: Sandbox, account: SandboxAccount) -> None:
    """An injected fault answers exactly `times` matching calls, then the call succeeds."""
    sts = sandbox.root_session(account.account_id).client(
        "sts", config=botocore.config.Config(retries={"total_max_attempts": 1})
    )
    sandbox.inject_throttling(operation="GetCallerIdentity", times=2)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError, match="Throttling"):
            sts.get_caller_identity()
    assert sts.get_caller_identity()["Account"] == account.account_id
    assert [c.fault for c in sandbox.calls] == ["Throttling", "Throttling", None]


def test_sessions_you_build_inside_the_sandbox_are_answered_by_it(
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """Your own boto3.Session with root credentials acts as root; unknown ones reach moto."""
    root = boto3.Session(
        region_name="us-east-1",
        **{
            k.lower(): v
            for k, v in sandbox.root_credentials(account.account_id).items()
            if k != "AWS_DEFAULT_REGION"
        },
    )
    arn = root.client("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{account.account_id}:root"
    plain = boto3.Session(region_name="us-east-1").client("sts").get_caller_identity()["Arn"]
    assert not plain.endswith(":root")
    assert [c.principal for c in sandbox.calls] == ["root", "user"]  # user: a key not ours


def test_sandboxes_do_not_nest(sandbox: Sandbox) -> None:
    """A second active sandbox is refused (they share botocore's handlers)."""
    with pytest.raises(RuntimeError, match="do not nest"), Sandbox():
        pass


def test_ledger_records_every_change_with_who_made_it(sandbox: Sandbox) -> None:
    """key_changes(): creation, hand changes, root's writes, with usability before/after."""
    import rootkeys

    account = sandbox.create_account("444455556666", root_keys=1)
    key_id = account.root_key_ids[0]
    iam = sandbox.root_session(account.account_id).client("iam")
    iam.update_access_key(AccessKeyId=key_id, Status="Inactive")
    sandbox.set_root_key_status(account.account_id, key_id, rootkeys.lifecycle.KeyStatus.ACTIVE)
    iam.update_access_key(AccessKeyId=key_id, Status="Inactive")
    iam.delete_access_key(AccessKeyId=key_id)
    changes = sandbox.key_changes(account.account_id)
    assert [(c.status, c.by, c.was_usable, c.usable) for c in changes] == [
        (rootkeys.lifecycle.KeyStatus.ACTIVE, "sandbox", False, True),
        (rootkeys.lifecycle.KeyStatus.INACTIVE, "root", True, False),
        (rootkeys.lifecycle.KeyStatus.ACTIVE, "sandbox", False, True),
        (rootkeys.lifecycle.KeyStatus.INACTIVE, "root", True, False),
        (None, "root", False, False),
    ]
    assert changes[-1].deleted
    assert sandbox.key_changes("111122223333") == ()


def test_ledger_sees_the_quarantine(sandbox: Sandbox) -> None:
    """Attaching the quarantine SCP makes a member's Active key unusable in the ledger."""
    import rootkeys

    org = sandbox.create_organization(members=1, root_keys=1)
    member = org.member_account_ids[0]
    rootkeys.Organization(
        sandbox.management_session(), journal=False
    )._management.attach_quarantine(member)
    last = sandbox.key_changes(member)[-1]
    assert (last.status, last.quarantined, last.by) == (
        rootkeys.lifecycle.KeyStatus.ACTIVE,
        True,
        "admin",
    )
    assert last.was_usable
    assert not last.usable
