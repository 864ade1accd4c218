"""`rootkeys org status` and `rootkeys org enable`: the plan, the question, the result."""

from __future__ import annotations

import io
import json
import sys

import pytest

import rootkeys
from rootkeys.cli import main
from rootkeys.testing import Sandbox, SandboxOrganization
from tests.conftest import sign_in

WRITES = {
    "EnableAWSServiceAccess",
    "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions",
}


class Terminal(io.StringIO):
    """A stdin that is a terminal, with the person's answer in it."""

    def isatty(self) -> bool:
        return True


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def off(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> SandboxOrganization:
    """An organization with centralized root access off; signed in as its management account."""
    org = sandbox.create_organization(members=2, root_features=False)
    sign_in(monkeypatch, sandbox.management_session())
    return org


def _writes(sandbox: Sandbox) -> list[str]:
    return [c.operation for c in sandbox.calls if c.operation in WRITES]


def test_status_shows_what_is_off_the_calls_and_the_permissions(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """`org status` reads: each switch off, the three calls in order, changing nothing."""
    code, out, _ = run("org", "status")
    assert code == 0
    assert "trusted access for IAM" in out
    assert "iam:EnableOrganizationsRootSessions" in out
    assert "permissions needed" in out
    assert _writes(sandbox) == []


def test_enable_with_yes_turns_everything_on(sandbox: Sandbox, off: SandboxOrganization) -> None:
    """`org enable --yes` makes the three calls and prints the state, as JSON if asked."""
    code, out, _ = run("org", "enable", "--yes", "--output", "json")
    assert code == 0
    result = json.loads(out)["result"]
    assert result["enabled"] is True
    assert len(result["made"]) == 3
    assert _writes(sandbox) == [
        "EnableAWSServiceAccess",
        "EnableOrganizationsRootCredentialsManagement",
        "EnableOrganizationsRootSessions",
    ]


def test_enable_again_says_already_on_and_changes_nothing(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """A second `org enable` exits 0, says nothing changed, and makes no call."""
    run("org", "enable", "--yes")
    before = len(_writes(sandbox))
    code, _, err = run("org", "enable", "--yes")
    assert code == 0
    assert "already on: nothing changed" in err
    assert len(_writes(sandbox)) == before


def test_no_root_sessions_leaves_assume_root_off(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """`--no-root-sessions` enables trusted access and credentials management only."""
    code, _, _ = run("org", "enable", "--no-root-sessions", "--yes")
    assert code == 0
    assert "EnableOrganizationsRootSessions" not in _writes(sandbox)
    code, out, _ = run("org", "status", "--output", "json")
    assert json.loads(out)["result"]["root_sessions"] is False


def test_without_a_terminal_or_yes_enable_refuses_before_any_change(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """As remove does: no terminal to ask on and no --yes is exit 2; it read what is on
    (to know whether a change is due) and changed nothing."""
    before = len(sandbox.calls)
    code, _, err = run("org", "enable")
    assert code == 2
    assert "--yes" in err
    made = [c.operation for c in sandbox.calls[before:]]
    assert not [op for op in made if op.startswith("Enable")]


def test_already_on_enable_in_a_pipe_says_so_and_exits_0(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """Nothing to change, nothing to ask: a cron job's `org enable` is a no-op, exit 0."""
    code, _, err = run("org", "enable")
    assert code == 0
    assert "already on" in err


def test_answering_no_changes_nothing(
    sandbox: Sandbox, off: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the question, "n" exits 1 and makes no change; the plan was shown first."""
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, _, err = run("org", "enable")
    assert code == 1
    assert "organizations:EnableAWSServiceAccess" in err
    assert "nothing changed" in err
    assert _writes(sandbox) == []


def test_a_member_account_is_refused_with_exit_3(
    sandbox: Sandbox, off: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a member account, enable names the management account and exits 3, unchanged."""
    sign_in(monkeypatch, sandbox.admin_session(off.member_account_ids[0]))
    code, _, err = run("org", "enable", "--yes")
    assert code == 3
    assert f"needs the management account {off.management_account_id}" in err
    assert _writes(sandbox) == []


def test_a_refused_enable_reads_the_state_once_and_says_why(
    sandbox: Sandbox, off: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a member account: the plan, then the refusal `RootAccess.refusal` gives (exit 3),
    from one read of the organization and no write."""
    sign_in(monkeypatch, sandbox.admin_session(off.member_account_ids[0]))
    before = len(sandbox.calls)
    code, _, err = run("org", "enable", "--yes")
    assert code == 3
    assert "Centralized root access" in err  # the plan came first
    made = [c.operation for c in sandbox.calls[before:]]
    assert made.count("DescribeOrganization") == 1
    assert _writes(sandbox) == []
    organization = rootkeys.Organization(sandbox.admin_session(off.member_account_ids[0]))
    refusal = organization.root_access().refusal
    assert refusal is not None
    assert f"rootkeys: error: {refusal}" in err


def test_rootkeys_account_id_does_not_stop_org_status(
    sandbox: Sandbox, off: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ROOTKEYS_ACCOUNT_ID is one account's: `org status` reads the organization anyway."""
    monkeypatch.setenv("ROOTKEYS_ACCOUNT_ID", "999999999999")
    code, out, _ = run("org", "status", "--output", "json")
    assert code == 0
    assert json.loads(out)["result"]["management_account_id"] == off.management_account_id


def test_the_other_org_commands_name_org_enable_while_it_is_off(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """`audit` with the features off exits 3 and names `rootkeys org enable`."""
    code, _, err = run("audit")
    assert code == 3
    assert "rootkeys org enable" in err


@pytest.mark.parametrize("output", ["json", "ocsf", "csv", "table"])
def test_credentials_with_root_access_off_still_give_the_organization_finding(
    sandbox: Sandbox, off: SandboxOrganization, output: str
) -> None:
    """The finding a SIEM needs most reaches it in every format; exit 3, the way on named."""
    code, out, err = run("credentials", "--org", "--output", output)
    assert code == 3
    assert "root_credentials_management_enabled" in out
    assert "FAIL" in out
    assert "rootkeys org enable" in err
    assert "999988887777" in out  # the finding names the management account
