"""``rootkeys credentials``: every root credential and its findings, from the command line."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from rootkeys._cli.app import main
from rootkeys.testing import MIXED, Sandbox, SandboxAccount
from tests.conftest import Pipe, sign_in


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_one_account_table_shows_credentials_and_findings(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """A table of keys, certificates and MFA, then each finding with its controls."""
    cert = sandbox.add_root_signing_certificate(signed_in.account_id)
    code, out, _ = run("credentials")
    assert code == 0
    assert cert in out
    assert "FAIL root_no_access_key" in out
    assert "IAM.4" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_one_account_ocsf_is_a_json_array_of_detection_findings(
    sandbox: Sandbox, signed_in: SandboxAccount
) -> None:
    """--output ocsf: class 2004 events, one per finding, for the signed-in account."""
    code, out, _ = run("credentials", "--output", "ocsf")
    assert code == 0
    events = json.loads(out)
    assert {e["class_uid"] for e in events} == {2004}
    assert {e["cloud"]["account"]["uid"] for e in events} == {signed_in.account_id}


def test_one_account_json_has_findings(sandbox: Sandbox, signed_in: SandboxAccount) -> None:
    """--output json: the RootCredentials document, findings included."""
    code, out, _ = run("credentials", "--output", "json")
    assert code == 0
    result = json.loads(out)["result"]
    assert result["account_id"] == signed_in.account_id
    assert any(f["check"] == "root_no_access_key" for f in result["findings"])


def test_org_streams_members_and_the_organization_finding(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--org --output csv: the organization's finding, then every member's findings."""
    org = sandbox.create_organization(members=4, root_keys=1, credentials=MIXED)
    sign_in(monkeypatch, sandbox.management_session())
    code, out, _ = run("credentials", "--org", "--output", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["check"] == "root_credentials_management_enabled"
    assert rows[0]["status"] == "PASS"
    assert {r["account_id"] for r in rows[1:]} == set(org.member_account_ids)
    assert sandbox.denials() == ()


def test_ocsf_is_refused_for_other_commands(signed_in: SandboxAccount) -> None:
    """--output ocsf is for findings: plan with it is a usage error (exit 2)."""
    code, _, err = run("plan", "--observe", "1d", "--output", "ocsf")
    assert code == 2
    assert "ocsf" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("credentials", "--accounts", "111122223333"),
        ("credentials", "--org", "--account-id", "111122223333"),
        ("credentials", "--org", "--accounts", "12345"),
    ],
    ids=["accounts-without-org", "account-id-with-org", "bad-account"],
)
def test_bad_options_are_usage_errors_before_any_call(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    """Exit 2, and no AWS call was made."""
    sandbox.create_organization(members=1)
    sign_in(monkeypatch, sandbox.management_session())
    monkeypatch.setattr(sys, "stdin", Pipe())
    before = len(sandbox.calls)
    code, _, _ = run(*argv)
    assert code == 2
    assert len(sandbox.calls) == before
