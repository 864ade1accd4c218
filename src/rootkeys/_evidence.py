"""Who has been using each key: IAM's last use and CloudTrail's event history.

CloudTrail's ``LookupEvents`` allows 2 requests per second per account and region, so
calls are paced by a `Pacer` per (account, region) shared by every thread: the limit is
never reached in the first place (throttling is still retried if it happens).
Evidence is optional and bounded in time; missing permissions degrade to "evidence
unavailable: <reason>", never an exception.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._errors import AccessDeniedError, InputError, RootKeysError
from rootkeys._findings import (
    CloudTrailEvidence,
    Count,
    CredentialReportRow,
    KeyEvidence,
    ReportKey,
)
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from boto3.session import Session

    from rootkeys._clock import Clock
    from rootkeys._iam import IamGateway
    from rootkeys._models import AccessKey

__all__ = [
    "HISTORY",
    "LOOKUP_LIMIT",
    "LOOKUP_PER",
    "EvidenceGatherer",
    "EvidenceSource",
    "Pacer",
    "root_report_row",
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
        failed = tuple(
            f"{r}: {why}" for r, (_, _, why) in zip(regions, results, strict=True) if why
        )
        if failed and len(failed) == len(regions):
            by_reason: dict[str, list[str]] = {}
            for region, (_, _, why) in zip(regions, results, strict=True):
                by_reason.setdefault(why or "", []).append(region)
            return None, "; ".join(f"{', '.join(rs)}: {why}" for why, rs in by_reason.items())
        return _summarise(tuple(regions), since, events, complete, failed), None

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


REPORT_POLL = timedelta(seconds=2)


def root_report_row(
    gateway: IamGateway, clock: Clock, budget: timedelta
) -> tuple[CredentialReportRow | None, str | None]:
    """The credential report's ``<root_account>`` row, or why there is none.

    Reads the current report; only when there is none, or it expired, asks AWS to make
    one (AWS makes one at most every 4 hours, so this never forces a new one early),
    then waits for it within ``budget``.
    """
    deadline = clock.now() + budget
    generated = False
    while True:
        try:
            made, text = gateway.credential_report()
            return _root_row(made, text), None
        except AccessDeniedError as exc:
            return None, f"not allowed ({exc.code})"
        except RootKeysError as exc:
            code = getattr(exc, "code", "")
            if code in ("ReportNotPresent", "ReportExpired") and not generated:
                try:
                    gateway.generate_credential_report()
                except RootKeysError as failed:
                    return None, f"could not generate one: {failed}"
                generated = True
                continue
            if code in ("ReportInProgress", "ReportNotPresent") and clock.now() < deadline:
                clock.sleep(REPORT_POLL.total_seconds())
                continue
            return None, f"{code or type(exc).__name__}: {exc}"


def _root_row(made: datetime, text: str) -> CredentialReportRow | None:
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("user") != "<root_account>":
            continue
        keys = []
        for slot in (1, 2):
            prefix = f"access_key_{slot}_"
            keys.append(
                ReportKey(
                    slot=slot,
                    active=row.get(prefix + "active") == "true",
                    last_rotated=_date(row.get(prefix + "last_rotated")),
                    last_used=_date(row.get(prefix + "last_used_date")),
                    last_used_region=_text(row.get(prefix + "last_used_region")),
                    last_used_service=_text(row.get(prefix + "last_used_service")),
                )
            )
        return CredentialReportRow(
            generated_at=made, mfa_active=row.get("mfa_active") == "true", keys=tuple(keys)
        )
    return None


def _date(value: str | None) -> datetime | None:
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _text(value: str | None) -> str | None:
    return None if not value or value == "N/A" else value


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
        self._region = region
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
    ) -> dict[str, KeyEvidence]:
        """Each key's evidence: IAM's last use, and CloudTrail in ``regions``."""
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
        searched = regions or self.enabled_regions()
        found = {}
        for key in keys:
            trail, why = gatherer.cloudtrail(key.key_id, searched, budget)
            found[key.key_id] = KeyEvidence(
                key_id=key.key_id, last_used=key.last_used, cloudtrail=trail, unavailable=why
            )
        return found

    def enabled_regions(self) -> tuple[str, ...]:
        """The account's enabled regions (EC2 ``DescribeRegions``); on error, the session's."""
        fallback = (self._region,)
        if self._session is None:
            return fallback
        ec2 = self._session.client("ec2", region_name=self._region, config=BOTO_CONFIG)
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
        return tuple(sorted(r["RegionName"] for r in answer.get("Regions", []))) or fallback

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
