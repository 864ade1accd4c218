"""The command line: each subcommand, confirmation, JSON output and every exit code."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys.cli import main, parse_duration
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import Sandbox, SandboxAccount, SandboxOrganization
from tests.conftest import Pipe
from tests.orgtools import quarantined

ACCOUNT = "111122223333"


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, with the user's answer typed in."""

    def isatty(self) -> bool:
        return True


def _hold_every_key(sandbox: Sandbox, account_id: str) -> None:
    """A staged run whose check fails: the keys are made usable again and held (in the
    per-user journal, the one the CLI uses)."""
    manager = rootkeys.RootKeyManager(sandbox.root_session(account_id), checks=[lambda key: False])
    manager.remove_all(timedelta(days=7), wait=False)


def _next(out: str) -> list[str]:
    """What happens next to each key, from a JSON plan or status of one account."""
    return [key["next"] for key in json.loads(out)["result"]["keys"]]


def run(*argv: str, stdin: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        sys.stdin = stdin
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_plan_prints_the_plan_and_changes_nothing(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """plan: a table with each key and its action; no mutation; exit 0."""
    code, out, _ = run("plan", "--observe", "7d", "--no-evidence")
    assert code == 0
    for key_id in signed_in.root_key_ids:
        assert key_id in out
    assert "deactivate, observe 7d, delete" in out
    assert sandbox.mutations(ACCOUNT) == ()


def test_plan_json_has_the_documented_shape(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """--output json: one document with command, schema_version and the model as result."""
    code, out, _ = run("plan", "--policy", "--regions", "us-east-1", "--output", "json")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"command", "schema_version", "result"}
    assert (document["command"], document["schema_version"]) == ("plan", 1)
    result = document["result"]
    assert result["account_id"] == ACCOUNT
    assert [k["key"]["key_id"] for k in result["keys"]] == list(signed_in.root_key_ids)
    assert {k["next"] for k in result["keys"]} == {"make unusable"}
    assert all(k["risk"] == "never used" for k in result["keys"])


def test_remove_with_yes_removes_and_exits_0(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """remove --yes: deactivate, observe (a zero window here), delete; JSON report; exit 0."""
    code, out, err = run("remove", "--observe", "0", "--yes", "--output", "json")
    assert code == 0, err
    report = json.loads(out)["result"]
    assert report["outcome"] == "done"
    assert report["keys_present"] is False
    assert sandbox.root_keys(ACCOUNT) == []
    assert "deactivated" in err  # progress on stderr, the document alone on stdout


def test_remove_refuses_without_a_terminal_and_makes_no_call(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """No --yes and no terminal to ask on: exit 2, not one AWS call, nothing changed."""
    made = len(sandbox.calls)
    code, out, err = run("remove", "--observe", "7d", stdin=Pipe())
    assert code == 2
    assert "--yes" in err
    assert out == ""
    assert len(sandbox.calls) == made


def test_remove_asks_and_a_no_changes_nothing(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """At a terminal: the plan, then the question; 'n' leaves everything as it was."""
    code, _, err = run("remove", "--observe", "0", stdin=Terminal("n\n"))
    assert code == 1
    assert "Proceed? [y/N]" in err
    assert signed_in.root_key_ids[0] in err  # the plan was shown before the question
    assert sandbox.mutations(ACCOUNT) == ()


def test_remove_asks_and_a_yes_proceeds(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """At a terminal, 'y' goes ahead."""
    code, out, _ = run("remove", "--observe", "0", stdin=Terminal("y\n"))
    assert code == 0
    assert "done" in out
    assert sandbox.root_keys(ACCOUNT) == []


def test_staged_remove_still_observing_is_a_healthy_exit_0(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """--no-wait with a week's window: keys observing, every check fine: exit 0 (a healthy
    cron run is not a failure); --fail-if-observing makes the same run exit 1."""
    code, out, _ = run("remove", "--observe", "7d", "--no-wait", "--yes")
    assert code == 0
    assert "observing" in out
    code, out, _ = run("remove", "--observe", "7d", "--no-wait", "--yes", "--fail-if-observing")
    assert code == 1
    assert "observing" in out
    assert {k.status for k in sandbox.root_keys(ACCOUNT)} == {KeyStatus.INACTIVE}
    code, out, _ = run("status")
    assert code == 0
    assert "observe" in out


def test_history_shows_the_journal(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """history KEY_ID: that key's records, after a staged run."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    key_id = signed_in.root_key_ids[0]
    code, out, _ = run("history", key_id, "--output", "json")
    assert code == 0
    records = json.loads(out)["result"]["records"]
    assert [r["kind"] for r in records][:2] == ["seen", "intent"]
    assert {r["key_id"] for r in records} == {key_id}


def test_audit_lists_every_member(sandbox: Sandbox, org_signed_in: SandboxOrganization) -> None:
    """audit: every account of the organization, the management one out of reach."""
    org = org_signed_in
    code, out, _ = run("audit", "--output", "json", "--region", "us-east-1")
    assert code == 0
    audits = {a["account_id"]: a for a in json.loads(out)["result"]}
    assert audits[org.management_account_id]["status"] == "out of reach"
    assert {audits[m]["status"] for m in org.member_account_ids} == {"audited"}


def test_remove_org_removes_across_members(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """remove --org --yes: every member's keys removed; exit 0 (management out of reach)."""
    code, out, err = run("remove", "--org", "--observe", "0", "--yes", "--region", "us-east-1")
    assert code == 0, err
    assert all(sandbox.root_keys(m) == [] for m in org_signed_in.member_account_ids)
    assert "out of reach" in out


def test_remove_with_every_key_held_says_how_to_resume_and_changes_nothing(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """Every key on hold: remove names each key's resume command, exits 1, changes nothing."""
    _hold_every_key(sandbox, ACCOUNT)
    made = sandbox.mutations(ACCOUNT)
    code, out, err = run("remove", "--observe", "7d", "--no-wait", "--yes")
    assert code == 1
    assert "nothing rootkeys may remove now: 2 root key(s) wait for a person" in err
    for key_id in signed_in.root_key_ids:
        assert f"to resume {key_id}: rootkeys resume {key_id}" in err
    assert out == ""
    assert sandbox.mutations(ACCOUNT) == made


def test_held_keys_hint_repeats_the_journal_of_this_command(
    sandbox: Sandbox, signed_in: SandboxAccount, tmp_path: Path
) -> None:
    """remove --journal PATH with every key held: the hint says to resume with that journal."""
    journal = tmp_path / "team.sqlite3"
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(ACCOUNT), journal=journal, checks=[lambda key: False]
    )
    manager.remove_all(timedelta(days=7), wait=False)
    code, _, err = run("remove", "--observe", "7d", "--yes", "--journal", str(journal))
    assert code == 1
    assert "(with the same --journal as this command)" in err


def test_remove_with_some_keys_held_asks_about_the_others(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """One key held, one observing: the question counts the one and mentions the held one."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    rootkeys.RootKeyManager(sandbox.root_session(ACCOUNT)).rollback(signed_in.root_key_ids[0])
    code, _, err = run("remove", "--observe", "7d", "--no-wait", stdin=Terminal("n\n"))
    assert code == 1
    assert "Remove 1 root key(s)? (1 on hold or blocked stay as they are" in err


def test_resume_lifts_the_holds_so_the_next_plan_makes_keys_unusable(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """resume: names the keys it resumed, exit 0; the next plan makes them unusable again."""
    _hold_every_key(sandbox, ACCOUNT)
    code, out, _ = run("resume")
    assert code == 0
    assert all(key_id in out for key_id in signed_in.root_key_ids)
    _, out, _ = run("plan", "--observe", "7d", "--no-evidence", "--output", "json")
    assert set(_next(out)) == {"make unusable"}


def test_resume_one_key_asks_nothing_and_changes_nothing_in_aws(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """resume KEY_ID with no terminal: that key only, journal only (no AWS mutation)."""
    _hold_every_key(sandbox, ACCOUNT)
    made = sandbox.mutations(ACCOUNT)
    key_id = signed_in.root_key_ids[0]
    code, out, _ = run("resume", key_id, "--output", "json", stdin=Pipe())
    assert code == 0
    assert json.loads(out)["result"] == [{"account_id": ACCOUNT, "resumed": [key_id]}]
    assert sandbox.mutations(ACCOUNT) == made


def test_resume_with_nothing_on_hold_says_so(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """resume when no key is held: says so, exit 0."""
    code, out, _ = run("resume")
    assert code == 0
    assert re.search(rf"{ACCOUNT}\s+nothing was on hold", out)


def test_rollback_makes_the_keys_active_and_holds_them(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """rollback --yes after a staged remove: keys Active again; the plan has them on hold."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    code, out, err = run("rollback", "--yes")
    assert code == 0, err
    assert {k.status for k in sandbox.root_keys(ACCOUNT)} == {KeyStatus.ACTIVE}
    assert "held: no run makes these keys unusable again until `rootkeys resume`" in out
    _, out, _ = run("plan", "--observe", "7d", "--no-evidence", "--output", "json")
    assert set(_next(out)) == {"on hold"}


def test_rollback_json_lists_each_step(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """rollback --output json: the result is one StepResult per key made usable again."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    _, out, _ = run("rollback", "--yes", "--output", "json")
    document = json.loads(out)
    assert document["command"] == "rollback"
    steps = {r["key_id"]: r for r in document["result"]}
    assert set(steps) == set(signed_in.root_key_ids)
    assert {(r["action"], r["to_state"]) for r in steps.values()} == {("reactivate", "Active")}


def test_rollback_refuses_without_a_terminal_and_makes_no_call(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """rollback with no --yes and no terminal: exit 2 before a single AWS call."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    made = len(sandbox.calls)
    code, out, err = run("rollback", stdin=Pipe())
    assert code == 2
    assert "--yes" in err
    assert out == ""
    assert len(sandbox.calls) == made


def test_rollback_asks_and_a_no_changes_nothing(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """At a terminal: where the keys stand, then the question; 'n' leaves them unusable."""
    run("remove", "--observe", "7d", "--no-wait", "--yes")
    made = sandbox.mutations(ACCOUNT)
    code, _, err = run("rollback", stdin=Terminal("n\n"))
    assert code == 1
    assert "Proceed? [y/N]" in err
    assert f"Root credentials of account {ACCOUNT}" in err  # the status, shown before asking
    assert sandbox.mutations(ACCOUNT) == made


def test_plan_org_prints_one_plan_per_account(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """plan --org: a table per account (members to quarantine, management out of reach)."""
    code, out, _ = run("plan", "--org")
    assert code == 0
    for member in org_signed_in.member_account_ids:
        assert f"Plan for account {member} (caller" in out
    assert out.count("quarantine, observe, delete") == 2
    assert f"Plan for account {org_signed_in.management_account_id}\n" in out
    assert "the management account cannot be an AssumeRoot target" in out


def test_status_org_json_is_one_status_per_chosen_member(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """status --org --accounts ID --output json: a list with that member's RemovalStatus."""
    member = org_signed_in.member_account_ids[0]
    code, out, _ = run("status", "--org", "--accounts", member, "--output", "json")
    assert code == 0
    statuses = json.loads(out)["result"]
    assert [s["account_id"] for s in statuses] == [member]
    assert [k["next"] for k in statuses[0]["keys"]] == ["make unusable"]


def test_rollback_org_detaches_the_quarantine_and_holds_the_keys(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """rollback --org --accounts ID --yes: that member's SCP detached and its key held."""
    run("remove", "--org", "--observe", "7d", "--no-wait", "--yes")
    member, other = org_signed_in.member_account_ids
    code, _, err = run("rollback", "--org", "--accounts", member, "--yes")
    assert code == 0, err
    assert not quarantined(sandbox, member)
    assert quarantined(sandbox, other)
    _, out, _ = run("status", "--org", "--accounts", member, "--output", "json")
    assert [k["next"] for k in json.loads(out)["result"][0]["keys"]] == ["on hold"]


def test_resume_org_lifts_the_holds_so_the_next_plan_quarantines(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """resume --org --accounts ID: exit 0; that member's next plan quarantines again."""
    member = org_signed_in.member_account_ids[0]
    organization = rootkeys.Organization(sandbox.management_session())
    organization.remove_all(timedelta(days=7), wait=False, account_ids=[member])
    organization.rollback(member)
    code, out, _ = run("resume", "--org", "--accounts", member)
    assert code == 0
    assert sandbox.root_keys(member)[0].key_id in out
    _, out, _ = run("plan", "--org", "--accounts", member, "--output", "json")
    assert [k["next"] for k in json.loads(out)["result"][0]["keys"]] == ["make unusable"]


def test_org_resume_goes_on_past_an_account_that_fails(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """resume --org: an account that fails is named on stderr, the next one still runs; exit 3."""
    management = org_signed_in.management_account_id
    member = org_signed_in.member_account_ids[0]
    code, out, err = run("resume", "--org", "--accounts", f"{management},{member}")
    assert code == 3
    assert f"rootkeys: error: account {management}: " in err
    assert re.search(rf"{member}\s+nothing was on hold", out)


def test_demo_runs() -> None:
    """demo: the sandbox walk-through, exit 0."""
    code, out, _ = run("demo", "--window", "1s")
    assert code == 0
    assert "Demo finished as expected" in out


def test_demo_with_a_zero_window_is_a_usage_error() -> None:
    """demo --window 0: one clear input error (exit 2), not a crash."""
    code, _, err = run("demo", "--window", "0")
    assert code == 2
    assert "window must be positive" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remove", "--observe=-1d", "--yes"], "cannot be negative"),
        (["remove", "--observe", "-1d", "--yes"], "cannot be negative"),
        (["remove", "--observe", "soon", "--yes"], "not a duration"),
        (["remove", "--yes"], "remove needs a window"),
        (["history", "not-a-key"], "access key id"),
        (["plan", "--account-id", "12", "--no-evidence"], "12 digits"),
        (["plan", "--profile", "nope", "--no-evidence"], "no AWS profile named 'nope'"),
        (["remove", "--observe", "2000d", "--yes"], "at most 366 days"),
        (["remove", "--observe", "0", "--yes", "--ou", "ou-x"], "need --org"),
        (["rollback", "--yes", "--accounts", ACCOUNT], "need --org"),
        (["rollback", "--org", "--yes", "--accounts", "12"], "12 digits"),
        (["resume", "not-a-key"], "access key id"),
        (["resume", "AKIAAAAAAAAAAAAAAAAA", "--org", "--accounts", ACCOUNT], "KEY_ID is for one"),
        (["status", "--org", "--account-id", ACCOUNT], "--account-id is for one account"),
        (["plan", "--org", "--regions", "us-east-1"], "--regions is for one account"),
        (["frobnicate"], "invalid choice"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_usage_and_input_errors_exit_2_without_changes(
    sandbox: Sandbox,
    signed_in: SandboxAccount,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    """Bad input: exit 2, one clear line (no traceback), nothing changed."""
    code, _, err = run(*argv)
    err += capsys.readouterr().err  # argparse writes its usage errors to sys.stderr
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert sandbox.mutations(ACCOUNT) == ()


def test_iam_user_caller_exits_3(
    sandbox: Sandbox, account: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IAM user's credentials: NotRootError, exit 3, one line, nothing changed."""
    session = sandbox.iam_user_session(account.account_id, "alice")
    credentials = session.get_credentials()
    assert credentials is not None
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    made = sandbox.mutations(account.account_id)  # the user's own creation
    code, _, err = run("remove", "--observe", "0", "--yes")
    assert code == 3
    assert err.startswith("rootkeys: error: ")
    assert "user/alice, not an account's root user" in err
    assert len(err.strip().splitlines()) == 1
    assert sandbox.mutations(account.account_id) == made


def test_aws_error_exits_3_and_debug_shows_the_traceback(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """AccessDenied: exit 3 in one line; with --debug the exception propagates."""
    sandbox.deny("ListAccessKeys")
    code, _, err = run("status")
    assert code == 3
    assert "AccessDenied" in err
    with pytest.raises(rootkeys.errors.AccessDeniedError):
        run("status", "--debug")


def test_blocked_run_exits_1(
    sandbox: Sandbox, account: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed with a root key: that key is blocked (never touched), the run exits 1."""
    own = account.root_key_ids[0]
    for name, value in sandbox.root_credentials(account.account_id, key_id=own).items():
        monkeypatch.setenv(name, value)
    sandbox.delete_root_key(account.account_id, account.root_key_ids[1])
    code, out, _ = run("remove", "--observe", "0", "--yes")
    assert code == 1
    assert "blocked" in out
    assert [k.key_id for k in sandbox.root_keys(account.account_id)] == [own]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("0", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    """The --observe forms."""
    assert parse_duration(text) == expected


def test_cli_is_not_imported_by_the_library() -> None:
    """`import rootkeys` loads neither the CLI nor the sandbox."""
    code = (
        "import sys, rootkeys; "
        "print(sorted(m for m in sys.modules if m.startswith(('rootkeys.cli', 'rootkeys.testing',"
        " 'moto', 'argparse'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "rootkeys.cli" not in found
    assert "rootkeys.testing" not in found
    assert "moto" not in found


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m rootkeys --help` is the same command line."""
    done = subprocess.run(
        [sys.executable, "-m", "rootkeys", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "exit codes" in done.stdout


def test_console_script_is_declared() -> None:
    """pyproject declares the `rootkeys` console script."""
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert 'rootkeys = "rootkeys.cli:main_exit"' in text


@pytest.mark.parametrize(
    ("command", "model"),
    [
        ("`plan`", rootkeys.Plan),
        ("`remove`", rootkeys.RemovalReport),
        ("`remove --org`", rootkeys.OrganizationReport),
        ("`status`", rootkeys.RemovalStatus),
        ("`plan --org`", rootkeys.Plan),
        ("`status --org`", rootkeys.RemovalStatus),
        ("`rollback`", rootkeys.StepResult),
        ("`rollback --org`", rootkeys.StepResult),
        ("`history`", rootkeys.journal.KeyHistory),
        ("`audit`", rootkeys.AccountAudit),
    ],
)
def test_documented_json_fields_exist(command: str, model: type[object]) -> None:
    """Every top-level field docs/cli.md lists for a command is a field of its model."""
    import re

    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| {command} |"))
    described = row.split("|")[2]
    top_level = re.sub(r"\([^)]*\)", "", described)  # nested fields are in parentheses
    fields = set(re.findall(r"`(\w+)`", top_level)) - {model.__name__}  # type: ignore[attr-defined]
    assert fields
    assert fields <= set(model.model_fields)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "argv",
    [
        ("history", "NOTAKEY"),
        ("resume", "AKIAbad"),
        ("remove", "--observe", "400d", "--no-wait", "--yes"),
        ("plan", "--regions", "mars-central-9"),
        ("status", "--account-id", "12345"),
        ("plan", "--org", "--accounts", "12345"),
    ],
    ids=[
        "history bad key",
        "resume bad key",
        "window too long",
        "bad region",
        "bad account",
        "org bad account",
    ],
)
def test_bad_input_is_refused_before_credentials_are_needed(argv: tuple[str, ...]) -> None:
    """With no credentials at all, bad input still gets its input error (exit 2), not the
    missing-credentials error (exit 3): input is checked first."""
    code, _, err = run(*argv)
    assert code == 2, err
    assert "credentials" not in err.lower()
