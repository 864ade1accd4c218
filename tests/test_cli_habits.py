"""The command line's AWS CLI habits: options anywhere, environment variables, an endpoint,
CSV, verify, help that teaches, quiet that is quiet, and a short answer when AWS is out
of reach."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rootkeys
from rootkeys.cli import main
from rootkeys.lifecycle import KeyStatus
from rootkeys.retry import RetryPolicy
from rootkeys.testing import Sandbox, SandboxAccount, SandboxOrganization
from tests.conftest import sign_in
from tests.test_cli import ACCOUNT

COMMANDS = ("plan", "remove", "status", "verify", "history", "resume", "rollback", "audit")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_global_options_go_before_or_after_the_command(signed_in: SandboxAccount) -> None:
    """`rootkeys --output json status` works as `rootkeys status --output json` does, and
    the later of the two wins, as with the AWS CLI."""
    before = run("--output", "json", "status")
    after = run("status", "--output", "json")
    assert before[0] == after[0] == 0
    first, second = (json.loads(text)["result"] for text in (before[1], after[1]))
    assert first["keys"] == second["keys"]
    code, out, _ = run("--output", "json", "status", "--output", "csv")
    assert code == 0
    assert out.startswith("key,")


def test_an_unknown_profile_before_the_command_is_an_input_error(
    signed_in: SandboxAccount,
) -> None:
    code, _, err = run("--profile", "no-such-profile", "plan", "--no-evidence")
    assert code == 2
    assert "no AWS profile named 'no-such-profile'" in err


def test_rootkeys_variables_stand_for_their_options(
    sandbox: Sandbox, signed_in: SandboxAccount, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ROOTKEYS_OUTPUT and ROOTKEYS_JOURNAL are read; a flag still wins over them."""
    journal = tmp_path / "ops.db"
    monkeypatch.setenv("ROOTKEYS_OUTPUT", "json")
    monkeypatch.setenv("ROOTKEYS_JOURNAL", str(journal))
    code, out, _ = run("remove", "--observe", "7d", "--no-wait", "--yes")
    assert code == 0
    assert json.loads(out)["command"] == "remove"
    assert journal.exists()
    code, out, _ = run("status", "--output", "table")
    assert code == 0
    assert out.startswith("Root credentials of account")


def test_a_bad_rootkeys_variable_is_named(
    signed_in: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOTKEYS_OUTPUT", "xml")
    code, _, err = run("status")
    assert code == 2
    assert "ROOTKEYS_OUTPUT='xml'" in err


def test_rootkeys_account_id_refuses_other_credentials(
    sandbox: Sandbox, signed_in: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOTKEYS_ACCOUNT_ID", "999999999999")
    code, _, err = run("remove", "--observe", "0", "--yes")
    assert code == 3
    assert "999999999999" in err
    assert sandbox.mutations(ACCOUNT) == ()


def test_endpoint_url_sends_every_call_to_the_sandbox_server(
    sandbox: Sandbox, account: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--endpoint-url: the CLI reaches a served sandbox, as a real shell would."""
    for name, value in sandbox.root_credentials(account.account_id).items():
        monkeypatch.setenv(name, value)
    before = len(sandbox.calls)
    with sandbox.serve() as url:
        code, out, _ = run("--endpoint-url", url, "--output", "json", "status")
    assert code == 0
    reached = sandbox.calls[before:]
    assert reached
    assert all(call.served for call in reached)  # over loopback HTTP, not in-process
    assert json.loads(out)["result"]["account_id"] == ACCOUNT


def test_csv_is_one_header_and_a_row_per_key(signed_in: SandboxAccount) -> None:
    code, out, _ = run("status", "--output", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "key"
    assert sorted(row[0] for row in rows[1:]) == sorted(signed_in.root_key_ids)


def test_verify_exits_1_while_keys_remain_and_0_once_none_does(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    code, out, _ = run("verify")
    assert code == 1
    assert "root access keys remain" in out
    assert run("remove", "--observe", "0", "--yes")[0] == 0
    code, out, _ = run("verify", "--output", "json")
    assert code == 0
    assert json.loads(out)["result"] == {"account_id": ACCOUNT, "no_root_key_remains": True}


def test_quiet_prints_only_the_result(signed_in: SandboxAccount) -> None:
    """--quiet: no plan, no progress on stderr; the report alone on stdout."""
    code, out, err = run("remove", "--observe", "0", "--yes", "--quiet")
    assert code == 0
    assert err == ""
    assert "deleted" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_a_description_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(command, "--help")
    shown = capsys.readouterr().out
    assert code == 0
    assert "examples:" in shown
    assert f"rootkeys {command}" in shown.split("examples:")[1]
    assert "exit codes:" in shown
    assert "(default:" in shown
    assert max(len(line) for line in shown.splitlines()) <= 100


def test_an_unreachable_endpoint_is_one_line_after_a_short_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listens on the port: one error line, well under the default's 25 s."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    started = time.monotonic()
    code, _, err = run("--endpoint-url", "http://127.0.0.1:9", "status")
    assert code == 3
    assert time.monotonic() - started < 8
    assert err.count("\n") == 1
    assert "could not reach AWS at http://127.0.0.1:9" in err


def test_unreachable_attempts_must_be_positive() -> None:
    with pytest.raises(rootkeys.errors.InputError, match="unreachable_attempts"):
        RetryPolicy(unreachable_attempts=0)


def test_python_dash_m_rootkeys_takes_global_options_first() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rootkeys", "--output", "json", "plan", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "examples:" in done.stdout


def test_org_csv_names_each_rows_account(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """audit --output csv: one header; every row starts with its member account."""
    org = sandbox.create_organization(members=2, root_keys=1)
    sign_in(monkeypatch, sandbox.management_session())
    code, out, _ = run("audit", "--output", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "account"
    members = set(org.member_account_ids)
    assert {row[0] for row in rows[1:]} == members
    assert len(rows) == 1 + len(members)


def test_org_remove_with_every_key_held_changes_nothing_and_says_how_to_go_on(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for one account: no question, no change, exit 1, and the way to move on."""
    from datetime import timedelta

    org = sandbox.create_organization(members=1, root_keys=1)
    held = rootkeys.Organization(sandbox.management_session(), checks=[lambda key: False])
    held.remove_all(timedelta(days=7), wait=False)
    sign_in(monkeypatch, sandbox.management_session())
    before = len(sandbox.mutations())
    code, out, err = run("remove", "--org", "--observe", "7d", "--yes")
    assert code == 1
    assert out == ""
    assert "nothing rootkeys may remove now" in err
    assert f"rootkeys resume --org --accounts {org.member_account_ids[0]}" in err
    assert len(sandbox.mutations()) == before


def test_remove_takes_its_window_and_checks_from_the_config_file(
    sandbox: Sandbox, signed_in: SandboxAccount, tmp_path: Path
) -> None:
    """Only a config file: its window and its command check drive the run; a failing
    check rolls the run back (exit 1)."""
    config = tmp_path / "rootkeys.toml"
    config.write_text('observe = "7d"\n\n[[checks.command]]\nrun = ["false"]\ntimeout = "5s"\n')
    code, out, err = run("--config", str(config), "remove", "--no-wait", "--yes")
    assert code == 1
    assert "rolled back" in out
    assert "rootkeys resume" in err
    assert {k.status for k in sandbox.root_keys(ACCOUNT)} == {KeyStatus.ACTIVE}


def test_rootkeys_config_names_the_file_and_flags_add_checks(
    sandbox: Sandbox, signed_in: SandboxAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "rootkeys.toml"
    config.write_text('observe = "7d"\n')
    monkeypatch.setenv("ROOTKEYS_CONFIG", str(config))
    code, out, _ = run("remove", "--no-wait", "--yes", "--check-command", "true", "--wide")
    assert code == 0
    assert "observing" in out
    assert "7d" in out
    assert "2 checks run" in out  # the flag's command check ran, once per key


def test_a_bad_config_file_is_exit_2_naming_its_line_before_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials at all: the config's mistake is what is reported, with its line."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "rootkeys.toml"
    config.write_text('observe = "7d"\n\n[[checks.http]]\nurl = "ftp://nope"\n')
    code, _, err = run("remove", "--config", str(config), "--yes")
    assert code == 2
    assert "line 4" in err


def test_wide_shows_the_columns_the_fitted_table_leaves_out(signed_in: SandboxAccount) -> None:
    """--wide: a plan's risk and window columns, which the 100-column plan drops."""
    _, fitted, _ = run("plan", "--observe", "7d", "--no-evidence")
    _, wide, _ = run("plan", "--observe", "7d", "--no-evidence", "--wide")
    header = next(line for line in wide.splitlines() if line.strip().startswith("key "))
    assert "risk" in header
    assert "window" in header
    fitted_header = next(x for x in fitted.splitlines() if x.strip().startswith("key "))
    assert "risk" not in fitted_header


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["plan", "--observe", "-1d"], "cannot be negative"),
        (["--output", "xml", "status"], "invalid choice: 'xml'"),
        (["plan", "--observe", "7x"], "not a duration"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_help(argv: list[str], said: str) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert err.count("\n") == 1
    assert said in err
    assert "--help`)" in err


def test_account_id_goes_before_the_command_too(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    code, _, err = run("--account-id", "999999999999", "remove", "--observe", "0", "--yes")
    assert code == 3
    assert "999999999999" in err
    assert sandbox.mutations(ACCOUNT) == ()


def test_plan_and_status_read_the_config_file_and_rollback_never_does(
    signed_in: SandboxAccount, tmp_path: Path
) -> None:
    """status gives not-yet-started keys the config's window; a bad file is refused by the
    commands that use it, and never stands in the way of a rollback."""
    config = tmp_path / "rootkeys.toml"
    config.write_text('observe = "2d"\n')
    code, out, _ = run("--config", str(config), "--output", "json", "status")
    assert code == 0
    assert {key["window"] for key in json.loads(out)["result"]["keys"]} == {"P2D"}
    config.write_text('observ = "2d"\n')
    for command in ("status", "plan"):
        code, _, err = run("--config", str(config), command)
        assert code == 2
        assert "line 1" in err
    code, _, err = run("--config", str(config), "rollback", "--yes")
    assert code == 0, err


def test_an_interrupted_remove_says_how_to_go_on(
    sandbox: Sandbox, signed_in: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C: exit 130, and what the keys' state is and which command goes on."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rootkeys.RootKeyManager, "remove_all", interrupted)
    code, _, err = run("remove", "--observe", "7d", "--yes")
    assert code == 130
    assert "Nothing was deleted by the interrupt" in err
    assert "run the same `rootkeys remove` again to go on" in err


def test_org_verify_says_the_management_account_is_not_verified(
    org_signed_in: SandboxOrganization,
) -> None:
    code, out, _ = run("verify", "--org")
    assert code == 1  # the members still have their keys
    assert "the management account is not verified here" in out


def test_org_rollback_run_names_the_resume_command_and_resume_needs_no_accounts(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, tmp_path: Path
) -> None:
    """A check failing in an organization run: the command that resumes the accounts; then
    `resume --org` alone resumes every held account."""
    config = tmp_path / "rootkeys.toml"
    config.write_text('observe = "7d"\n\n[[checks.command]]\nrun = ["false"]\n')
    code, _, err = run("--config", str(config), "remove", "--org", "--no-wait", "--yes")
    assert code == 1
    members = ",".join(sorted(org_signed_in.member_account_ids))
    named = err.split("rootkeys resume --org --accounts ")[1].split("`")[0]
    assert ",".join(sorted(named.split(","))) == members
    code, out, _ = run("--output", "json", "resume", "--org")
    assert code == 0
    resumed = json.loads(out)["result"]
    assert sorted(entry["account_id"] for entry in resumed) == sorted(members.split(","))
    assert all(entry["resumed"] for entry in resumed)


def test_credentials_flag_scopes_a_run_and_certificate_ids_are_accepted(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """A root signing certificate: `--credentials keys` leaves it alone; by default the run
    covers it; `history CERT_ID` reads its records."""
    cert = sandbox.add_root_signing_certificate(ACCOUNT)
    code, out, _ = run("remove", "--observe", "0", "--yes", "--credentials", "keys")
    assert code == 0
    assert cert not in out
    assert sandbox.root_signing_certificates(ACCOUNT) == {cert: "Active"}
    code, out, _ = run("remove", "--observe", "0", "--yes")
    assert code == 0
    assert cert in out
    assert sandbox.root_signing_certificates(ACCOUNT) == {}
    code, out, _ = run("history", cert)
    assert code == 0
    assert "delete" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["plan", "--credentials", "bogus"], "credential"),
        (["plan", "--org", "--mfa"], "MFA devices are removed with the root password"),
        (["status", "--password"], "--password is for member accounts (--org)"),
    ],
)
def test_bad_credentials_selections_are_input_errors(
    signed_in: SandboxAccount, argv: list[str], said: str
) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert said in err


def test_org_verify_gives_no_verdict_for_an_account_it_could_not_read(
    org_signed_in: SandboxOrganization,
) -> None:
    """The management account (out of reach) is neither clean nor dirty: null, not true."""
    code, out, _ = run("--output", "json", "verify", "--org")
    verdicts = {r["account_id"]: r["no_root_key_remains"] for r in json.loads(out)["result"]}
    assert verdicts["999988887777"] is None
    assert {verdicts[m] for m in org_signed_in.member_account_ids} == {False}
    assert code == 1
