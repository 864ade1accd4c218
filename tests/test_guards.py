"""Guards: only the intended account's root user may change anything; its own key is safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

import rootkeys
from rootkeys.testing import Sandbox, SandboxAccount

from .conftest import MakeManager, statuses

WEEK = timedelta(days=7)


def test_iam_user_caller_is_refused_and_its_own_keys_untouched(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """An IAM user gets NotRootError naming its ARN; no mutation; its own key stays Active."""
    user_session = sandbox.iam_user_session(account.account_id, "alice")
    user_key = user_session.get_credentials().get_frozen_credentials().access_key
    before = len(sandbox.mutations())
    manager = make_manager(session=user_session)

    for attempt in (
        lambda: manager.remove_all(observe_for=timedelta(0)),
        lambda: manager.deactivate(user_key),
        lambda: manager.delete(user_key),
        manager.list_keys,
        manager.plan,
    ):
        with pytest.raises(rootkeys.NotRootError) as caught:
            attempt()
        assert caught.value.arn == f"arn:aws:iam::{account.account_id}:user/alice"
        assert "user/alice" in str(caught.value)

    assert sandbox.mutations()[before:] == ()
    admin = sandbox.admin_session(account.account_id).client("iam")
    keys = admin.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(user_key, "Active")]
    assert set(statuses(sandbox, account.account_id).values()) == {
        rootkeys.lifecycle.KeyStatus.ACTIVE
    }


def test_root_of_another_account_is_refused(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """Root credentials of account B with account_id=A raise AccountMismatchError, no change."""
    other = sandbox.create_account("444455556666", root_keys=1)
    manager = make_manager(
        session=sandbox.root_session(other.account_id), account_id=account.account_id
    )
    with pytest.raises(rootkeys.errors.AccountMismatchError) as caught:
        manager.remove_all(observe_for=timedelta(0))
    assert (caught.value.expected_account_id, caught.value.actual_account_id) == (
        account.account_id,
        other.account_id,
    )
    assert isinstance(caught.value, rootkeys.NotRootError)
    assert sandbox.mutations() == ()


def test_identity_is_proven_before_the_first_mutation(
    sandbox: Sandbox, manager: rootkeys.RootKeyManager
) -> None:
    """GetCallerIdentity is answered (as root) before any mutating call is sent."""
    manager.remove_all(observe_for=timedelta(0))
    ops = [c.operation for c in sandbox.calls]
    first_mutation = next(i for i, c in enumerate(sandbox.calls) if c.mutating)
    assert "GetCallerIdentity" in ops[:first_mutation]


def test_self_key_is_planned_as_blocked_with_what_to_do(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """The key signing the session is blocked in the plan, with the alternatives named."""
    own = account.root_key_ids[0]
    manager = make_manager(session=sandbox.root_session(account.account_id, key_id=own))
    plan = manager.plan()
    assert [p.key.key_id for p in plan.blocked] == [own]
    assert "CloudShell" in plan.blocked[0].reason
    assert [p.key.key_id for p in plan.removable] == [account.root_key_ids[1]]


def test_remove_all_never_touches_the_self_key(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """remove_all deletes the other key, leaves the signing key Active, and says so."""
    own, other = account.root_key_ids
    manager = make_manager(session=sandbox.root_session(account.account_id, key_id=own))
    report = manager.remove_all(observe_for=WEEK)

    assert statuses(sandbox, account.account_id) == {own: rootkeys.lifecycle.KeyStatus.ACTIVE}
    assert report.deleted == (other,)
    assert report.blocked == (own,)
    assert report.outcome is rootkeys.RunOutcome.BLOCKED
    assert report.keys_present is True
    touched = {c.params.get("AccessKeyId") for c in sandbox.mutations()}
    assert own not in touched


@pytest.mark.parametrize("step", ["deactivate", "delete", "reactivate"])
def test_explicit_steps_refuse_the_self_key(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager, step: str
) -> None:
    """Each explicit step raises ProtectedKeyError for the signing key, with no mutation."""
    own = account.root_key_ids[0]
    manager = make_manager(session=sandbox.root_session(account.account_id, key_id=own))
    with pytest.raises(rootkeys.errors.ProtectedKeyError, match=own):
        getattr(manager, step)(own)
    assert sandbox.mutations() == ()


def test_a_deactivated_signing_key_really_locks_out(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """The sandbox refuses calls signed by an Inactive root key: the guard above matters."""
    own = account.root_key_ids[0]
    manager = make_manager(session=sandbox.root_session(account.account_id, key_id=own))
    sandbox.set_root_key_status(account.account_id, own, rootkeys.lifecycle.KeyStatus.INACTIVE)
    with pytest.raises(rootkeys.errors.InvalidCredentialsError) as caught:
        manager.list_keys()
    assert caught.value.code == "InvalidClientTokenId"
