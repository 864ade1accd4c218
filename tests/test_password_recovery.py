"""Password recovery: the undo of deleting a member account's root password."""

from __future__ import annotations

import io
import json

import pytest

import rootkeys
from rootkeys.cli import main
from rootkeys.testing import Sandbox, SandboxOrganization
from tests.conftest import sign_in


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=2, root_keys=0)


def test_a_member_without_a_password_may_set_one(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    member = org.member_account_ids[0]
    assert not sandbox.root_password(member)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    done = organization.allow_password_recovery(member)
    assert done.allowed
    assert sandbox.root_password(member)  # a login profile, with no password set
    assert sandbox.denials() == ()  # every call inside IAMCreateRootUserPassword
    tasks = [c for c in sandbox.calls if c.operation == "AssumeRoot"]
    assert tasks[-1].params.get("TaskPolicyArn.arn", "").endswith("IAMCreateRootUserPassword")


def test_a_member_with_a_password_is_left_as_it_is(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    member = org.member_account_ids[1]
    sandbox.set_root_password(member)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    assert not organization.allow_password_recovery(member).allowed
    assert sandbox.root_password(member)


@pytest.mark.parametrize("account", ["999988887777", "12345"])
def test_the_management_account_and_bad_ids_are_refused_before_any_call(
    sandbox: Sandbox, org: SandboxOrganization, account: str
) -> None:
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    before = len(sandbox.calls)
    with pytest.raises(rootkeys.InputError):
        organization.allow_password_recovery(account)
    made = [c.operation for c in sandbox.calls[before:]]
    assert "AssumeRoot" not in made
    assert "CreateLoginProfile" not in made
    if account == "12345":
        assert made == []  # a malformed id: not even a read


def test_cli_recover_password_asks_then_allows(
    sandbox: Sandbox, org: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(monkeypatch, sandbox.management_session())
    member = org.member_account_ids[0]
    out, err = io.StringIO(), io.StringIO()
    assert main(["recover-password", "--accounts", member], out=out, err=err) == 2
    assert not sandbox.root_password(member)  # no terminal, no --yes: nothing changed
    argv = ["recover-password", "--accounts", member, "--yes", "--output", "json"]
    assert main(argv, out=out, err=err) == 0
    assert json.loads(out.getvalue())["result"][0]["allowed"] is True
    assert sandbox.root_password(member)


def test_cli_recover_password_refuses_ocsf_and_acts_once_per_account(
    sandbox: Sandbox, org: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(monkeypatch, sandbox.management_session())
    member = org.member_account_ids[0]
    out, err = io.StringIO(), io.StringIO()
    argv = ["recover-password", "--accounts", member, "--yes", "--output", "ocsf"]
    assert main(argv, out=out, err=err) == 2
    assert not sandbox.root_password(member)  # refused: nothing changed
    argv = ["recover-password", "--accounts", f"{member},{member}", "--yes", "--output", "json"]
    assert main(argv, out=out, err=err) == 0
    [done] = json.loads(out.getvalue())["result"]
    assert done["allowed"] is True
