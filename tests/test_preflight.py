"""Preflight in the plan: another administrator exists, and root has MFA."""

from __future__ import annotations

import json

import pytest

import rootkeys
from rootkeys._preflight import NO_ADMIN, NO_MFA
from rootkeys.testing import Sandbox, SandboxAccount

from .conftest import MakeManager

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _preflight(manager: rootkeys.RootKeyManager) -> rootkeys.reports.Preflight:
    found = manager.plan(evidence=False).preflight
    assert found is not None
    return found


def _policy(sandbox: Sandbox, account: SandboxAccount, name: str, statement: dict) -> str:
    iam = sandbox.admin_session(account.account_id).client("iam")
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]


def test_no_admin_and_no_mfa_warn_prominently(make_manager: MakeManager) -> None:
    """An account with only root and no MFA: both warnings, at the top of the plan."""
    manager = make_manager()
    preflight = _preflight(manager)
    assert preflight.administrators == ()
    assert preflight.root_mfa is False
    assert preflight.warnings == (NO_ADMIN, NO_MFA)
    table = manager.plan(evidence=False).table().splitlines()
    assert table[1].startswith("  WARNING: no other administrator found")


def test_admin_role_and_mfa_give_no_warning(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A role with AdministratorAccess and root MFA: no warnings, the role named."""
    iam = sandbox.admin_session(account.account_id).client("iam")
    iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="Admin", PolicyArn=ADMIN)
    sandbox.set_root_mfa(account.account_id)
    preflight = _preflight(make_manager())
    assert preflight.administrators == ("role:Admin",)
    assert preflight.root_mfa is True
    assert preflight.warnings == ()


def test_group_members_and_star_policies_count(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """Users in an admin group, and users with a custom Allow *:* policy, are admins."""
    iam = sandbox.admin_session(account.account_id).client("iam")
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    iam.create_user(UserName="alice")
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    god = _policy(sandbox, account, "godmode", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    iam.create_user(UserName="ops")
    iam.attach_user_policy(UserName="ops", PolicyArn=god)
    assert set(_preflight(make_manager()).administrators) == {
        "user:alice (group admins)",
        "user:ops (policy godmode)",
    }


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        },
    ],
    ids=["not-every-action", "deny", "conditional"],
)
def test_policies_short_of_everything_do_not_count(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    statement: dict,
) -> None:
    """Narrower, denying or conditional policies do not make an administrator."""
    arn = _policy(sandbox, account, "narrow", statement)
    iam = sandbox.admin_session(account.account_id).client("iam")
    iam.create_user(UserName="dev")
    iam.attach_user_policy(UserName="dev", PolicyArn=arn)
    assert _preflight(make_manager()).administrators == ()


def test_unreadable_iam_is_reported_not_guessed(
    sandbox: Sandbox,
    make_manager: MakeManager,
) -> None:
    """When the admin search is denied, the plan says so instead of warning 'no admin'."""
    sandbox.deny("ListEntitiesForPolicy")
    preflight = _preflight(make_manager())
    assert NO_ADMIN not in preflight.warnings
    assert preflight.unavailable
    assert "AccessDenied" in preflight.unavailable[0]


def test_preflight_can_be_skipped(sandbox: Sandbox, make_manager: MakeManager) -> None:
    """plan(preflight=False) makes none of its calls."""
    plan = make_manager().plan(evidence=False, preflight=False)
    assert plan.preflight is None
    assert not any(
        c.operation in ("ListEntitiesForPolicy", "GetAccountSummary") for c in sandbox.calls
    )
