"""Kill the process at each step boundary, run again: it converges, safely.

A child process runs rootkeys against this process's sandbox (over loopback HTTP) and
SIGKILLs itself at one boundary: after the intent is committed, after the AWS call
returns, or just before the outcome is written. Then runs here finish the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import RunOutcome
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import Sandbox, SandboxAccount

CHILD = Path(__file__).with_name("crash_child.py")
WINDOW = timedelta(days=1)
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


class OffsetClock:
    """The real clock moved by an offset: the same notion of time as the child's."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        pass  # waits are not needed here: no faults are injected


def run_child(
    sandbox: Sandbox,
    account: SandboxAccount,
    url: str,
    journal: Path,
    offset: timedelta,
    kill_at: str,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.root_credentials(account.account_id))
    env.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "ROOTKEYS_JOURNAL": str(journal),
            "ROOTKEYS_OFFSET": str(offset.total_seconds()),
            "ROOTKEYS_WINDOW": str(WINDOW.total_seconds()),
            "ROOTKEYS_KILL_AT": kill_at,
        }
    )
    return subprocess.run(
        [sys.executable, str(CHILD)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_here(
    sandbox: Sandbox, account: SandboxAccount, journal: Path, offset: timedelta
) -> rootkeys.RemovalReport:
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=journal, clock=OffsetClock(offset)
    )
    return manager.remove_all(observe_for=WINDOW, wait=False)


def assert_journal_sound(journal: Path, account_id: str) -> None:
    """Readable; every intent has an outcome; no delete before a full window."""
    records = rootkeys.Journal(journal).records(account_id)
    intents = {r.seq for r in records if r.kind is RecordKind.INTENT}
    closed = {r.intent_seq for r in records if r.kind is RecordKind.OUTCOME}
    assert intents <= closed, "an intent was left without an outcome"
    started: dict[str, datetime] = {}
    for r in records:
        if r.kind is RecordKind.WINDOW_STARTED or (
            r.kind is RecordKind.OUTCOME
            and r.action is rootkeys.lifecycle.Action.DEACTIVATE
            and r.status is rootkeys.reports.StepStatus.DONE
        ):
            started.setdefault(r.key_id, r.at)
        if r.kind is RecordKind.INTENT and r.action is rootkeys.lifecycle.Action.DELETE:
            assert r.key_id in started, "deleted with no window"
            assert r.at >= started[r.key_id] + WINDOW, "deleted before its window passed"


@pytest.mark.parametrize("boundary", ["intent", "call", "outcome"])
def test_kill_during_deactivation_then_converge(tmp_path: Path, boundary: str) -> None:
    """Killed while deactivating: later runs observe a full window, then delete."""
    journal = tmp_path / "journal.sqlite3"
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=2)
        with sandbox.serve() as url:
            child = run_child(
                sandbox, account, url, journal, timedelta(0), f"{boundary}:deactivate"
            )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert rootkeys.Journal(journal).records(account.account_id)  # still readable

        soon = run_here(sandbox, account, journal, timedelta(hours=1))
        assert soon.outcome is RunOutcome.OBSERVING
        assert not any(c.operation == "DeleteAccessKey" for c in sandbox.calls)
        assert {k.status for k in sandbox.root_keys(account.account_id)} == {KeyStatus.INACTIVE}

        later = run_here(sandbox, account, journal, WINDOW + timedelta(hours=2))
        assert later.outcome is RunOutcome.DONE
        assert sandbox.root_keys(account.account_id) == []
        assert_journal_sound(journal, account.account_id)


@pytest.mark.parametrize("boundary", ["intent", "call", "outcome"])
def test_kill_during_deletion_then_converge(tmp_path: Path, boundary: str) -> None:
    """Killed while deleting after a clean window: the next run finishes the job."""
    journal = tmp_path / "journal.sqlite3"
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=2)
        assert run_here(sandbox, account, journal, timedelta(0)).outcome is RunOutcome.OBSERVING
        with sandbox.serve() as url:
            child = run_child(
                sandbox, account, url, journal, WINDOW + timedelta(hours=1), f"{boundary}:delete"
            )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert rootkeys.Journal(journal).records(account.account_id)

        report = run_here(sandbox, account, journal, WINDOW + timedelta(hours=1))
        assert report.outcome is RunOutcome.DONE
        assert sandbox.root_keys(account.account_id) == []
        assert_journal_sound(journal, account.account_id)


@pytest.mark.parametrize("boundary", ["intent", "call", "outcome"])
@pytest.mark.parametrize("action", ["deactivate", "delete"])
def test_kill_during_a_certificate_change_then_converge(
    tmp_path: Path, boundary: str, action: str
) -> None:
    """Killed mid-change to a signing certificate: the next runs finish it, window kept."""
    journal = tmp_path / "journal.sqlite3"
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=0)
        cert = sandbox.add_root_signing_certificate(account.account_id)
        offset = timedelta(0)
        if action == "delete":
            assert run_here(sandbox, account, journal, offset).outcome is RunOutcome.OBSERVING
            offset = WINDOW + timedelta(hours=1)
        with sandbox.serve() as url:
            child = run_child(sandbox, account, url, journal, offset, f"{boundary}:{action}:cert")
        assert child.returncode == -signal.SIGKILL, child.stderr
        records = rootkeys.Journal(journal).records(account.account_id)
        assert records[-1].kind is RecordKind.INTENT  # the kill left an intent open

        if action == "deactivate":
            soon = run_here(sandbox, account, journal, timedelta(hours=1))
            assert soon.outcome is RunOutcome.OBSERVING
            assert sandbox.root_signing_certificates(account.account_id) == {cert: "Inactive"}
            assert not any(c.operation == "DeleteSigningCertificate" for c in sandbox.calls)
        report = run_here(sandbox, account, journal, WINDOW + timedelta(hours=2))
        # a delete the child made is found done (nothing left to do); else this run deletes
        assert report.outcome in (RunOutcome.DONE, RunOutcome.NOTHING_TO_DO)
        assert sandbox.root_signing_certificates(account.account_id) == {}
        assert_journal_sound(journal, account.account_id)
        (last,) = [
            r
            for r in rootkeys.Journal(journal).records(account.account_id, cert)
            if r.kind is RecordKind.OUTCOME and r.action is rootkeys.lifecycle.Action.DELETE
        ][-1:]
        assert last.to_state is rootkeys.KeyState.DELETED


def test_child_without_a_kill_completes(tmp_path: Path) -> None:
    """The child itself works end to end (so the kills above are what the tests test)."""
    journal = tmp_path / "journal.sqlite3"
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=2)
        with sandbox.serve() as url:
            first = run_child(sandbox, account, url, journal, timedelta(0), "")
            assert (first.returncode, first.stdout.strip()) == (0, "observing"), first.stderr
            second = run_child(sandbox, account, url, journal, WINDOW + timedelta(hours=1), "")
            assert (second.returncode, second.stdout.strip()) == (0, "done"), second.stderr
        assert sandbox.root_keys(account.account_id) == []
        assert_journal_sound(journal, account.account_id)
