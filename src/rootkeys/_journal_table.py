"""The DynamoDB journal's table: its location, its items' keys, making it, its errors.

Helpers of `rootkeys._journal_dynamodb` (the store), kept apart so each stays small.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from rootkeys._errors import InputError, JournalError
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "META",
    "NAMES",
    "REGION",
    "TABLE",
    "Missing",
    "body_of",
    "code_of",
    "create_table",
    "head_key",
    "pages",
    "parse_location",
    "reasons_of",
    "record_key",
]

TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
META = {"pk": {"S": "META"}, "sk": {"S": "META"}}
NAMES = {"#o": "owner", "#u": "until_ms", "#f": "fence", "#l": "last_seq"}


class Missing(JournalError):
    """The table does not exist."""


def parse_location(location: str) -> tuple[str, str | None, str | None]:
    """``dynamodb://TABLE?region=R&profile=P`` -> (table, region, profile)."""
    parts = urlsplit(location)
    if parts.scheme != "dynamodb" or parts.path not in ("", "/") or parts.fragment:
        raise InputError(f"not a DynamoDB journal location: {location!r}")
    table = parts.netloc
    if not TABLE.match(table):
        raise InputError(f"{table!r} is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - {"region", "profile"})
    if unknown:
        raise InputError(
            f"unknown parameter {unknown[0]!r} in {location!r} (known: region, profile)"
        )
    region = params.get("region") or None
    if region is not None and not REGION.match(region):
        raise InputError(f"{region!r} is not an AWS region name (like us-east-1), in {location!r}")
    return table, region, params.get("profile") or None


def head_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"A#{account_id}"}, "sk": {"S": "HEAD"}}


def record_key(account_id: str, seq: int) -> dict[str, Any]:
    return {"pk": {"S": f"A#{account_id}"}, "sk": {"S": f"R#{seq:012d}"}}


def body_of(item: dict[str, Any], location: str) -> str:
    body = item.get("body", {}).get("S")
    if not isinstance(body, str):
        raise JournalError(f"the journal {location} holds a damaged record: {item.get('sk')}")
    return body


def code_of(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "") or type(exc).__name__)


def reasons_of(exc: Exception) -> list[str]:
    response = getattr(exc, "response", None) or {}
    return [str(r.get("Code", "")) for r in response.get("CancellationReasons", [])]


def pages(
    call: Callable[..., dict[str, Any]], operation: str, **params: Any
) -> Iterator[dict[str, Any]]:
    """Every item of a query or scan, page after page."""
    while True:
        page = call(operation, **params)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def create_table(client: Any, table: str) -> None:
    """Make the journal's table (pay per request, point-in-time recovery); wait for it."""
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "rootkeys", "Value": "journal"}],
        )
    except Exception as exc:
        if code_of(exc) != "ResourceInUseException":  # made meanwhile: fine
            raise JournalError(f"could not create the table {table}: {code_of(exc)}") from None
    try:
        client.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    except Exception as exc:
        raise JournalError(f"the table {table} did not become ready: {code_of(exc)}") from None
    try:
        client.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    except Exception as exc:  # the table works without; say so
        logging.getLogger("rootkeys").warning(
            "could not turn on point-in-time recovery for %s: %s", table, code_of(exc)
        )


rehome(globals())
