"""A Lambda invocation killed (SIGKILL) in the middle of an account; the next one finishes.

A child process runs `rootkeys.aws_lambda.Handler` against this process's sandbox (over
loopback HTTP) and kills itself right after an AWS change in one account, before its
outcome is journaled (tests/lambda_child.py). Then invocations here finish the job,
judged by the sandbox's truth and the journal. The child's leases last 2 s, so the next
invocation here takes its accounts over after a short wait (in Lambda, a retry or the next
day's run comes after the default 60 s have passed).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys.aws_lambda import Handler
from rootkeys.journal import RecordKind
from rootkeys.testing import Sandbox, SandboxOrganization
from tests.lambdatools import LOCATION, FakeContext, Invocations
from tests.orgtools import quarantined

CHILD = Path(__file__).with_name("lambda_child.py")
WINDOW = timedelta(days=1)
CONFIG = """\
observe = "1d"

[organization]
workers = 1
"""
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


class OffsetClock:
    """The real clock moved by an offset: the same notion of time as the child's."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        pass


@pytest.fixture(params=["sqlite", "dynamodb"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def made(kind: str, sandbox: Sandbox, tmp_path: Path) -> str:
    """The journal's location: a SQLite file's path, or a DynamoDB table, made."""
    if kind == "sqlite":
        return str(tmp_path / "journal.sqlite3")
    rootkeys.Journal.open(LOCATION, session=sandbox.management_session(), create=True)
    return LOCATION


def run_child(
    sandbox: Sandbox, url: str, journal: str, offset: timedelta, kill_at: str
) -> subprocess.CompletedProcess[str]:
    credentials = sandbox.management_session().get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROOTKEYS_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": str(frozen.access_key),
            "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "ROOTKEYS_CONFIG_TOML": CONFIG,
            "ROOTKEYS_JOURNAL": journal,
            "ROOTKEYS_OFFSET": str(offset.total_seconds()),
            "ROOTKEYS_KILL_AT": kill_at,
            "ROOTKEYS_LEASE": "2",  # a killed child's leases expire soon (in Lambda: 60s)
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


def invoke_here(sandbox: Sandbox, journal: str, offset: timedelta) -> dict[str, object]:
    handler = Handler(
        session=sandbox.management_session(),
        clock=OffsetClock(offset),
        environ={"ROOTKEYS_CONFIG_TOML": CONFIG, "ROOTKEYS_JOURNAL": journal},
        invoke=Invocations(),
        out=io.StringIO(),
    )
    return handler({}, FakeContext())


def open_intents(
    sandbox: Sandbox, journal: str, account_id: str
) -> list[rootkeys.journal.JournalRecord]:
    opened = rootkeys.Journal.open(journal, session=sandbox.management_session())
    records = opened.records(account_id)
    closed = {r.intent_seq for r in records if r.kind is RecordKind.OUTCOME}
    return [r for r in records if r.kind is RecordKind.INTENT and r.seq not in closed]


def deleted_a_window_after_quarantine(sandbox: Sandbox, journal: str, account_id: str) -> bool:
    """The journal (on the clock both processes share) shows the account's key deleted a
    whole window after its quarantine was intended, and nothing deleted twice."""
    opened = rootkeys.Journal.open(journal, session=sandbox.management_session())
    records = opened.records(account_id)
    intents = [r for r in records if r.kind is RecordKind.INTENT]
    quarantines = [r.at for r in intents if r.action is rootkeys.lifecycle.Action.QUARANTINE]
    deletes = [r.at for r in intents if r.action is rootkeys.lifecycle.Action.DELETE]
    return len(deletes) == 1 and bool(quarantines) and deletes[0] - min(quarantines) >= WINDOW


@pytest.mark.parametrize("action", ["quarantine", "delete"])
def test_an_invocation_killed_mid_account_is_finished_by_the_next(
    kind: str, action: str, tmp_path: Path
) -> None:
    with Sandbox() as sandbox:
        org: SandboxOrganization = sandbox.create_organization(members=3, root_keys=1)
        journal = made(kind, sandbox, tmp_path)
        members = sorted(org.member_account_ids)
        victim = members[1]
        offset = timedelta(0)
        if action == "delete":
            first = invoke_here(sandbox, journal, offset)
            assert first["counts"] == {"observing": 3, "out of reach": 1}
            offset = WINDOW + timedelta(hours=1)

        with sandbox.serve() as url:
            child = run_child(sandbox, url, journal, offset, f"{action}:{victim}")
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert open_intents(sandbox, journal, victim)  # killed between the change and its outcome
        if action == "quarantine":
            assert quarantined(sandbox, victim)
            assert not quarantined(sandbox, members[2])  # never started
        else:
            assert sandbox.root_keys(victim) == []

        if action == "quarantine":  # the next day's invocation: all observing
            offset += timedelta(hours=1)
            middle = invoke_here(sandbox, journal, offset)
            assert middle["counts"] == {"observing": 3, "out of reach": 1}
            offset = WINDOW + timedelta(hours=2)
        last = invoke_here(sandbox, journal, offset)

        assert last["complete"] is True
        for member in members:
            assert sandbox.root_keys(member) == []
            assert not quarantined(sandbox, member)
            assert open_intents(sandbox, journal, member) == []
            assert deleted_a_window_after_quarantine(sandbox, journal, member)


def test_the_child_without_a_kill_completes(kind: str, tmp_path: Path) -> None:
    """The child works end to end (so the kill above is what the test tests)."""
    with Sandbox() as sandbox:
        org = sandbox.create_organization(members=2, root_keys=1)
        journal = made(kind, sandbox, tmp_path)
        with sandbox.serve() as url:
            child = run_child(sandbox, url, journal, timedelta(0), "")
        assert child.returncode == 0, child.stderr
        assert '"complete":true' in child.stdout
        for member in org.member_account_ids:
            assert quarantined(sandbox, member)
