"""The journal's contract, one suite run against every store: SQLite and DynamoDB (moto).

Records are appended in order and read back as written; an account's lease admits one
holder at a time, is renewed while held, is taken over once it has expired, and fences
the holder that lost it: its late writes are refused. Processes race, die and pause for
real here (the DynamoDB journal through the sandbox's loopback endpoint).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import rootkeys
from rootkeys.errors import JournalError, JournalFencedError, JournalLockedError
from rootkeys.testing import Sandbox

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = "AKIAIOSFODNN7EXAMPLE"
ROOT = Path(__file__).parent.parent


@dataclass
class Backend:
    """One store under test: how to open journals on it, here and in a child process."""

    name: str
    location: str
    opener: Callable[..., rootkeys.Journal]
    env: dict[str, str] = field(default_factory=dict)
    opened: list[rootkeys.Journal] = field(default_factory=list)

    def open(self, **kwargs: Any) -> rootkeys.Journal:
        journal = self.opener(**kwargs)
        self.opened.append(journal)
        return journal


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "journal.sqlite3"
        store = Backend("sqlite", str(path), lambda **kw: rootkeys.Journal(path, **kw))
        yield store
    else:
        with Sandbox() as sandbox:
            account = sandbox.create_account().account_id
            session = sandbox.admin_session(account)
            rootkeys.Journal.dynamodb("rootkeys-journal", session=session, create=True).close()
            location = "dynamodb://rootkeys-journal?region=us-east-1"
            with sandbox.serve() as url:
                frozen = session.get_credentials().get_frozen_credentials()  # type: ignore[union-attr]
                env = {
                    "AWS_ENDPOINT_URL": url,
                    "AWS_ACCESS_KEY_ID": frozen.access_key,
                    "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
                store = Backend(
                    "dynamodb",
                    location,
                    lambda **kw: rootkeys.Journal.open(location, session=session, **kw),
                    env,
                )
                yield store
    for journal in store.opened:
        journal.close()


def _append(journal: rootkeys.Journal, kind: str = "seen", account: str = ACCOUNT, **more: Any):  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {"to_state": "Active"} if kind == "seen" else {}
    fields.update(more)
    return journal.append(account_id=account, key_id=KEY, run_id="run-1", kind=kind, **fields)


# -- records -----------------------------------------------------------------------------------


def test_records_come_back_in_order_per_account(backend: Backend) -> None:
    journal = backend.open()
    with journal.lock(ACCOUNT):
        seen = _append(journal)
        intent = _append(journal, "intent", action="deactivate", from_state="Active")
        outcome = _append(journal, "outcome", status="done", intent_seq=intent.seq)
    other = _append(journal, account=OTHER)  # outside a lock block: its lease taken briefly
    records = journal.records(ACCOUNT)
    assert [r.kind.value for r in records] == ["seen", "intent", "outcome"]
    assert [r.seq for r in records] == [seen.seq, intent.seq, outcome.seq]
    assert seen.seq < intent.seq < outcome.seq
    assert records[2].intent_seq == intent.seq
    assert journal.records(OTHER) == [other]
    assert journal.records(ACCOUNT, "AKIAOTHERKEYEXAMPLE1") == []
    assert journal.accounts() == [ACCOUNT, OTHER]
    again = backend.open()  # another opener reads what the first wrote
    assert again.records(ACCOUNT) == records


def test_export_is_json_lines_of_every_record(backend: Backend) -> None:
    journal = backend.open()
    for account in (OTHER, ACCOUNT):
        _append(journal, account=account)
    lines = list(journal.export())
    assert [json.loads(line)["account_id"] for line in lines] == [ACCOUNT, OTHER]
    assert [rootkeys.journal.JournalRecord.model_validate_json(x) for x in lines] == [
        *journal.records(ACCOUNT),
        *journal.records(OTHER),
    ]


def test_copy_into_the_other_store_keeps_every_record_in_order(
    backend: Backend, tmp_path: Path
) -> None:
    source = rootkeys.Journal(tmp_path / "source.sqlite3")
    with source.lock(ACCOUNT):
        for n in range(5):
            _append(source, detail=f"record {n}")
    intent = _append(source, "intent", account=OTHER, action="delete", from_state="Inactive")
    _append(source, "outcome", account=OTHER, status="done", intent_seq=intent.seq)
    destination = backend.open()
    assert source.copy_to(destination) == 7
    assert list(destination.export()) == list(source.export())
    assert source.copy_to(destination) == 0  # again: nothing to do
    later = _append(source, "intent", account=OTHER, action="delete", from_state="Inactive")
    _append(source, "outcome", account=OTHER, status="done", intent_seq=later.seq)
    assert source.copy_to(destination) == 2  # what was recorded since, after the rest
    assert list(destination.export()) == list(source.export())
    stranger = rootkeys.Journal(tmp_path / "stranger.sqlite3")
    _append(stranger, account=ACCOUNT, detail="another story")
    with pytest.raises(JournalError, match="has other records"):
        stranger.copy_to(destination)  # never merged into an account it has
    back = rootkeys.Journal(tmp_path / "back.sqlite3")
    destination.copy_to(back)
    assert list(back.export()) != []
    assert destination.copy_to(back) == 0
    assert [r.model_dump(exclude={"seq", "intent_seq"}) for r in back.records(OTHER)] == [
        r.model_dump(exclude={"seq", "intent_seq"}) for r in source.records(OTHER)
    ]
    copied = back.records(OTHER)
    assert copied[1].intent_seq == copied[0].seq  # each reference follows its intent
    assert copied[3].intent_seq == copied[2].seq


def test_a_copy_stopped_midway_is_finished_in_order(backend: Backend, tmp_path: Path) -> None:
    source = rootkeys.Journal(tmp_path / "source.sqlite3")
    with source.lock(ACCOUNT):
        for n in range(4):
            _append(source, detail=f"old {n}")
    destination = backend.open()
    store: Any = destination._store
    if backend.name == "dynamodb":  # the third put fails: two records are there
        real_call, puts = store._call, []

        def failing(operation: str, **params: Any) -> Any:
            if operation == "put_item" and params["Item"]["sk"]["S"].startswith("R#"):
                puts.append(1)
                if len(puts) == 3:
                    raise JournalError("the network went away")
            return real_call(operation, **params)

        store._call = failing
    else:  # one transaction per account: stopped after a first copy of two records
        real_load = store.load
        store.load = lambda a, records, t, k: real_load(a, records[:2], t, k)
    with pytest.raises(JournalError):
        source.copy_to(destination)
    assert [r.detail for r in destination.records(ACCOUNT)] == ["old 0", "old 1"]
    if backend.name == "dynamodb":
        store._call = real_call
        with destination.lock(ACCOUNT) as lease:  # no append slips in before the rest
            assert store._last[ACCOUNT] == 4
            assert lease.token > 0
    else:
        store.load = real_load
    assert source.copy_to(destination) == 2
    assert [r.detail for r in destination.records(ACCOUNT)] == [f"old {n}" for n in range(4)]


# -- leases, in one process ----------------------------------------------------------------------


def test_lock_excludes_a_second_holder_then_times_out(backend: Backend) -> None:
    first = backend.open()
    second = backend.open(lock_timeout=timedelta(milliseconds=300))
    with first.lock(ACCOUNT) as lease:
        with pytest.raises(JournalLockedError, match=ACCOUNT), second.lock(ACCOUNT):
            pass
        with second.lock(OTHER):  # another account is free
            pass
    with second.lock(ACCOUNT) as later:  # let go: free at once
        assert later.token > lease.token


def test_a_held_lease_is_renewed_past_its_length(backend: Backend) -> None:
    holder = backend.open(lease=timedelta(milliseconds=400))
    other = backend.open(lock_timeout=timedelta(milliseconds=200))
    with holder.lock(ACCOUNT):
        time.sleep(1.0)  # two and a half leases: renewed meanwhile
        with pytest.raises(JournalLockedError), other.lock(ACCOUNT):
            pass
        _append(holder)  # still its own


def test_a_writer_that_lost_its_lease_is_fenced(backend: Backend) -> None:
    paused = backend.open(lease=timedelta(milliseconds=300))
    taker = backend.open(lock_timeout=timedelta(seconds=5))
    with paused.lock(ACCOUNT) as old:
        _append(paused)
        paused._leases._closed.set()  # it stops renewing, as a paused process would
        time.sleep(0.4)
        with taker.lock(ACCOUNT) as new:
            assert new.token > old.token
            _append(taker, "intent", action="deactivate", from_state="Active")
            with pytest.raises(JournalFencedError, match=ACCOUNT):
                _append(paused, "intent", action="delete", from_state="Inactive")
    kinds = [(r.kind.value, r.action) for r in taker.records(ACCOUNT)]
    assert kinds == [("seen", None), ("intent", "deactivate")]


def test_threads_of_one_journal_take_turns(backend: Backend) -> None:
    from concurrent.futures import ThreadPoolExecutor

    journal = backend.open()

    def act(n: int) -> None:
        with journal.lock(ACCOUNT):
            count = len(journal.records(ACCOUNT))
            _append(journal, detail=f"{count}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(act, range(8)))
    assert [r.detail for r in journal.records(ACCOUNT)] == [str(n) for n in range(8)]


# -- leases, across processes --------------------------------------------------------------------


def _child(backend: Backend, mode: str, lease: float, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.journal_child", mode, backend.location, ACCOUNT],
        cwd=ROOT,
        env={
            **os.environ,
            **backend.env,
            "PYTHONPATH": str(ROOT / "src"),
            "ROOTKEYS_LEASE": str(lease),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(child: subprocess.Popen[str], word: str) -> None:
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line != word:
        child.kill()
        raise AssertionError(f"child said {line!r}, not {word!r}: {child.stderr.read()}")  # type: ignore[union-attr]


def test_two_processes_racing_for_an_account_exactly_one_acts(backend: Backend) -> None:
    backend.open().accounts()  # the journal exists before they race to open it
    start = str(time.time() + 2.0)
    children = [_child(backend, "race", 60, ROOTKEYS_START=start) for _ in range(2)]
    said = sorted(c.communicate(timeout=60)[0].strip() for c in children)
    assert [c.returncode for c in children] == [0, 0], [c.stderr for c in children]
    assert said == ["acted", "saw"]
    records = backend.open().records(ACCOUNT)
    assert [r.kind.value for r in records] == ["intent", "outcome"]


def test_a_killed_holder_is_taken_over_after_its_lease(backend: Backend, tmp_path: Path) -> None:
    lease = 1.0
    child = _child(backend, "hold", lease, ROOTKEYS_GO=str(tmp_path / "never"))
    _wait_for(child, "held")
    child.kill()
    child.communicate(timeout=10)  # reaped, its pipes closed
    journal = backend.open(lock_timeout=timedelta(seconds=10))
    started = time.monotonic()
    with journal.lock(ACCOUNT):
        waited = time.monotonic() - started
        records = journal.records(ACCOUNT)
        # what the next run reconciles: an intent without its outcome
        assert [r.kind.value for r in records] == ["intent"]
        _append(journal, "outcome", status="failed", intent_seq=records[0].seq)
    assert waited < lease + 3


def test_a_paused_holders_late_write_is_rejected(backend: Backend, tmp_path: Path) -> None:
    go = tmp_path / "go"
    child = _child(backend, "hold", 1.0, ROOTKEYS_GO=str(go))
    _wait_for(child, "held")
    os.kill(child.pid, signal.SIGSTOP)
    try:
        journal = backend.open(lock_timeout=timedelta(seconds=10))
        with journal.lock(ACCOUNT):  # once its lease has expired
            _append(journal, "outcome", status="failed", intent_seq=1, detail="taken over")
            go.touch()
            os.kill(child.pid, signal.SIGCONT)
            out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGCONT)
    assert (child.returncode, out.strip()) == (3, "fenced"), err
    records = journal.records(ACCOUNT)
    assert [(r.kind.value, r.detail) for r in records] == [
        ("intent", ""),
        ("outcome", "taken over"),
    ]
