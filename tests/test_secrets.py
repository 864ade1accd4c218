"""No secret access key or session token appears in logs, reprs, reports or exceptions."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager, Recorder


def _assert_clean(texts: list[str], sandbox: Sandbox) -> None:
    secrets = list(sandbox.secrets())
    assert secrets, "the sandbox handed out no secrets: the test would prove nothing"
    blob = "\n".join(texts)
    assert blob, "nothing was collected: the test would prove nothing"
    for secret in secrets:
        assert secret not in blob


def test_no_secret_anywhere_in_a_full_run(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Plan, report, events, step results, log records and errors of a run hold no secret."""
    caplog.set_level(logging.DEBUG, logger="rootkeys")
    own = account.root_key_ids[0]
    session = sandbox.root_session(account.account_id, key_id=own)  # a root key's secret
    manager = make_manager(session=session)
    sandbox.inject_throttling(operation="ListAccessKeys", times=1)
    texts: list[str] = []
    plan = manager.plan(observe_for=timedelta(hours=1))
    texts += [repr(plan), str(plan), plan.model_dump_json(), plan.table()]
    report = manager.remove_all(observe_for=timedelta(hours=1))
    texts += [repr(report), report.model_dump_json(), report.table()]
    texts += [repr(manager.caller()), repr(manager.list_keys())]
    for call in (lambda: manager.delete(own), lambda: manager.deactivate(own)):
        with pytest.raises(rootkeys.RootKeysError) as caught:
            call()
        texts += [str(caught.value), repr(caught.value)]
    sandbox.deny("ListAccessKeys")
    with pytest.raises(rootkeys.errors.AccessDeniedError) as denied:
        manager.verify()
    texts += [str(denied.value), repr(denied.value)]
    texts += [repr(e) for e in recorder.events] + [str(e) for e in recorder.events]
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(c) for c in sandbox.calls]
    sandbox.clear_faults()
    journal = manager.journal
    assert journal is not None
    texts += [r.model_dump_json() for r in journal.records(account.account_id)]
    texts += [manager.history(own).table(), manager.status().table()]
    for path in journal.path.parent.glob(journal.path.name + "*"):
        texts.append(path.read_bytes().decode("latin-1"))  # the database file itself
    _assert_clean(texts, sandbox)


def test_secrets_quoted_by_aws_are_redacted_from_errors(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """An AWS error message that quotes a secret is redacted in the raised error."""
    session = sandbox.root_session(account.account_id)
    token = session.get_credentials().get_frozen_credentials().token
    assert token
    sandbox.inject_error(
        "SignatureDoesNotMatch",
        status=403,
        message=f"bad signature. The Canonical String for this request should have been "
        f"'x-amz-security-token:{token}'",
    )
    with pytest.raises(rootkeys.errors.InvalidCredentialsError) as caught:
        make_manager(session=session).list_keys()
    assert token not in str(caught.value)
    assert "SignatureDoesNotMatch" in str(caught.value)


def test_no_secret_anywhere_in_an_organization_removal(
    sandbox: Sandbox,
    clock: FakeClock,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """AssumeRoot credentials never reach the report, events, logs or the journal."""
    caplog.set_level(logging.DEBUG, logger="rootkeys")
    org = sandbox.create_organization(members=3, root_keys=1)
    app = org.member_account_ids[0]
    sandbox.inject_error("ExpiredToken", operation="ListAccessKeys", account_id=app)
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    organization = rootkeys.Organization(
        sandbox.management_session(),
        clock=clock,
        journal=journal,
        hooks=[recorder],
        checks=[lambda key: key.account_id != app],
    )
    report = organization.remove_all(timedelta(hours=1), timedelta(minutes=30))
    assert report.counts[rootkeys.AccountOutcome.ROLLED_BACK] == 1
    texts = [repr(report), report.model_dump_json(), report.table()]
    texts += [repr(a) for a in organization.audit()]
    texts += [repr(e) for e in recorder.events] + [r.getMessage() for r in caplog.records]
    texts += [r.model_dump_json() for m in org.member_account_ids for r in journal.records(m)]
    for path in tmp_path.glob("journal.sqlite3*"):
        texts.append(path.read_bytes().decode("latin-1"))
    assert any(s.startswith("ASIA") for s in (c.signing_key_id or "" for c in sandbox.calls))
    _assert_clean(texts, sandbox)


def test_cli_debug_log_holds_no_secret(sandbox: Sandbox, tmp_path: Path) -> None:
    """`rootkeys --debug`, run as a command (its own process and logging), logs rootkeys'
    own debug lines and no secret: botocore's debug log, which prints every request's
    headers (the session token among them), stays off."""
    import os
    import subprocess
    import sys

    account = sandbox.create_account("444455556666", root_keys=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.root_credentials(account.account_id))
    env["AWS_SESSION_TOKEN"] = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN" + "x" * 60  # signed with too
    env["XDG_STATE_HOME"] = str(tmp_path)
    with sandbox.serve() as url:
        env["AWS_ENDPOINT_URL"] = url
        done = subprocess.run(
            [sys.executable, "-m", "rootkeys", "remove", "--observe", "0", "--yes", "--debug"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "deleted" in done.stderr  # the debug log is on: it tells each event
    for secret in (env["AWS_SESSION_TOKEN"], env["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in done.stderr
        assert secret not in done.stdout
