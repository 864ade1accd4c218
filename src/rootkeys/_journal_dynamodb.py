"""The DynamoDB journal store: one table, shared by every machine and function using it.

One pay-per-request table, partition key ``pk`` and sort key ``sk`` (both strings):

- ``META/META``: the application and the schema version;
- ``A#<account>/HEAD``: the account's lease (``owner``, ``until_ms``), its fencing
  token ``fence`` (grows with every grant, never reused) and ``last_seq``;
- ``A#<account>/R#<seq, 12 digits>``: one record (``body``: its JSON), never changed.

An append is one transaction: the head's lease still this token's and ``last_seq`` the
one before, and the record's item new. Reads are consistent queries. No item has a TTL:
records are kept for good (leases expire by their ``until_ms``, not by deletion).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rootkeys._errors import InputError, JournalError, JournalFencedError
from rootkeys._journal_store import (
    APPLICATION,
    SCHEMA_VERSION,
    from_json,
    to_json,
)
from rootkeys._journal_table import (
    META,
    NAMES,
    REGION,
    TABLE,
    Missing,
    body_of,
    code_of,
    create_table,
    head_key,
    pages,
    parse_location,
    reasons_of,
    record_key,
)
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import boto3

    from rootkeys._records import JournalRecord

__all__ = ["DynamoStore", "create_table", "parse_location"]

_RETRIES = 6  # transaction conflicts and throttling, each after a short pause


class DynamoStore:
    """A journal in a DynamoDB table (see the module's docstring for its items)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self.table = table
        self.location = f"dynamodb://{table}"
        self._last: dict[str, int] = {}  # account -> last seq, as seen under its lease
        self._guard = threading.Lock()
        self._version = SCHEMA_VERSION
        self._meta_written = True
        self._meta_lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        table: str,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        create: bool = False,
    ) -> DynamoStore:
        """Open (or with ``create``, make) the table and check it is a rootkeys journal."""
        if not TABLE.match(str(table)):
            raise InputError(
                f"{table!r} is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)"
            )
        import boto3
        from botocore.config import Config

        if region is not None and not REGION.match(region):
            raise InputError(f"{region!r} is not an AWS region name (like us-east-1)")
        session = session or boto3.Session()
        if not (region or session.region_name):
            raise InputError(
                f"the journal table {table} needs a region: dynamodb://{table}?region=REGION, "
                "or a session or environment (AWS_REGION) with one"
            )
        client = session.client(
            "dynamodb",
            region_name=region or session.region_name,
            config=Config(retries={"mode": "standard", "max_attempts": 8}),
        )
        store = cls(client, table)
        store.location = f"dynamodb://{table}?region={client.meta.region_name}"
        store._check(create)
        return store

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            if operation != "transact_write_items":  # there, each item names its table
                params["TableName"] = self.table
            return getattr(self._client, operation)(**params)
        except Exception as exc:
            code = code_of(exc)
            if code == "ResourceNotFoundException":
                raise Missing(
                    f"the journal table {self.table} does not exist: make it with "
                    f"`rootkeys journal create '{self.location}'`"
                ) from exc
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
            if code == "ValidationException" and operation in ("get_item", "query"):
                raise JournalError(
                    f"the table {self.table} is not a rootkeys journal (its keys are not "
                    "pk and sk, strings)"
                ) from None
            raise JournalError(f"could not use the journal {self.location}: {code}") from exc

    def _check(self, create: bool) -> None:
        """Read the META item (none yet: a new table, an empty journal).

        Opening writes nothing (a read is a read): the first lease taken writes META.
        ``create`` (a person making the journal) makes the table, checks it is empty and
        writes META.
        """
        try:
            meta = self._call("get_item", Key=META, ConsistentRead=True).get("Item")
        except Missing as exc:
            if not create:
                raise JournalError(str(exc)) from None
            create_table(self._client, self.table)
            meta = None
        if meta is None:
            self._meta_written = False
            if create:
                if self._call("scan", Limit=1).get("Items"):
                    raise JournalError(f"the table {self.table} is not a rootkeys journal")
                self._ensure_meta()
            return
        if meta.get("application", {}).get("S") != APPLICATION:
            raise JournalError(f"the table {self.table} is not a rootkeys journal")
        version = meta.get("schema_version", {}).get("N", "0")
        self._version = int(version) if str(version).isdigit() else 0
        if self._version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.location} is of schema version {self._version}, newer "
                f"than this rootkeys knows ({SCHEMA_VERSION}): upgrade rootkeys to read it"
            )

    def _ensure_meta(self) -> None:
        """Write the META item once, if no opener has (before the first lease is taken)."""
        if self._meta_written:
            return
        with self._meta_lock:  # one thread of this process writes it, the others wait
            if not self._meta_written:
                self._write_meta()

    def _write_meta(self) -> None:
        item = {
            **META,
            "application": {"S": APPLICATION},
            "schema_version": {"N": str(SCHEMA_VERSION)},
            "created_at": {"S": datetime.now(UTC).isoformat()},
        }
        try:
            self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:  # another opener made it first: fine, check theirs
            if code_of(exc) != "ConditionalCheckFailedException":
                raise
            meta = self._call("get_item", Key=META, ConsistentRead=True).get("Item", {})
            if meta.get("application", {}).get("S") != APPLICATION:
                raise JournalError(f"the table {self.table} is not a rootkeys journal") from None
        self._meta_written = True

    @property
    def schema_version(self) -> int:
        """The schema version the table's META item names."""
        return self._version

    def close(self) -> None:
        """Nothing to close (the client's connections go with it)."""

    # -- records ----------------------------------------------------------------------------

    def records(self, account_id: str) -> list[JournalRecord]:
        """Every record of the account, in order: one consistent query (paginated)."""
        items = pages(
            self._call,
            "query",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :r)",
            ExpressionAttributeValues={":pk": {"S": f"A#{account_id}"}, ":r": {"S": "R#"}},
            ConsistentRead=True,
        )
        return [from_json(body_of(item, self.location), self.location) for item in items]

    def accounts(self) -> list[str]:
        """Every account with a head item (a lease was ever taken there), sorted."""
        items = pages(
            self._call,
            "scan",
            FilterExpression="sk = :h",
            ExpressionAttributeValues={":h": {"S": "HEAD"}},
            ProjectionExpression="pk",
            ConsistentRead=True,
        )
        return sorted(
            item.get("pk", {}).get("S", "").removeprefix("A#")
            for item in items
            if item.get("pk", {}).get("S", "").startswith("A#")
        )

    def append(self, record: JournalRecord, token: int, owner: str) -> JournalRecord:
        """One transaction: the lease checked, ``last_seq`` moved on, the record put."""
        account_id = record.account_id
        for attempt in range(_RETRIES + 1):
            with self._guard:
                prev = self._last.get(account_id, 0)
            written = record.model_copy(update={"seq": prev + 1})
            try:
                self._transact(written, prev, token, owner)
            except Exception as exc:
                if code_of(exc) != "TransactionCanceledException":
                    raise
                if self._settle(written, token, owner):
                    return written
                reasons = set(reasons_of(exc))
                if attempt < _RETRIES and reasons & {
                    "TransactionConflict",
                    "ThrottlingError",
                    "ProvisionedThroughputExceeded",
                }:
                    time.sleep(0.02 * 2**attempt)
                    continue
                if attempt < _RETRIES and reasons <= {"ConditionalCheckFailed", "None", ""}:
                    continue  # last_seq moved on (refreshed by _settle): once more
                raise JournalError(
                    f"could not record to the journal {self.location}: "
                    f"{', '.join(sorted(reasons)) or code_of(exc)}"
                ) from None
            with self._guard:
                self._last[account_id] = written.seq
            return written
        raise JournalError(f"could not record to the journal {self.location}")  # unreachable

    def _transact(self, record: JournalRecord, prev: int, token: int, owner: str) -> None:
        last = "attribute_not_exists(#l)" if prev == 0 else "#l = :prev"
        values: dict[str, Any] = {
            ":t": {"N": str(token)},
            ":o": {"S": owner},
            ":seq": {"N": str(record.seq)},
        }
        if prev:
            values[":prev"] = {"N": str(prev)}
        self._call(
            "transact_write_items",
            TransactItems=[
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": head_key(record.account_id),
                        "UpdateExpression": "SET #l = :seq",
                        "ConditionExpression": f"#f = :t AND #o = :o AND {last}",
                        "ExpressionAttributeNames": {k: NAMES[k] for k in ("#l", "#f", "#o")},
                        "ExpressionAttributeValues": values,
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **record_key(record.account_id, record.seq),
                            "seq": {"N": str(record.seq)},
                            "body": {"S": to_json(record)},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ],
        )

    def _settle(self, record: JournalRecord, token: int, owner: str) -> bool:
        """After a cancelled append: fenced (raise), already written (True), or retry."""
        head = self._call("get_item", Key=head_key(record.account_id), ConsistentRead=True)
        item = head.get("Item", {})
        if item.get("fence", {}).get("N") != str(token) or item.get("owner", {}).get("S") != owner:
            raise JournalFencedError(record.account_id, token, self.location)
        last = int(item.get("last_seq", {}).get("N", "0"))
        with self._guard:
            self._last[record.account_id] = last
        if last != record.seq:
            return False
        stored = self._call(
            "get_item", Key=record_key(record.account_id, record.seq), ConsistentRead=True
        ).get("Item")
        return stored is not None and stored["body"]["S"] == to_json(record)

    def load(
        self,
        account_id: str,
        records: Sequence[JournalRecord],
        token: int,
        known: Mapping[int, int],
    ) -> None:
        """Put copied records with their own ``seq``; ``last_seq`` moved on first (fenced).

        A copy stopped midway never lets an append slip in before what it copied; records
        already there unchanged are skipped (the copy can be run again).
        """
        top = max((r.seq for r in records), default=0)
        self._update_head(
            account_id,
            "SET #l = :seq",
            "#f = :t AND (attribute_not_exists(#l) OR #l <= :seq)",
            {":seq": {"N": str(top)}, ":t": {"N": str(token)}},
            lambda: JournalFencedError(account_id, token, self.location),
        )
        with self._guard:
            self._last[account_id] = top
        for record in records:
            body = to_json(record)
            try:
                self._call(
                    "put_item",
                    Item={
                        **record_key(account_id, record.seq),
                        "seq": {"N": str(record.seq)},
                        "body": {"S": body},
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except Exception as exc:
                if code_of(exc) != "ConditionalCheckFailedException":
                    raise
                there = self._call(
                    "get_item", Key=record_key(account_id, record.seq), ConsistentRead=True
                ).get("Item", {})
                if body_of(there, self.location) != body:
                    raise JournalError(
                        f"account {account_id} holds another record {record.seq} in "
                        f"{self.location}: not copied over it"
                    ) from None

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
        """Take the head's lease when free, expired or already this owner's (one update)."""
        self._ensure_meta()
        taken = "#u <= :now OR #o = :o"
        if free:
            taken = f"attribute_not_exists(pk) OR #o = :empty OR {taken}"
        values = {
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":o": {"S": owner},
            ":u": {"N": str(until_ms)},
            ":now": {"N": str(now_ms)},
        }
        if free:
            values[":empty"] = {"S": ""}
        try:
            item = self._call(
                "update_item",
                Key=head_key(account_id),
                UpdateExpression="SET #f = if_not_exists(#f, :zero) + :one, #o = :o, #u = :u",
                ConditionExpression=taken,
                ExpressionAttributeNames={k: NAMES[k] for k in ("#f", "#o", "#u")},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except Exception as exc:
            if code_of(exc) == "ConditionalCheckFailedException":
                return None
            raise
        try:
            fence = int(item["fence"]["N"])
            last = int(item.get("last_seq", {}).get("N", "0"))
        except (KeyError, ValueError):
            raise JournalError(f"the journal {self.location} holds a damaged head item") from None
        with self._guard:
            self._last[account_id] = last
        return fence

    def renew(self, account_id: str, token: int, owner: str, *, until_ms: int) -> bool:
        """Move the lease's expiry on while it is still this token's."""
        return self._update_head(
            account_id,
            "SET #u = :u",
            "#f = :t AND #o = :o",
            {":u": {"N": str(until_ms)}, ":t": {"N": str(token)}, ":o": {"S": owner}},
        )

    def release(self, account_id: str, token: int, owner: str) -> None:
        """Free the lease (``fence`` stays: the next grant's token is larger)."""
        self._update_head(
            account_id,
            "SET #o = :empty, #u = :zero",
            "#f = :t AND #o = :o",
            {
                ":empty": {"S": ""},
                ":zero": {"N": "0"},
                ":t": {"N": str(token)},
                ":o": {"S": owner},
            },
        )

    def _update_head(
        self,
        account_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        refused: Callable[[], Exception] | None = None,
    ) -> bool:
        used = {k: v for k, v in NAMES.items() if k in update or k in condition}
        try:
            self._call(
                "update_item",
                Key=head_key(account_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if code_of(exc) != "ConditionalCheckFailedException":
                raise
            if refused is not None:
                raise refused() from exc
            return False
        return True


rehome(globals())
