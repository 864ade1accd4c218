"""The SQLite journal store: an embedded file, the default journal.

WAL and ``synchronous=FULL``: each record is committed before the next step is taken.
Records are never updated or deleted (triggers refuse it). The schema version lives in
the ``meta`` table: a newer journal is refused, an older one migrated. Leases live in the
``leases`` table, each account's fencing token growing with every grant; a write checks
its token in the same transaction as it inserts.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rootkeys._errors import JournalError, JournalFencedError
from rootkeys._journal_store import APPLICATION, SCHEMA_VERSION
from rootkeys._public import rehome
from rootkeys._records import JournalRecord

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

__all__ = ["IN_MEMORY", "SqliteStore"]

IN_MEMORY = ":memory:"

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

_LEASES = """
CREATE TABLE leases (
    account_id TEXT PRIMARY KEY,
    token INTEGER NOT NULL,
    owner TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);
"""

# Migrations from version N to N+1, applied in order inside one transaction.
_MIGRATIONS: dict[int, str] = {
    # 2: a key's observation window is remembered (``window`` records, ISO 8601 duration).
    1: "ALTER TABLE records ADD COLUMN window TEXT;",
    # 3: per-account leases with fencing tokens (the same contract as DynamoDB's).
    2: _LEASES,
}


class SqliteStore:
    """A journal in an SQLite file (or ``":memory:"``: one that lives with this object)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self.in_memory = str(path) == IN_MEMORY
        self._write = threading.Lock()  # one connection, shared by threads: one statement
        self._conn = self._open_in_memory() if self.in_memory else self._open()

    # -- opening ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise JournalError(f"the journal's directory {self.path.parent} does not exist")
        new = not self.path.exists() or self.path.stat().st_size == 0
        if not new:
            self._check_existing()
        conn = self._connect()
        try:
            if new and not _create(conn):  # another process made it meanwhile
                conn.close()
                self._check_existing()
                conn = self._connect()
            _migrate(conn)
            _ensure_wal(conn)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            conn.close()
            raise JournalError(f"cannot use the journal {self.path}: {exc}") from exc
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc

    @staticmethod
    def _open_in_memory() -> sqlite3.Connection:
        conn = sqlite3.connect(IN_MEMORY, isolation_level=None, check_same_thread=False)
        _create(conn)
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

    @property
    def schema_version(self) -> int:
        """The schema version of the open journal."""
        row = self._one("SELECT value FROM meta WHERE name = 'schema_version'", ())
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    # -- records ----------------------------------------------------------------------------

    def records(self, account_id: str) -> list[JournalRecord]:
        """Every record of the account, oldest first."""
        with self._write:
            try:
                cursor = self._conn.execute(
                    "SELECT * FROM records WHERE account_id = ? ORDER BY seq", (account_id,)
                )
                rows = cursor.fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"could not read the journal {self.path}: {exc}") from exc
        names = [d[0] for d in cursor.description]
        return [JournalRecord.model_validate(dict(zip(names, row, strict=True))) for row in rows]

    def accounts(self) -> list[str]:
        """Every account with a record or a lease, sorted."""
        with self._write:
            try:
                rows = self._conn.execute(
                    "SELECT account_id FROM records UNION SELECT account_id FROM leases "
                    "ORDER BY account_id"
                ).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"could not read the journal {self.path}: {exc}") from exc
        return [r[0] for r in rows]

    def append(self, record: JournalRecord, token: int, owner: str) -> JournalRecord:
        """Insert one record, in the same transaction as the check of its lease."""
        values = _row(record)
        with self._transaction("record to"):
            held = self._conn.execute(
                "SELECT token, owner FROM leases WHERE account_id = ?", (record.account_id,)
            ).fetchone()
            if held is None or held[0] != token or held[1] != owner:
                raise JournalFencedError(record.account_id, token, self.location)
            cursor = self._insert(values)
        return record.model_copy(update={"seq": cursor.lastrowid})

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``), committed, or rolled back on error."""
        with self._write:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalError(f"could not {doing} the journal {self.path}: {exc}") from exc

    def _insert(self, values: dict[str, Any]) -> sqlite3.Cursor:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self._conn.execute(
            f"INSERT INTO records ({columns}) VALUES ({marks})",  # noqa: S608 - fixed names
            tuple(values.values()),
        )

    def load(
        self,
        account_id: str,
        records: Sequence[JournalRecord],
        token: int,
        known: Mapping[int, int],
    ) -> None:
        """Insert copied records in one transaction, keeping their ``seq`` where it is free."""
        with self._transaction("record to"):
            self._load(account_id, records, token, known)

    def _load(
        self,
        account_id: str,
        records: Sequence[JournalRecord],
        token: int,
        known: Mapping[int, int],
    ) -> None:
        held = self._conn.execute(
            "SELECT token FROM leases WHERE account_id = ?", (account_id,)
        ).fetchone()
        if held is None or held[0] != token:
            raise JournalFencedError(account_id, token, self.location)
        top = self._conn.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
        keep = all(r.seq > top for r in records)
        renumbered = dict(known)
        for record in records:
            values = _row(record)
            if keep:
                values["seq"] = record.seq
            if record.intent_seq is not None:
                values["intent_seq"] = renumbered.get(record.intent_seq, record.intent_seq)
            cursor = self._insert(values)
            renumbered[record.seq] = int(cursor.lastrowid or 0)

    # -- leases -----------------------------------------------------------------------------

    def acquire(
        self,
        account_id: str,
        owner: str,
        *,
        now_ms: int,
        until_ms: int,
        takeover: str | None = None,
        free: bool = True,
    ) -> int | None:
        """Grant the lease (see `JournalStore.acquire`), in one transaction."""
        with self._transaction("lock in"):
            return self._grant(account_id, owner, now_ms, until_ms, takeover, free)

    def _grant(
        self,
        account_id: str,
        owner: str,
        now_ms: int,
        until_ms: int,
        takeover: str | None,
        free: bool,
    ) -> int | None:
        held = self._conn.execute(
            "SELECT token, owner, until_ms FROM leases WHERE account_id = ?", (account_id,)
        ).fetchone()
        if held is None:
            if not free:
                return None
            self._conn.execute(
                "INSERT INTO leases (account_id, token, owner, until_ms) VALUES (?, 1, ?, ?)",
                (account_id, owner, until_ms),
            )
            return 1
        token, holder, expires = held
        if not holder:
            granted = free
        else:
            granted = (
                holder == owner
                or expires <= now_ms
                or (takeover is not None and holder.startswith(takeover))
            )
        if not granted:
            return None
        self._conn.execute(
            "UPDATE leases SET token = ?, owner = ?, until_ms = ? WHERE account_id = ?",
            (token + 1, owner, until_ms, account_id),
        )
        return int(token) + 1

    def renew(self, account_id: str, token: int, owner: str, *, until_ms: int) -> bool:
        """Extend the lease while it is still this token's."""
        return self._update(
            "UPDATE leases SET until_ms = ? WHERE account_id = ? AND token = ? AND owner = ?",
            (until_ms, account_id, token, owner),
        )

    def release(self, account_id: str, token: int, owner: str) -> None:
        """Free the lease (the token stays, so the next grant's is larger)."""
        self._update(
            "UPDATE leases SET owner = '', until_ms = 0 "
            "WHERE account_id = ? AND token = ? AND owner = ?",
            (account_id, token, owner),
        )

    def _update(self, statement: str, args: tuple[object, ...]) -> bool:
        with self._write:
            try:
                return self._conn.execute(statement, args).rowcount == 1
            except sqlite3.Error as exc:
                raise JournalError(f"could not lock in the journal {self.path}: {exc}") from exc

    def _one(self, statement: str, args: tuple[object, ...]) -> Any:
        with self._write:
            return self._conn.execute(statement, args).fetchone()


def _row(record: JournalRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", exclude={"seq"})
    values["at"] = iso(record.at)
    return values


def _create(conn: sqlite3.Connection) -> bool:
    """Make the schema in an empty file; False if the file was not empty after all."""
    conn.execute("BEGIN IMMEDIATE")  # one creator at a time
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            conn.execute("ROLLBACK")
            return False
        for statement in _statements(_SCHEMA + _LEASES):
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta (name, value) VALUES (?, ?)",
            [
                ("application", APPLICATION),
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", iso(datetime.now(UTC))),
            ],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def _migrate(conn: sqlite3.Connection) -> None:
    version = int(
        conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
    )
    if version >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # read again inside the transaction: another opener may have migrated meanwhile
        row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if int(row[0]) >= SCHEMA_VERSION:  # another opener migrated it meanwhile (or newer)
            conn.execute("ROLLBACK")
            return
        for step in range(int(row[0]), SCHEMA_VERSION):
            for statement in _statements(_MIGRATIONS[step]):
                conn.execute(statement)
        conn.execute(
            "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),)
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


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


def iso(at: datetime) -> str:
    """A time as the journal stores it: ISO 8601, UTC, microseconds."""
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


rehome(globals())
