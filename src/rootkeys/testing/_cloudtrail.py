"""CloudTrail event history in the sandbox: ``LookupEvents``, which moto lacks.

Every call the sandbox sees signed with an access key becomes a management event in
the account's trail for its region (IAM and STS land in us-east-1, as in AWS), with the
caller's source IP and user agent. `Trail.record` adds events for a simulated app.
``LookupEvents`` answers from them, newest first, paginated, one lookup attribute at a
time, at most 2 requests per second per account and region (then ``ThrottlingException``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._clock import Clock
from rootkeys.testing import _http

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse


__all__ = ["RATE_LIMIT", "Trail", "TrailEvent"]

RATE_LIMIT = 2
"""LookupEvents requests allowed per second, per account and region."""
GLOBAL_SERVICES = frozenset({"iam", "sts"})
_JSON = {"Content-Type": "application/x-amz-json-1.1"}


@dataclass(frozen=True)
class TrailEvent:
    """One management event, as CloudTrail's event history keeps it."""

    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    access_key_id: str
    username: str
    source_ip: str
    user_agent: str
    region: str

    def lookup_record(self) -> dict[str, Any]:
        detail = {
            "eventVersion": "1.08",
            "eventTime": self.event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
            "userIdentity": {"accessKeyId": self.access_key_id},
        }
        return {
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": "true"
            if self.event_name.startswith(("Get", "List", "Describe"))
            else "false",
            "AccessKeyId": self.access_key_id,
            "EventTime": self.event_time.timestamp(),
            "EventSource": self.event_source,
            "Username": self.username,
            "Resources": [],
            "CloudTrailEvent": json.dumps(detail),
        }


@dataclass
class Trail:
    """Every account's event history, and the LookupEvents rate limit."""

    clock: Clock
    _events: dict[tuple[str, str], list[TrailEvent]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _lookups: dict[tuple[str, str], deque[datetime]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        account_id: str,
        access_key_id: str,
        *,
        event_name: str,
        service: str,
        region: str,
        username: str = "root",
        source_ip: str = "127.0.0.1",
        user_agent: str = "sandbox",
        at: datetime | None = None,
    ) -> TrailEvent:
        """Add one event to the account's trail (IAM and STS events land in us-east-1)."""
        region = "us-east-1" if service in GLOBAL_SERVICES else region
        event = TrailEvent(
            event_id=str(uuid.uuid4()),
            event_time=at or self.clock.now(),
            event_name=event_name,
            event_source=f"{service}.amazonaws.com",
            access_key_id=access_key_id,
            username=username,
            source_ip=source_ip,
            user_agent=user_agent,
            region=region,
        )
        with self._lock:
            self._events[(account_id, region)].append(event)
        return event

    def lookup(self, request: AWSPreparedRequest, account_id: str, region: str) -> AWSResponse:
        """Answer ``LookupEvents`` (JSON protocol) for the account in ``region``."""
        now = self.clock.now()
        with self._lock:
            recent = self._lookups[(account_id, region)]
            while recent and recent[0] <= now - timedelta(seconds=1):
                recent.popleft()
            if len(recent) >= RATE_LIMIT:
                return _error(request, "ThrottlingException", "Rate exceeded", 400)
            recent.append(now)
            events = list(self._events[(account_id, region)])
        raw = request.body
        body = json.loads(raw if isinstance(raw, str | bytes | bytearray) and raw else b"{}")
        attributes = body.get("LookupAttributes", [])
        if len(attributes) > 1:
            return _error(
                request,
                "InvalidLookupAttributesException",
                "only one lookup attribute is allowed",
                400,
            )
        wanted = {a["AttributeKey"]: a["AttributeValue"] for a in attributes}
        start = _when(body.get("StartTime"), now - timedelta(days=90))
        end = _when(body.get("EndTime"), now)
        matching = [
            e
            for e in events
            if start <= e.event_time <= end
            and e.event_time >= now - timedelta(days=90)
            and wanted.get("AccessKeyId", e.access_key_id) == e.access_key_id
            and wanted.get("EventName", e.event_name) == e.event_name
        ]
        matching.sort(key=lambda e: e.event_time, reverse=True)
        size = min(int(body.get("MaxResults", 50)), 50)
        offset = int(body.get("NextToken") or 0)
        page = matching[offset : offset + size]
        answer: dict[str, Any] = {"Events": [e.lookup_record() for e in page]}
        if offset + size < len(matching):
            answer["NextToken"] = str(offset + size)
        return _http.respond_bytes(request, 200, json.dumps(answer).encode(), _JSON)


def _when(value: object, default: datetime) -> datetime:
    if value is None:
        return default
    return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]


def _error(request: AWSPreparedRequest, code: str, message: str, status: int) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return _http.respond_bytes(request, status, body, _JSON)
