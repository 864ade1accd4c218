"""Who has been using each key: IAM's last use and CloudTrail's event history.

CloudTrail's ``LookupEvents`` allows 2 requests per second per account and region, so
calls are paced by a token bucket per (account, region) shared by every thread: the
limit is never reached in the first place (throttling is still retried if it happens).
Evidence is optional and bounded in time; missing permissions degrade to "evidence
unavailable: <reason>", never an exception.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._errors import AccessDeniedError, RootKeysError
from rootkeys._models import CloudTrailEvidence, Count
from rootkeys._retry import RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from rootkeys._clock import Clock

__all__ = ["HISTORY", "LOOKUP_RATE", "PACE", "EvidenceGatherer", "TokenBucket"]

log = logging.getLogger("rootkeys")

LOOKUP_RATE = 2.0
"""CloudTrail LookupEvents: requests per second per account per region (AWS's limit)."""
PACE = 0.98
"""The share of the limit rootkeys uses, so that clock skew never tips it over."""
HISTORY = timedelta(days=90)
"""CloudTrail's event history keeps 90 days."""
TOP = 5
"""How many of each (IPs, user agents, ...) a summary keeps."""


class TokenBucket:
    """Paces calls to at most ``rate`` per second, for every thread that shares it."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self._interval = timedelta(seconds=1 / rate)
        self._clock = clock
        self._next: datetime | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait until this caller may make its call."""
        with self._lock:
            now = self._clock.now()
            slot = max(now, self._next or now)
            self._next = slot + self._interval
        wait = (slot - now).total_seconds()
        if wait > 0:
            self._clock.sleep(wait)


class EvidenceGatherer:
    """Gathers evidence for one account's keys through CloudTrail clients per region."""

    def __init__(
        self,
        client_for: Callable[[str], Any],
        *,
        clock: Clock,
        policy: RetryPolicy,
        buckets: Callable[[str], TokenBucket],
    ) -> None:
        self._client_for = client_for
        self._clock = clock
        self._policy = policy
        self._bucket = buckets

    def cloudtrail(
        self, key_id: str, regions: Sequence[str], budget: timedelta
    ) -> tuple[CloudTrailEvidence | None, str | None]:
        """Search every region (in parallel, each paced) for the key's events."""
        now = self._clock.now()
        since = now - HISTORY
        deadline = now + budget
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(regions)))) as pool:
            results = list(pool.map(lambda r: self._region(key_id, r, since, deadline), regions))
        events = [e for found, _, _ in results for e in found]
        complete = all(done for _, done, _ in results)
        failed = tuple(
            f"{r}: {why}" for r, (_, _, why) in zip(regions, results, strict=True) if why
        )
        if failed and len(failed) == len(regions):
            return None, "; ".join(failed)
        return _summarise(tuple(regions), since, events, complete, failed), None

    def _region(
        self, key_id: str, region: str, since: datetime, deadline: datetime
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        client = self._client_for(region)
        bucket = self._bucket(region)
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            if self._clock.now() >= deadline:
                return found, False, None
            args: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": key_id}],
                "StartTime": since,
                "MaxResults": 50,
            }
            if token:
                args["NextToken"] = token

            def lookup(args: dict[str, Any] = args) -> Any:
                bucket.acquire()
                return client.lookup_events(**args)

            try:
                page = call_with_retries(
                    "LookupEvents", lookup, policy=self._policy, sleep=self._clock.sleep
                )
            except AccessDeniedError as exc:
                return found, True, f"not allowed ({exc.code})"
            except RootKeysError as exc:
                return found, False, f"{type(exc).__name__}: {exc}"
            found.extend(page.get("Events", []))
            token = page.get("NextToken")
            if not token:
                return found, True, None


def _summarise(
    regions: tuple[str, ...],
    since: datetime,
    events: Iterable[dict[str, Any]],
    complete: bool,
    unavailable: tuple[str, ...],
) -> CloudTrailEvidence:
    names: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    ips: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    times: list[datetime] = []
    for event in events:
        names[str(event.get("EventName", "?"))] += 1
        sources[str(event.get("EventSource", "?"))] += 1
        times.append(event["EventTime"])
        try:
            detail = json.loads(event.get("CloudTrailEvent") or "{}")
        except ValueError:
            detail = {}
        ips[str(detail.get("sourceIPAddress", "?"))] += 1
        agents[str(detail.get("userAgent", "?"))[:120]] += 1
    return CloudTrailEvidence(
        regions=regions,
        since=since,
        events=len(times),
        first_seen=min(times, default=None),
        last_seen=max(times, default=None),
        event_names=_top(names),
        event_sources=_top(sources),
        source_ips=_top(ips),
        user_agents=_top(agents),
        complete=complete,
        unavailable_regions=unavailable,
    )


def _top(counter: Counter[str]) -> tuple[Count, ...]:
    return tuple(Count(value=v, count=n) for v, n in counter.most_common(TOP))
