"""The journal: a durable, append-only memory of every change rootkeys intends and makes.

An embedded SQLite database (WAL, ``synchronous=FULL``): each record is committed before
the next step is taken, so the intent of a change is on disk before its AWS call, and its
outcome after. Records are never updated or deleted (triggers refuse it). The schema
version lives in the ``meta`` table: a newer journal is refused, an older one migrated.

Two processes never act on the same account at once: `Journal.lock` takes an OS file
lock per account (released by the kernel if the process dies), waiting a bounded time.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rootkeys._errors import InputError, JournalError, JournalLockedError
from rootkeys._public import rehome
from rootkeys._records import JournalRecord

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["SCHEMA_VERSION", "Journal", "default_journal_path", "open_journal"]

SCHEMA_VERSION = 2
IN_MEMORY = ":memory:"
APPLICATION = "rootkeys journal"

_SCHEMA = """
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
    intent_seq INTEGER REFERENCES records(seq),
    window TEXT
);
CREATE INDEX records_by_key ON records (account_id, key_id, seq);
CREATE TRIGGER records_are_append_only_u BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'rootkeys journal records are append-only'); END;
CREATE TRIGGER records_are_append_only_d BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'rootkeys journal records are append-only'); END;
"""

# Migrations from version N to N+1, applied in order inside one transaction.
_MIGRATIONS: dict[int, str] = {
    # 2: a key's observation window is remembered (``window`` records, ISO 8601 duration).
    1: "ALTER TABLE records ADD COLUMN window TEXT;",
}


JOURNAL_VARIABLE = "ROOTKEYS_JOURNAL"
"""The environment variable naming the journal used when none is given."""

_sandbox_journal: Path | None = None
"""While a `rootkeys.testing.Sandbox` is active, its own journal (see `default_journal_path`)."""


def default_journal_path() -> Path:
    """The journal used when none is given.

    The first of:

    1. while a `rootkeys.testing.Sandbox` is active, the sandbox's own journal (in a
       temporary directory that lives as long as the sandbox), so that trying rootkeys
       on made-up accounts never writes them into a real journal;
    2. ``$ROOTKEYS_JOURNAL``, when set;
    3. the per-user journal: ``$XDG_STATE_HOME/rootkeys/journal.sqlite3``
       (``~/.local/state`` on Linux when ``XDG_STATE_HOME`` is unset),
       ``~/Library/Application Support/rootkeys/`` on macOS, ``%LOCALAPPDATA%`` on
       Windows.
    """
    if _sandbox_journal is not None:
        return _sandbox_journal
    named = os.environ.get(JOURNAL_VARIABLE)
    return Path(named) if named else _per_user_path()


def _per_user_path() -> Path:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":  # pragma: no cover - not exercised on Linux CI
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "rootkeys" / "journal.sqlite3"


def set_sandbox_journal(path: Path | None) -> Path | None:
    """Make ``path`` the default journal (None: no more); return the one it replaces.

    Called by `rootkeys.testing.Sandbox` as it starts and stops.
    """
    global _sandbox_journal
    previous, _sandbox_journal = _sandbox_journal, path
    return previous


class Journal:
    """A rootkeys journal file, opened (created if new, checked, migrated if old).

    Args:
        path: the journal file; its directory must exist (the default one is made).
            Default: `default_journal_path` (the per-user journal, ``$ROOTKEYS_JOURNAL``,
            or inside a `rootkeys.testing.Sandbox` the sandbox's own). ``":memory:"``: a
            journal that lives only as long as this object (what a manager made with
            ``journal=False`` uses, so a blocking run still remembers its windows between
            passes).
        lock_timeout: how long `lock` waits for another process before giving up.

    Raises:
        JournalError: the file is corrupt, is not a rootkeys journal, is of a newer
            version, or cannot be opened or created (e.g. a read-only or missing
            directory). The file is left as it was.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        if path is None:
            path = default_journal_path()
            if path == _per_user_path():
                with contextlib.suppress(OSError):
                    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not isinstance(path, str | os.PathLike):
            raise JournalError(f"journal must be a path, not {type(path).__name__}")
        timeout: object = lock_timeout
        if not isinstance(timeout, timedelta) or timeout < timedelta(0):
            raise JournalError(f"lock_timeout must be a non-negative timedelta: {timeout!r}")
        self.path = Path(path)
        self.in_memory = str(path) == IN_MEMORY
        self._lock_timeout = lock_timeout
        self._write = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._conn = self._open_in_memory() if self.in_memory else self._open()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- opening ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise JournalError(f"the journal's directory {self.path.parent} does not exist")
        new = not self.path.exists() or self.path.stat().st_size == 0
        if not new:
            self._check_existing()
        try:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            if new and not self._create(conn):  # another process made it meanwhile
                conn.close()
                self._check_existing()
                conn = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
            self._migrate(conn)
            _ensure_wal(conn)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            conn.close()
            raise JournalError(f"cannot use the journal {self.path}: {exc}") from exc
        return conn

    def _open_in_memory(self) -> sqlite3.Connection:
        conn = sqlite3.connect(IN_MEMORY, isolation_level=None, check_same_thread=False)
        self._create(conn)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _check_existing(self) -> None:
        """Refuse a file that is not a healthy rootkeys journal, reading it only."""
        try:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise JournalError(f"the journal {self.path} is corrupt: {check}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "meta" not in tables:
                raise JournalError(f"{self.path} is not a rootkeys journal")
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"{self.path} is not a rootkeys journal, or is corrupt: {exc}"
            ) from exc
        finally:
            conn.close()
        if meta.get("application") != APPLICATION:
            raise JournalError(f"{self.path} is not a rootkeys journal")
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.path} is of schema version {version}, newer than this "
                f"rootkeys knows ({SCHEMA_VERSION}): upgrade rootkeys to read it"
            )

    def _create(self, conn: sqlite3.Connection) -> bool:
        """Make the schema in an empty file; False if the file was not empty after all."""
        conn.execute("BEGIN IMMEDIATE")  # one creator at a time
        try:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                conn.execute("ROLLBACK")
                return False
            for statement in _statements(_SCHEMA):
                conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [
                    ("application", APPLICATION),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created_at", _iso(datetime.now(UTC))),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(
            conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
        )
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version, SCHEMA_VERSION):
                for statement in _statements(_MIGRATIONS[step]):
                    conn.execute(statement)
            conn.execute(
                "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open journal."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    # -- records ----------------------------------------------------------------------------

    def append(self, **fields: Any) -> JournalRecord:
        """Write one record durably and return it (with its sequence number).

        Raises:
            JournalError: the record could not be committed (disk full, I/O error).
                Whatever the caller was about to do must not be done.
        """
        at = fields.pop("at", None) or datetime.now(UTC)
        record = JournalRecord(seq=0, at=at, **fields)
        values = record.model_dump(mode="json", exclude={"seq"})
        values["at"] = _iso(record.at)
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._write:
            try:
                cursor = self._conn.execute(
                    f"INSERT INTO records ({columns}) VALUES ({marks})",  # noqa: S608 - fixed names
                    tuple(values.values()),
                )
            except sqlite3.Error as exc:
                raise JournalError(f"could not record to the journal {self.path}: {exc}") from exc
        return record.model_copy(update={"seq": cursor.lastrowid})

    def records(self, account_id: str, key_id: str | None = None) -> list[JournalRecord]:
        """The records of an account (or of one key in it), oldest first."""
        query = "SELECT * FROM records WHERE account_id = ?"
        args: tuple[str, ...] = (account_id,)
        if key_id is not None:
            query += " AND key_id = ?"
            args += (key_id,)
        with self._write:  # one connection, shared by threads: one statement at a time
            try:
                cursor = self._conn.execute(query + " ORDER BY seq", args)
                rows = cursor.fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"could not read the journal {self.path}: {exc}") from exc
        names = [d[0] for d in cursor.description]
        return [JournalRecord.model_validate(dict(zip(names, row, strict=True))) for row in rows]

    # -- locking ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, account_id: str) -> Iterator[None]:
        """Hold the account's lock: no other process acts on it meanwhile.

        Raises:
            JournalLockedError: another process held it for longer than ``lock_timeout``.
        """
        if self.in_memory:
            with self._write:
                held = self._account_locks.setdefault(account_id, threading.Lock())
            if not held.acquire(timeout=self._lock_timeout.total_seconds()):
                raise JournalLockedError(account_id, self._lock_timeout, IN_MEMORY)
            try:
                yield
            finally:
                held.release()
            return
        lock_path = self.path.with_name(f"{self.path.name}.{account_id}.lock")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise JournalError(f"cannot create the lock file {lock_path}: {exc}") from exc
        try:
            deadline = time.monotonic() + self._lock_timeout.total_seconds()
            while not _try_lock(handle):
                if time.monotonic() >= deadline:
                    raise JournalLockedError(account_id, self._lock_timeout, lock_path)
                time.sleep(0.05)
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()} token {uuid.uuid4().hex[:8]}\n")
                handle.flush()
                yield
            finally:
                _unlock(handle)
        finally:
            handle.close()


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _ensure_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (once per file; it persists), retrying while another opener holds it."""
    for attempt in range(100):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers hold inner semicolons)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")
        ):
            statements.append(text)
            current = []
    return statements


def open_journal(journal: object) -> Journal:
    """The journal a manager records to, from what its caller passed (``False``: in memory)."""
    if journal is False:
        return Journal(IN_MEMORY)
    if journal is None:
        return Journal()
    if isinstance(journal, Journal):
        return journal
    if isinstance(journal, str | os.PathLike):
        return Journal(journal)
    raise InputError(
        f"journal must be a rootkeys.Journal, a path, None or False; not {type(journal).__name__}"
    )


rehome(globals())
