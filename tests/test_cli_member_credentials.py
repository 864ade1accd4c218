"""The CLI over member accounts' root credentials: --credentials, --password, --mfa."""

from __future__ import annotations

import io
import json
from pathlib import Path

import rootkeys
from rootkeys._cli.app import main
from rootkeys.testing import Sandbox, SandboxAccount, SandboxOrganization
from tests.orgtools import quarantined


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _give_everything(sandbox: Sandbox, org: SandboxOrganization) -> None:
    for member in org.member_account_ids:
        sandbox.add_root_signing_certificate(member)
        sandbox.set_root_password(member)
        sandbox.add_root_mfa_device(member)


def test_remove_org_with_password_and_mfa_removes_every_credential(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, tmp_path: Path
) -> None:
    """--password --mfa: keys, certificates, passwords and MFA gone; verify --password --mfa 0."""
    _give_everything(sandbox, org_signed_in)
    journal = str(tmp_path / "journal.sqlite3")

    code, _, err = run(
        "remove", "--org", "--observe", "0s", "--password", "--mfa", "--yes", "--journal", journal
    )

    assert code == 0, err
    assert "1 access key(s), 1 signing certificate(s), password, 1 MFA" in err
    for member in org_signed_in.member_account_ids:
        assert sandbox.root_keys(member) == []
        assert sandbox.root_signing_certificates(member) == {}
        assert not sandbox.root_password(member)
        assert sandbox.root_mfa_devices(member) == {}
    code, out, _ = run("verify", "--org", "--password", "--mfa", "--output", "json")
    assert code == 0
    verdicts = {r["account_id"]: r["no_root_key_remains"] for r in json.loads(out)["result"]}
    assert all(verdicts[m] is True for m in org_signed_in.member_account_ids)
    assert sandbox.denials() == ()


def test_remove_org_by_default_leaves_passwords_and_verify_says_what_remains(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, tmp_path: Path
) -> None:
    """Without the flags, passwords and MFA stay; verify --org --password says they remain."""
    _give_everything(sandbox, org_signed_in)
    journal = str(tmp_path / "journal.sqlite3")

    code, _, err = run("remove", "--org", "--observe", "0s", "--yes", "--journal", journal)

    assert code == 0, err
    member = org_signed_in.member_account_ids[0]
    assert sandbox.root_signing_certificates(member) == {}
    assert sandbox.root_password(member)
    assert len(sandbox.root_mfa_devices(member)) == 1
    assert run("verify", "--org")[0] == 0
    code, out, _ = run("verify", "--org", "--password")
    assert code == 1
    assert "a root password remain" in out


def test_plan_org_with_password_shows_the_password(
    sandbox: Sandbox, org_signed_in: SandboxOrganization
) -> None:
    """plan --org --password --output json lists the password by its lifecycle id."""
    _give_everything(sandbox, org_signed_in)

    code, out, err = run("plan", "--org", "--observe", "1d", "--password", "--output", "json")

    assert code == 0, err
    ids = [k["key_id"] for plan in json.loads(out)["result"] for k in plan["keys"]]
    assert any(i.startswith("password:") for i in ids)
    assert not any(i.startswith("mfa:") for i in ids)


def test_mfa_without_password_and_password_for_one_account_are_usage_errors(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """Exit 2 before any AWS call: --mfa alone with --org; --password for one account."""
    before = len(sandbox.calls)

    code, _, err = run("remove", "--org", "--observe", "1d", "--mfa", "--yes")
    assert code == 2
    assert "MFA devices are removed with the root password" in err
    code, _, err = run("remove", "--observe", "1d", "--password", "--yes")
    assert code == 2
    assert "--password is for member accounts (--org)" in err
    code, _, err = run("plan", "--credentials", "keys,password")
    assert code == 2
    assert "use --password and --mfa" in err

    assert len(sandbox.calls) == before


def test_one_account_verify_takes_password(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """verify --password (a read) for one account: 1 while the root user has a password."""
    sandbox.set_root_password(signed_in.account_id)
    for key in sandbox.root_keys(signed_in.account_id):
        sandbox.delete_root_key(signed_in.account_id, key.key_id)

    assert run("verify")[0] == 0
    assert run("verify", "--password")[0] == 1


def test_history_org_shows_a_members_password_records(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, tmp_path: Path
) -> None:
    """history --org --accounts ID password:...: the journal's records of that password."""
    _give_everything(sandbox, org_signed_in)
    journal = str(tmp_path / "journal.sqlite3")
    member = org_signed_in.member_account_ids[0]
    run("remove", "--org", "--observe", "0s", "--password", "--mfa", "--yes", "--journal", journal)
    password = next(
        r.key_id
        for r in rootkeys.Journal(journal).records(member)
        if r.key_id.startswith("password:")
    )

    code, out, err = run("history", "--org", "--accounts", member, password, "--journal", journal)

    assert code == 0, err
    assert password in out
    assert "delete" in out
    code, _, err = run("history", "--org", password, "--journal", journal)
    assert code == 2
    assert "needs --accounts with one member account id" in err


def test_remove_org_takes_the_config_files_organization_accounts(
    sandbox: Sandbox, org_signed_in: SandboxOrganization, tmp_path: Path
) -> None:
    """The scheduled run's [organization] account_ids limit a run by hand too, said aloud."""
    org = org_signed_in
    chosen = org.member_account_ids[1]
    config = tmp_path / "config.toml"
    config.write_text(f'observe = "7d"\n\n[organization]\naccount_ids = ["{chosen}"]\n')
    journal = str(tmp_path / "journal.sqlite3")
    code, _, err = run(
        "--config", str(config), "remove", "--org", "--no-wait", "--yes", "--journal", journal
    )
    assert code == 0, err
    assert "Only the 1 member account(s) the config file's [organization]" in err
    quarantined_now = [a for a in org.member_account_ids if quarantined(sandbox, a)]
    assert quarantined_now == [chosen]
