"""Where a journal's records live: the storage interface every backend implements.

`rootkeys.Journal` keeps the journal's meaning (intent before change, outcome after,
replay, per-account leases, corrupt-data errors) and hands storage to a `JournalStore`:
SQLite (`rootkeys._journal_sqlite`, the embedded default) or DynamoDB
(`rootkeys._journal_dynamodb`, shared). Both pass the same contract tests
(tests/test_journal_contract.py).

**Leases and fencing.** An account is acted on by one holder at a time: the holder of its
lease. A lease has an owner, an expiry (wall-clock milliseconds) and a fencing token that
grows with every grant of that account's lease and is never reused. Every append names
the token it was made under, and the store refuses it (`JournalFencedError`) unless that
token still holds the lease: a process that paused past its lease's expiry, while another
took the account over, cannot write after it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from rootkeys._errors import JournalError
from rootkeys._public import rehome
from rootkeys._records import JournalRecord

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "APPLICATION",
    "FLOCKED",
    "SCHEMA_VERSION",
    "JournalStore",
    "from_json",
    "to_json",
]

SCHEMA_VERSION = 3
"""The journal's schema version (SQLite migrates older files; DynamoDB tables start at 3)."""

APPLICATION = "rootkeys journal"

FLOCKED = "flock:"
"""The prefix of an owner that also holds the account's file lock (SQLite), followed by
the lock file's host, device and inode. Its lease may be taken over at once by whoever
gets that same file lock: the kernel released it, so the owner is gone."""


class JournalStore(Protocol):
    """What a journal backend stores: records, per account; leases, per account.

    Every method is safe to call from several threads at once. ``now_ms`` and
    ``until_ms`` are wall-clock milliseconds since the epoch (leases assume clocks that
    agree within a fraction of a lease; AWS hosts and most machines keep NTP time).
    """

    location: str
    """Where the journal is, for messages: a file path or ``dynamodb://TABLE``."""

    @property
    def schema_version(self) -> int:
        """The schema version of the stored journal."""
        ...

    def records(self, account_id: str) -> list[JournalRecord]:
        """Every record of the account, in order (``seq`` grows)."""
        ...

    def accounts(self) -> list[str]:
        """Every account with a record or a lease, sorted."""
        ...

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
        """Grant the account's lease to ``owner`` until ``until_ms``; its new token.

        Granted when the holder's lease has expired, when ``owner`` already holds it (a
        grant sent again after its answer was lost), when ``free`` and no one holds it,
        or when the holder's owner starts with ``takeover`` (the caller now holds that
        holder's file lock: it is gone). None otherwise.
        """
        ...

    def renew(self, account_id: str, token: int, owner: str, *, until_ms: int) -> bool:
        """Extend a held lease; False if it is no longer this token's."""
        ...

    def release(self, account_id: str, token: int, owner: str) -> None:
        """Give the lease up (nothing if it is no longer this token's)."""
        ...

    def append(self, record: JournalRecord, token: int, owner: str) -> JournalRecord:
        """Write one record durably under the lease ``token``; it, with its ``seq``.

        Raises:
            JournalFencedError: ``token`` no longer holds the account's lease.
            JournalError: the write failed; the record may not be assumed written.
        """
        ...

    def load(
        self,
        account_id: str,
        records: Sequence[JournalRecord],
        token: int,
        known: Mapping[int, int],
    ) -> None:
        """Write an account's records copied from another journal, after those it has.

        The account's lease must be held with ``token``. Sequence numbers are kept where
        the store can (renumbered in order otherwise); ``known`` maps the source's
        sequence numbers of records already copied to this store's, so an ``intent_seq``
        follows its intent.
        """
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


def to_json(record: JournalRecord) -> str:
    """A record as one line of JSON (the export format; the DynamoDB item's body)."""
    return json.dumps(record.model_dump(mode="json", exclude_none=True), sort_keys=True)


def from_json(text: str, location: str) -> JournalRecord:
    """A record back from `to_json`; a `JournalError` if it is not one."""
    try:
        return JournalRecord.model_validate_json(text)
    except ValueError as exc:
        raise JournalError(f"the journal {location} holds a damaged record: {exc}") from exc


rehome(globals())
