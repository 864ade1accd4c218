"""The journal file: creation, append-only records, versions, bad files, locks, full disks."""

from __future__ import annotations

import sqlite3
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import _journal
from rootkeys.journal import Journal, RecordKind

ACCOUNT = "111122223333"
KEY = "AKIAAAAAAAAAAAAAAAAA"


def _append(journal: Journal, kind: RecordKind = RecordKind.SEEN) -> rootkeys.journal.JournalRecord:
    return journal.append(
        account_id=ACCOUNT, key_id=KEY, run_id="r1", kind=kind, to_state=rootkeys.KeyState.ACTIVE
    )


def test_new_journal_records_and_reads_back(tmp_path: Path) -> None:
    """Appended records come back in order, with sequence numbers, across reopen."""
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    first = _append(journal)
    second = _append(journal, RecordKind.WINDOW_STARTED)
    journal.close()
    again = Journal(path)
    records = again.records(ACCOUNT)
    assert [r.seq for r in records] == [first.seq, second.seq]
    assert [r.kind for r in records] == [RecordKind.SEEN, RecordKind.WINDOW_STARTED]
    assert again.records("999999999999") == []
    assert again.schema_version == _journal.SCHEMA_VERSION


def test_journal_uses_wal_and_full_sync(tmp_path: Path) -> None:
    """The database is in WAL mode with synchronous=FULL (durable commits)."""
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal._store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize("statement", ["UPDATE records SET detail = 'x'", "DELETE FROM records"])
def test_records_are_append_only(tmp_path: Path, statement: str) -> None:
    """The database itself refuses to update or delete a record."""
    journal = Journal(tmp_path / "j.sqlite3")
    _append(journal)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        journal._store._conn.execute(statement)
    assert len(journal.records(ACCOUNT)) == 1


def test_default_path_follows_xdg_state_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no path, the journal lives in $XDG_STATE_HOME/rootkeys/, made if missing."""
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG applies on Linux and other Unixes")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    journal = Journal()
    assert journal.path == tmp_path / "state" / "rootkeys" / "journal.sqlite3"
    assert journal.path.exists()


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def test_corrupt_file_is_refused_untouched(tmp_path: Path) -> None:
    """A file of garbage gives JournalError and is left byte for byte as it was."""
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = _bytes(path)
    with pytest.raises(rootkeys.errors.JournalError, match="not a rootkeys journal, or is corrupt"):
        Journal(path)
    assert _bytes(path) == before


def test_other_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    """An SQLite file that is not a rootkeys journal is refused and not modified."""
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = _bytes(path)
    with pytest.raises(rootkeys.errors.JournalError, match="is not a rootkeys journal"):
        Journal(path)
    assert _bytes(path) == before


def test_truncated_journal_is_refused(tmp_path: Path) -> None:
    """A journal cut short (a damaged copy) gives JournalError."""
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    for _ in range(200):
        _append(journal)
    journal._store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    journal.close()
    data = _bytes(path)
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(rootkeys.errors.JournalError):
        Journal(damaged)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A journal written by a newer rootkeys is refused with a clear message."""
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(rootkeys.errors.JournalError, match="schema version 99, newer"):
        Journal(path)


_SCHEMA_V1 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    account_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT,
    from_state TEXT,
    to_state TEXT,
    status TEXT,
    error_code TEXT,
    detail TEXT NOT NULL DEFAULT '',
    intent_seq INTEGER REFERENCES records(seq)
);
INSERT INTO meta VALUES ('application', 'rootkeys journal'), ('schema_version', '1');
INSERT INTO records (at, account_id, key_id, run_id, kind, to_state)
    VALUES ('2026-11-01T00:00:00.000000+00:00', '111122223333', 'AKIAAAAAAAAAAAAAAAAA',
            'r0', 'window started', NULL);
"""


def test_version_1_journal_is_migrated(tmp_path: Path) -> None:
    """A journal of schema 1 (rootkeys 0.1) is migrated in place: its records kept, and
    windows can be remembered from then on."""
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_V1)
    migrated = Journal(path)
    assert migrated.schema_version == _journal.SCHEMA_VERSION == 3
    assert [r.kind for r in migrated.records(ACCOUNT)] == [RecordKind.WINDOW_STARTED]
    week = timedelta(days=7)
    migrated.append(
        account_id=ACCOUNT, key_id=KEY, run_id="r1", kind=RecordKind.WINDOW, window=week
    )
    assert migrated.records(ACCOUNT)[-1].window == week


def test_in_memory_journal_records_and_locks() -> None:
    """Journal(":memory:") keeps records while it lives, and its lock excludes threads."""
    journal = Journal(":memory:")
    assert journal.in_memory
    _append(journal)
    assert len(journal.records(ACCOUNT)) == 1
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with journal.lock(ACCOUNT):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    quick = Journal(":memory:", lock_timeout=timedelta(milliseconds=50))
    with quick.lock(ACCOUNT):  # another journal's lock is its own
        pass
    journal._leases._lock_timeout = timedelta(milliseconds=50)
    with pytest.raises(rootkeys.errors.JournalLockedError), journal.lock(ACCOUNT):
        pass
    release.set()
    thread.join()


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    """A journal path in a directory that does not exist gives JournalError."""
    with pytest.raises(rootkeys.errors.JournalError, match="does not exist"):
        Journal(tmp_path / "nope" / "j.sqlite3")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs a read-only filesystem (/proc)")
def test_read_only_location_is_refused() -> None:
    """A journal that cannot be created (read-only filesystem) gives JournalError."""
    with pytest.raises(rootkeys.errors.JournalError, match="cannot"):
        Journal(Path("/proc/rootkeys-journal.sqlite3"))


def test_failing_commit_raises_journal_error(tmp_path: Path) -> None:
    """A full database (disk full) makes append raise JournalError, not succeed silently."""
    journal = Journal(tmp_path / "j.sqlite3")
    pages = journal._store._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._store._conn.execute(f"PRAGMA max_page_count = {pages}")

    def fill() -> None:
        for _ in range(10_000):
            _append(journal)

    with pytest.raises(rootkeys.errors.JournalError, match="could not record"):
        fill()


def test_lock_excludes_a_second_holder_then_times_out(tmp_path: Path) -> None:
    """While one holder has an account's lock, another waits its timeout and fails."""
    path = tmp_path / "j.sqlite3"
    first = Journal(path)
    second = Journal(path, lock_timeout=timedelta(milliseconds=200))
    with first.lock(ACCOUNT):
        with (
            pytest.raises(rootkeys.errors.JournalLockedError, match="another rootkeys process"),
            second.lock(ACCOUNT),
        ):
            pass
        with second.lock("444455556666"):  # other accounts are not blocked
            pass
    with second.lock(ACCOUNT):  # free again once released
        pass


def test_lock_waits_for_a_release_within_the_timeout(tmp_path: Path) -> None:
    """A waiter gets the lock when the holder lets go within the timeout."""
    path = tmp_path / "j.sqlite3"
    holder, waiter = Journal(path), Journal(path, lock_timeout=timedelta(seconds=5))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock(ACCOUNT):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    threading.Timer(0.1, release.set).start()
    with waiter.lock(ACCOUNT):
        assert release.is_set()  # the holder let go before the waiter got in
    thread.join(5)


def test_history_renders_as_a_table(tmp_path: Path) -> None:
    """KeyHistory.table() lists each record; notebooks get the same as markdown."""
    journal = Journal(tmp_path / "j.sqlite3")
    _append(journal)
    intent = journal.append(
        account_id=ACCOUNT,
        key_id=KEY,
        run_id="r1",
        kind=RecordKind.INTENT,
        action=rootkeys.lifecycle.Action.DEACTIVATE,
        from_state=rootkeys.KeyState.ACTIVE,
        to_state=rootkeys.KeyState.INACTIVE,
    )
    history = rootkeys.journal.KeyHistory(
        account_id=ACCOUNT, key_id=KEY, records=tuple(journal.records(ACCOUNT, KEY))
    )
    text = history.table()
    assert "deactivate (Active → Inactive)" in text
    assert intent.seq == 2
    html = history._repr_html_()
    assert "<table>" in html
    assert "deactivate (Active → Inactive)" in html


def test_many_openers_of_a_new_journal_at_once(tmp_path: Path) -> None:
    """Threads creating and writing the same new journal at once all succeed."""
    path = tmp_path / "j.sqlite3"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_and_write() -> None:
        try:
            start.wait(5)
            _append(Journal(path))
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(Journal(path).records(ACCOUNT)) == 8
