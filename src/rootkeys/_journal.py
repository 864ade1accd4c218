"""The journal: a durable, append-only memory of every change rootkeys intends and makes.

Each record is committed before the next step is taken, so the intent of a change is
stored before its AWS call, and its outcome after. Records are never updated or deleted.
Where they are stored is a `JournalStore`: an embedded SQLite file (the default) or a
DynamoDB table shared by every machine and Lambda function that runs rootkeys
(`Journal.dynamodb`, or a ``dynamodb://TABLE`` location).

Two processes never act on the same account at once: `Journal.lock` takes the account's
**lease** (with an expiry, renewed while held, and a fencing token: a holder that lost
it cannot write any more). With SQLite, an OS file lock per account is taken too: a
process that dies lets go of it at once, and the next takes over without waiting for the
lease to expire.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rootkeys._errors import InputError, JournalError, JournalFencedError
from rootkeys._journal_leases import Lease, Leases
from rootkeys._journal_sqlite import IN_MEMORY, SqliteStore
from rootkeys._journal_store import SCHEMA_VERSION, JournalStore
from rootkeys._public import rehome
from rootkeys._records import JournalRecord

if TYPE_CHECKING:
    from collections.abc import Iterator

    import boto3

__all__ = [
    "SCHEMA_VERSION",
    "Journal",
    "JournalFencedError",
    "Lease",
    "default_journal_path",
    "open_journal",
]

log = logging.getLogger("rootkeys")

JOURNAL_VARIABLE = "ROOTKEYS_JOURNAL"
"""The environment variable naming the journal used when none is given."""

DYNAMODB_SCHEME = "dynamodb://"

_sandbox_journal: Path | None = None
"""While a `rootkeys.testing.Sandbox` is active, its own journal (see `default_journal_path`)."""


def default_journal_path() -> Path:
    """The journal file used when none is given.

    The first of:

    1. while a `rootkeys.testing.Sandbox` is active, the sandbox's own journal (in a
       temporary directory that lives as long as the sandbox), so that trying rootkeys
       on made-up accounts never writes them into a real journal;
    2. ``$ROOTKEYS_JOURNAL``, when set to a path (a ``dynamodb://`` location there is
       opened by `Journal.open`, which a manager made without ``journal=`` uses);
    3. the per-user journal: ``$XDG_STATE_HOME/rootkeys/journal.sqlite3``
       (``~/.local/state`` on Linux when ``XDG_STATE_HOME`` is unset),
       ``~/Library/Application Support/rootkeys/`` on macOS, ``%LOCALAPPDATA%`` on
       Windows.
    """
    if _sandbox_journal is not None:
        return _sandbox_journal
    named = os.environ.get(JOURNAL_VARIABLE)
    if named and not named.startswith(DYNAMODB_SCHEME):
        return Path(named)
    return _per_user_path()


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
    """A rootkeys journal, opened (created if new, checked, migrated if old).

    ``Journal(path)`` opens an SQLite file; `Journal.dynamodb` a DynamoDB table;
    `Journal.open` either, from a location (a path or ``dynamodb://TABLE?region=...``).

    Args:
        path: the journal file; its directory must exist (the default one is made).
            Default: `default_journal_path` (the per-user journal, ``$ROOTKEYS_JOURNAL``,
            or inside a `rootkeys.testing.Sandbox` the sandbox's own). ``":memory:"``: a
            journal that lives only as long as this object (what a manager made with
            ``journal=False`` uses, so a blocking run still remembers its windows between
            passes).
        lock_timeout: how long `lock` waits for another process before giving up.
        lease: how long an account's lease lasts unless renewed (it is renewed while
            held, every quarter of it): how long a process that stopped without letting go
            keeps others out (with SQLite, only when it stopped without dying).

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
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        if path is None:
            path = default_journal_path()
            if path == _per_user_path():
                with contextlib.suppress(OSError):
                    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not isinstance(path, str | os.PathLike):
            raise JournalError(f"journal must be a path, not {type(path).__name__}")
        if str(path).startswith(DYNAMODB_SCHEME):
            raise JournalError(f"{path} is a DynamoDB location: use Journal.open or dynamodb")
        store = SqliteStore(Path(path))
        self._setup(store, lock_timeout, lease)

    def _setup(self, store: JournalStore, lock_timeout: object, lease: object) -> None:
        for name, value in (("lock_timeout", lock_timeout), ("lease", lease)):
            if not isinstance(value, timedelta) or value < timedelta(0):
                raise JournalError(f"{name} must be a non-negative timedelta: {value!r}")
        assert isinstance(lock_timeout, timedelta)
        assert isinstance(lease, timedelta)
        if lease <= timedelta(0):
            raise JournalError(f"lease must be longer than 0: {lease!r}")
        self._store = store
        self.location: str = store.location
        """Where the journal is: a file path, or ``dynamodb://TABLE``."""
        self.path: Path | None = store.path if isinstance(store, SqliteStore) else None
        """The journal file (None for a DynamoDB journal)."""
        self.in_memory: bool = isinstance(store, SqliteStore) and store.in_memory
        self._lock_timeout = lock_timeout
        files = None if self.in_memory else self.path
        self._leases = Leases(store, files, lock_timeout, lease)

    @classmethod
    def dynamodb(
        cls,
        table: str,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        create: bool = False,
        lock_timeout: timedelta = timedelta(seconds=30),
        lease: timedelta = timedelta(seconds=60),
    ) -> Journal:
        """A journal in a DynamoDB table, shared by every machine that opens it.

        Args:
            table: the table's name (one per journal; see `rootkeys journal create`).
            session: the boto3 session whose credentials reach the table (default: the
                default session: environment, profile, instance role). Not the root
                user's: the table usually lives in another account.
            region: the table's region (default: the session's).
            create: make the table (pay per request, point-in-time recovery) if missing.
            lock_timeout: how long `lock` waits for another holder of an account.
            lease: how long an account's lease lasts unless renewed.

        Raises:
            JournalError: the table is missing (and ``create`` is False), is not a
                rootkeys journal, is of a newer version, or cannot be reached.
        """
        from rootkeys._journal_dynamodb import DynamoStore

        store = DynamoStore.connect(table, session=session, region=region, create=create)
        journal = cls.__new__(cls)
        journal._setup(store, lock_timeout, lease)
        return journal

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str],
        *,
        session: boto3.Session | None = None,
        create: bool = False,
        lock_timeout: timedelta = timedelta(seconds=30),
        lease: timedelta = timedelta(seconds=60),
    ) -> Journal:
        """The journal at ``location``: a file path, or a DynamoDB table.

        A DynamoDB location is ``dynamodb://TABLE?region=REGION&profile=PROFILE`` (both
        parameters optional).

        ``session`` and ``create``: as for `dynamodb` (a ``profile`` in the location makes
        the session from that profile).
        """
        text = os.fspath(location)
        if not text.startswith(DYNAMODB_SCHEME):
            return cls(text, lock_timeout=lock_timeout, lease=lease)
        from rootkeys._journal_table import parse_location

        table, region, profile = parse_location(text)
        if profile is not None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                session = boto3.Session(profile_name=profile)
            except ProfileNotFound:
                raise InputError(f"no AWS profile {profile!r} (in {text})") from None
        return cls.dynamodb(
            table,
            session=session,
            region=region,
            create=create,
            lock_timeout=lock_timeout,
            lease=lease,
        )

    def __repr__(self) -> str:
        return f"Journal({self.location!r})"

    @property
    def schema_version(self) -> int:
        """The schema version of the open journal."""
        return self._store.schema_version

    def close(self) -> None:
        """Let go of every lease still held and of the store's connections."""
        self._leases.close()
        self._store.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        store = getattr(self, "_store", None)
        if isinstance(store, SqliteStore):
            store.close()

    # -- records ----------------------------------------------------------------------------

    def append(self, **fields: Any) -> JournalRecord:
        """Write one record durably and return it (with its sequence number).

        Written under the account's lease: held by this journal (in a `lock` block), or
        taken for this one write.

        Raises:
            JournalFencedError: another process took the account's lease over.
            JournalError: the record could not be committed (disk full, I/O error, the
                table unreachable). Whatever the caller was about to do must not be done.
        """
        at = fields.pop("at", None) or datetime.now(UTC)
        record = JournalRecord(seq=0, at=at, **fields)
        held = self._leases.token(record.account_id)
        if held is None:
            with self.lock(record.account_id):
                return self.append(**record.model_dump(exclude={"seq"}))
        return self._store.append(record, *held)

    def records(self, account_id: str, key_id: str | None = None) -> list[JournalRecord]:
        """The records of an account (or of one key in it), oldest first."""
        records = self._store.records(account_id)
        return records if key_id is None else [r for r in records if r.key_id == key_id]

    def accounts(self) -> list[str]:
        """Every account the journal has records of, sorted."""
        return self._store.accounts()

    def export(self) -> Iterator[str]:
        """The whole journal as JSON Lines: one record per line, account by account.

        Each account's records are in order; the accounts sorted. An auditor's artefact:
        `rootkeys journal export` writes it.
        """
        from rootkeys._journal_store import to_json

        for account_id in self.accounts():
            for record in self._store.records(account_id):
                yield to_json(record)

    def lock(self, account_id: str) -> contextlib.AbstractContextManager[Lease]:
        """Hold the account's lease: no other process or thread acts on it meanwhile.

        A context manager giving the `Lease`. While it is held it is renewed; another
        holder takes it over only once it has expired (a process that stopped without
        letting go), and from then on this journal's writes to the account are refused
        (`JournalFencedError`).

        Raises:
            JournalLockedError: another holder kept it for longer than ``lock_timeout``.
        """
        return self._leases.lock(account_id)

    def copy_to(self, other: Journal) -> int:
        """Copy every record into ``other``; how many were copied.

        An account ``other`` already holds a copy of (or the start of one: a copy that
        stopped midway, or one made before more was recorded here) gets what it lacks;
        an account it holds other records of is an error, found before anything is
        written. Each account is copied with both its leases held, its records in order,
        and read back: a record lost, changed or out of order is a `JournalError`.
        """
        for account_id in self.accounts():
            _copied_so_far(self._store.records(account_id), other, account_id)
        copied = 0
        for account_id in self.accounts():
            with self.lock(account_id), other.lock(account_id) as lease:
                records = self._store.records(account_id)
                there = _copied_so_far(records, other, account_id)
                known = {s.seq: d.seq for s, d in zip(records, there, strict=False)}
                rest = records[len(there) :]
                if rest:
                    other._store.load(account_id, rest, lease.token, known)
                back = other._store.records(account_id)
            if not _same(records, back):
                raise JournalError(f"account {account_id} did not copy intact to {other}")
            copied += len(rest)
        return copied


def _copied_so_far(
    records: list[JournalRecord], other: Journal, account_id: str
) -> list[JournalRecord]:
    """What ``other`` holds of the account, if it is the start of ``records``."""
    there = other._store.records(account_id)
    if len(there) > len(records) or not _same(records[: len(there)], there):
        raise JournalError(
            f"account {account_id} has other records in {other.location}: a copy only "
            "fills accounts the destination has never seen, or finishes a copy of them"
        )
    return there


def _same(source: list[JournalRecord], copy: list[JournalRecord]) -> bool:
    """The same records in the same order, each ``intent_seq`` naming its copied intent."""
    if len(source) != len(copy):
        return False
    moved = {s.seq: c.seq for s, c in zip(source, copy, strict=True)}
    for s, c in zip(source, copy, strict=True):
        if s.model_dump(exclude={"seq", "intent_seq"}) != c.model_dump(
            exclude={"seq", "intent_seq"}
        ):
            return False
        if s.intent_seq is not None and c.intent_seq != moved.get(s.intent_seq, s.intent_seq):
            return False
    return True


def open_journal(journal: object) -> Journal:
    """The journal a manager records to, from what its caller passed (``False``: in memory).

    A `Journal`; a path or a location (``dynamodb://TABLE?region=...``); None: the
    default (``$ROOTKEYS_JOURNAL``, which may be a location, or the per-user journal).
    """
    if journal is False:
        return Journal(IN_MEMORY)
    if journal is None:
        named = os.environ.get(JOURNAL_VARIABLE, "")
        if _sandbox_journal is None and named.startswith(DYNAMODB_SCHEME):
            return Journal.open(named)
        return Journal()
    if isinstance(journal, Journal):
        return journal
    if isinstance(journal, str | os.PathLike):
        return Journal.open(journal)
    raise InputError(
        "journal must be a rootkeys.Journal, a path or location, None or False; not "
        f"{type(journal).__name__}"
    )


rehome(globals())
