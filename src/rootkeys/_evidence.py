"""Who has been using each key: IAM's last use and CloudTrail's event history.

CloudTrail's ``LookupEvents`` allows 2 requests per second per account and region, so
calls are paced by a `Pacer` per (account, region) shared by every thread: the limit is
never reached in the first place (throttling is still retried if it happens).
Evidence is optional and bounded in time; missing permissions degrade to "evidence
unavailable: <reason>", never an exception.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from rootkeys._errors import AccessDeniedError, AWSError, InputError, RootKeysError
from rootkeys._findings import CloudTrailEvidence, Count, KeyEvidence
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from boto3.session import Session

    from rootkeys._clock import Clock
    from rootkeys._models import AccessKey

__all__ = [
    "HISTORY",
    "LOOKUP_LIMIT",
    "LOOKUP_PER",
    "EvidenceGatherer",
    "EvidenceSource",
    "Pacer",
    "reason",
    "validate_regions",
]

log = logging.getLogger("rootkeys")

LOOKUP_LIMIT = 2
"""CloudTrail LookupEvents: requests per second per account per region (AWS's limit)."""
LOOKUP_PER = timedelta(seconds=1.02)
"""The window the limit is counted over, with 20 ms to spare for clock rates."""
HISTORY = timedelta(days=90)
"""CloudTrail's event history keeps 90 days."""
TOP = 5
"""How many of each (IPs, user agents, ...) a summary keeps."""


class Pacer:
    """At most ``limit`` calls in any ``per``, as the receiving end counts them.

    A call may start only ``per`` after the call ``limit`` places before it *completed*.
    AWS receives that earlier call before it completes and receives this one after it
    starts, so no ``limit + 1`` calls can land within ``per``, however late a call is
    sent or received (network jitter, a descheduled thread). Shared by every thread
    that calls one account's API in one region.
    """

    def __init__(self, limit: int, per: timedelta, clock: Clock) -> None:
        self._limit = limit
        self._per = per
        self._clock = clock
        self._done: deque[datetime] = deque()
        self._in_flight = 0
        self._lock = threading.Condition()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a free slot, hold it for one call, then release it."""
        while True:
            with self._lock:
                now = self._clock.now()
                while self._done and self._done[0] + self._per <= now:
                    self._done.popleft()
                if self._in_flight + len(self._done) < self._limit:
                    self._in_flight += 1
                    break
                wait = (self._done[0] + self._per - now).total_seconds() if self._done else None
                if wait is None:  # every slot is a call in flight: wait for one to end
                    self._lock.wait(timeout=1.0)
                    continue
            self._clock.sleep(wait)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._done.append(self._clock.now())
                self._lock.notify_all()


class EvidenceGatherer:
    """Gathers evidence for one account's keys through CloudTrail clients per region."""

    def __init__(
        self,
        client_for: Callable[[str], Any],
        *,
        clock: Clock,
        policy: RetryPolicy,
        pacers: Callable[[str], Pacer],
    ) -> None:
        self._client_for = client_for
        self._clock = clock
        self._policy = policy
        self._pacer = pacers

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
        failed = [(r, why) for r, (_, _, why) in zip(regions, results, strict=True) if why]
        if failed and len(failed) == len(regions):
            return None, _failures(failed)
        unavailable = tuple(f"{r}: {why}" for r, why in failed)
        return _summarise(tuple(regions), since, events, complete, unavailable), None

    def _region(
        self, key_id: str, region: str, since: datetime, deadline: datetime
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        client = self._client_for(region)
        pacer = self._pacer(region)
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
                with pacer.slot():
                    return client.lookup_events(**args)

            try:
                page = call_with_retries(
                    "LookupEvents", lookup, policy=self._policy, sleep=self._clock.sleep
                )
            except AccessDeniedError as exc:
                return found, True, f"not allowed ({exc.code})"
            except RootKeysError as exc:
                return found, False, reason(exc)
            found.extend(page.get("Events", []))
            token = page.get("NextToken")
            if not token:
                return found, True, None


REASON_LENGTH = 120
"""The longest reason kept for one region's failure (an error page is not a reason)."""
_TAGS = re.compile(r"<[^>]*>")


def reason(exc: BaseException) -> str:
    """A short, one-line reason for an error: its code and the start of its message.

    An endpoint that is not AWS may answer with a whole HTML page; only its first words
    are kept, without markup, so a plan's table stays readable.
    """
    text = str(exc)
    code = ""
    if isinstance(exc, AWSError):  # "<operation>: <message> (code <code>, request id <id>)"
        code = exc.code
        text = text.removeprefix(f"{exc.operation}: " if exc.operation else "")
        text = text[: text.rfind(" (code ")] if " (code " in text else text
    text = " ".join(_TAGS.sub(" ", text).split())
    if code and not text.startswith(code):
        text = f"{code}: {text}"
    if len(text) > REASON_LENGTH:
        text = text[: REASON_LENGTH - 1].rstrip() + "…"
    return text or type(exc).__name__


def _failures(failed: Sequence[tuple[str, str]]) -> str:
    """Regions that failed, grouped by reason: ``reason (in 30 regions: a, b, c, ...)``."""
    by_reason: dict[str, list[str]] = {}
    for region, why in failed:
        by_reason.setdefault(why, []).append(region)
    parts = []
    for why, regions in by_reason.items():
        shown = ", ".join(regions[:3]) + (", ..." if len(regions) > 3 else "")
        where = f"in {len(regions)} regions: {shown}" if len(regions) > 1 else regions[0]
        parts.append(f"{why} ({where})")
    return "; ".join(parts)


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


_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]")


def validate_regions(regions: object) -> tuple[str, ...]:
    """``regions`` as a tuple of AWS region names, or `InputError`."""
    if isinstance(regions, str) or not isinstance(regions, Iterable):
        raise InputError("regions must be a list of region names, such as ['us-east-1']")
    found = tuple(regions)
    bad = [r for r in found if not isinstance(r, str) or not _REGION.fullmatch(r)]
    if bad or not found:
        raise InputError(f"not AWS region names: {bad or 'an empty list'}")
    return found


class EvidenceSource:
    """One manager's way to evidence: its session's CloudTrail clients and pacers.

    Clients are made once per region and pacers once per (account, region), and shared
    by every thread, so the pace holds however many threads gather at once.
    """

    def __init__(
        self, session: Session | None, *, region: str, clock: Clock, policy: RetryPolicy
    ) -> None:
        self._session = session
        self.region = region
        """The session's region (default: us-east-1): CloudTrail's fallback."""
        self._clock = clock
        self._policy = policy
        self._clients: dict[str, Any] = {}
        self._pacers: dict[tuple[str, str], Pacer] = {}
        self._lock = threading.Lock()

    def for_keys(
        self,
        account_id: str,
        keys: Sequence[AccessKey],
        regions: tuple[str, ...] | None,
        budget: timedelta,
        *,
        partition: str | None = None,
    ) -> dict[str, KeyEvidence]:
        """Each key's evidence: IAM's last use, and CloudTrail in ``regions``.

        Without ``regions``: the account's enabled regions in ``partition`` (the
        caller's, from its ARN).
        """
        if self._session is None:
            reason = "no boto3.Session to make CloudTrail clients (the manager got ready clients)"
            return {
                k.key_id: KeyEvidence(key_id=k.key_id, last_used=k.last_used, unavailable=reason)
                for k in keys
            }
        gatherer = EvidenceGatherer(
            self._client,
            clock=self._clock,
            policy=self._policy,
            pacers=lambda region: self._pacer(account_id, region),
        )
        searched = regions or self.enabled_regions(partition)
        found = {}
        for key in keys:
            trail, why = gatherer.cloudtrail(key.key_id, searched, budget)
            found[key.key_id] = KeyEvidence(
                key_id=key.key_id, last_used=key.last_used, cloudtrail=trail, unavailable=why
            )
        return found

    def enabled_regions(self, partition: str | None = None) -> tuple[str, ...]:
        """The account's enabled regions (EC2 ``DescribeRegions``); on error, the session's.

        Only those of ``partition`` (default: the session region's): an account lives in
        one partition, so a commercial account is never searched in ``cn-*`` or
        ``us-gov-*`` regions, whatever an endpoint lists.
        """
        fallback = (self.region,)
        if self._session is None:
            return fallback
        ec2 = self._session.client("ec2", region_name=self.region, config=BOTO_CONFIG)
        try:
            answer = call_with_retries(
                "DescribeRegions",
                ec2.describe_regions,
                policy=self._policy,
                sleep=self._clock.sleep,
            )
        except RootKeysError as exc:
            log.warning("cannot list the enabled regions (%s); searching %s only", exc, fallback)
            return fallback
        listed = {str(r["RegionName"]) for r in answer.get("Regions", [])}
        wanted = partition or _partition_of(self._session, self.region)
        return tuple(sorted(r for r in listed if _partition_of(self._session, r) == wanted)) or (
            fallback
        )

    def _client(self, region: str) -> Any:
        assert self._session is not None
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._session.client("cloudtrail", region_name=region, config=BOTO_CONFIG)
                self._clients[region] = client
            return client

    def _pacer(self, account_id: str, region: str) -> Pacer:
        with self._lock:
            pacer = self._pacers.get((account_id, region))
            if pacer is None:
                pacer = Pacer(LOOKUP_LIMIT, LOOKUP_PER, self._clock)
                self._pacers[(account_id, region)] = pacer
            return pacer


def _partition_of(session: Session, region: str) -> str | None:
    """The partition a region belongs to (botocore's endpoint data), None if unknown."""
    try:
        return str(session.get_partition_for_region(region))
    except botocore.exceptions.UnknownRegionError:
        return None
