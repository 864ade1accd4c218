"""What the command line builds and shows: one manager for a removal's plan and its run,
resume hints as commands, whose commands ``--account-id`` is for, and a light import."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

import rootkeys
from rootkeys.cli import main
from rootkeys.testing import Sandbox, SandboxAccount, SandboxOrganization
from tests.conftest import Pipe
from tests.test_cli import ACCOUNT, _hold_every_key

HEAVY = ("boto3", "botocore", "pydantic", "rootkeys._reports", "rootkeys._orgreports")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """Each ``rootkeys.<name>`` the command line builds, in a list."""
    built: list[object] = []
    base = getattr(rootkeys, name)

    class Counted(base):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rootkeys, name, Counted)
    return built


# -- one manager, one organization: the plan before the question and the run after ----------


def test_remove_plans_and_runs_with_one_manager_and_shows_the_runs_progress(
    sandbox: Sandbox, signed_in: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """remove builds one manager: it plans, then runs with its progress on stderr."""
    built = _counting(monkeypatch, "RootKeyManager")
    code, _, err = run("remove", "--observe", "0", "--yes")
    assert code == 0, err
    assert len(built) == 1
    assert "deactivated; its window ends" in err  # the run's events reached the display
    assert sandbox.root_keys(ACCOUNT) == []


def test_remove_org_plans_and_runs_with_one_organization(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """remove --org builds one Organization for the plans and the run."""
    built = _counting(monkeypatch, "Organization")
    code, _, err = run("remove", "--org", "--observe", "0", "--yes", "--region", "us-east-1")
    assert code == 0, err
    assert len(built) == 1
    assert "quarantined; its window ends" in err
    assert all(sandbox.root_keys(m) == [] for m in org_signed_in.member_account_ids)


# -- resume hints: the command, not the Python call ----------------------------------------


@pytest.mark.parametrize("argv", [("plan", "--observe", "7d", "--no-evidence"), ("status",)])
def test_a_held_keys_hint_is_the_command_alone(
    sandbox: Sandbox, signed_in: SandboxAccount, argv: tuple[str, ...]
) -> None:
    """plan and status name `rootkeys resume KEY` for a held key, not `manager.resume`."""
    _hold_every_key(sandbox, ACCOUNT)
    code, out, _ = run(*argv)
    assert code == 0
    for key_id in signed_in.root_key_ids:
        assert f"to resume {key_id}: rootkeys resume {key_id}\n" in out
    assert "manager.resume" not in out
    code, out, _ = run(*argv, "--output", "json")
    keys = json.loads(out)["result"]["keys"]
    assert {k["resume"] for k in keys} == {f"rootkeys resume {k}" for k in signed_in.root_key_ids}


def test_a_run_past_a_held_key_names_its_command_alone(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """remove with one key held: the plan before the question and the run's progress
    name `rootkeys resume KEY` for it, never the Python call."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    held = signed_in.root_key_ids[0]
    rootkeys.RootKeyManager(sandbox.root_session(ACCOUNT)).rollback(held)
    code, _, err = run("remove", "--observe", "7d", "--no-wait", "--yes")
    assert code == 0, err
    assert f"to resume {held}: rootkeys resume {held}\n" in err  # the plan
    assert f"(to resume: rootkeys resume {held})" in err.replace("\n", " ").replace("  ", "")
    assert "manager.resume" not in err


def test_a_held_members_hint_is_the_command_alone(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """plan --org and status --org name `rootkeys resume --org --accounts ID`, nothing else."""
    member = org_signed_in.member_account_ids[0]
    organization = rootkeys.Organization(sandbox.management_session(), checks=[lambda k: False])
    organization.remove_all(timedelta(0), account_ids=[member])
    for argv in (("plan", "--org", "--accounts", member), ("status", "--org")):
        code, out, _ = run(*argv)
        assert code == 0
        assert f": rootkeys resume --org --accounts {member}\n" in out
        assert "organization.resume" not in out


# -- --account-id: one account's; ROOTKEYS_ACCOUNT_ID stays out of an organization's way ----


def test_rootkeys_account_id_does_not_stop_credentials_org(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ROOTKEYS_ACCOUNT_ID is for one account's commands: `credentials --org` reads on."""
    monkeypatch.setenv("ROOTKEYS_ACCOUNT_ID", "999999999999")
    code, out, err = run("credentials", "--org", "--output", "json")
    assert code == 0, err
    accounts = {a["account_id"] for a in json.loads(out)["result"]["accounts"]}
    assert set(org_signed_in.member_account_ids) <= accounts


@pytest.mark.parametrize(
    "argv",
    [
        ("org", "status"),
        ("recover-password", "--accounts", "111122223333", "--yes"),
        ("audit",),
        ("credentials", "--org"),
    ],
    ids=["org", "recover-password", "audit", "credentials-org"],
)
def test_an_organizations_command_refuses_account_id_before_any_call(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, argv: tuple[str, ...]
) -> None:
    """An explicit --account-id with an organization's command: exit 2, no AWS call."""
    before = len(sandbox.calls)
    code, _, err = run(*argv, "--account-id", "111122223333")
    assert code == 2
    assert "--account-id is for one account" in err
    assert len(sandbox.calls) == before


def test_history_takes_account_id_as_every_one_account_command_does(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """history --account-id (the signed-in account) reads; another account is refused (3)."""
    key_id = signed_in.root_key_ids[0]
    code, out, err = run("history", key_id, "--account-id", ACCOUNT, "--output", "json")
    assert code == 0, err
    assert json.loads(out)["command"] == "history"
    code, _, err = run("history", key_id, "--account-id", "999999999999")
    assert code == 3
    assert "999999999999" in err


def test_recover_password_goes_on_past_an_account_that_fails(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """recover-password: an account that fails is named on stderr, the next still done; 3."""
    management = org_signed_in.management_account_id
    member = org_signed_in.member_account_ids[0]
    monkeypatch.setattr(sys, "stdin", Pipe())
    code, out, err = run(
        "recover-password", "--accounts", f"{management},{member}", "--yes", "--output", "json"
    )
    assert code == 3
    assert f"rootkeys: error: account {management}:" in err
    assert [r["account_id"] for r in json.loads(out)["result"]] == [member]
    assert sandbox.root_password(member)


# -- import cost -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stmt",
    [
        "import rootkeys.cli",
        "from rootkeys.cli import main; main(['--help'], out=io.StringIO())",
        "from rootkeys.cli import main; main(['remove', '--help'], out=io.StringIO())",
    ],
    ids=["import", "help", "remove-help"],
)
def test_the_command_line_loads_no_aws_sdk_or_models_until_a_command_runs(stmt: str) -> None:
    """`import rootkeys.cli` and `rootkeys --help` load no boto3, botocore or pydantic."""
    probe = (
        "import contextlib, io, sys\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    {stmt}\n"
        "print(sorted(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.splitlines()[-1]
    assert "'rootkeys._cli.app'" in loaded
    for heavy in HEAVY:
        assert f"'{heavy}'" not in loaded
        assert f"'{heavy}." not in loaded
