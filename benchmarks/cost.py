"""The cost of a month of daily organization passes, from the calls a pass makes.

``python -m benchmarks.cost`` runs a simulated month of daily passes (``wait=False``, a
fresh `Organization` a day, as each Lambda invocation is) on the sandbox: N member
accounts with root keys and other credentials (`rootkeys.testing.MIXED`), a 7-day
window, one account whose check fails (rolled back, then on hold). It counts, per
account and pass:

- the calls the management account's principal makes, by service (Organizations, STS,
  IAM), and those made in AssumeRoot sessions (IAM, STS: free, but they take time);
- the journal's operations: appends (with each record's size), reads of an account's
  records, lock acquisitions, by wrapping the journal the passes use.

Then it scales to ``--scale`` accounts (1,000) and prices a month with the public list
prices below (`PRICES`), turning journal operations into DynamoDB request units with
`DYNAMODB` and the calls into Lambda time with `LAMBDA`: every figure that is assumed
rather than measured is one of those constants, to update in one place.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rootkeys
from rootkeys.reports import AccountOutcome
from rootkeys.testing import MIXED, FakeClock, Sandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

PRICES = {
    # us-east-1 list prices, USD, as published on aws.amazon.com/<service>/pricing
    # (read 2026-12; DynamoDB's on-demand prices since the November 2024 reduction).
    # Free tiers are ignored (they would make most of this month free).
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_gb_second_x86_64": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,  # on-demand write request unit (1 KB)
    "dynamodb_rru": 0.125 / 1e6,  # on-demand read request unit (4 KB, strongly consistent)
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
    "sns_publish": 0.50 / 1e6,
    "sns_email": 2.00 / 1e5,  # per e-mail delivered
    "scheduler_invocation": 1.00 / 1e6,  # after 14 million free a month
    "logs_ingested_gb": 0.50,
    "logs_stored_gb_month": 0.03,
    "alarm_month": 0.10,  # standard resolution, per alarm
    "kms_key_month": 1.00,
    "kms_request": 0.03 / 1e4,
    "sqs_request": 0.40 / 1e6,
    # AWS Organizations, IAM, STS (AssumeRoot included) and the SCPs are free
}
"""Public list prices (us-east-1, USD)."""

DYNAMODB = {
    "items_per_append": 2,  # the record, and the account's head item, in one transaction
    "transaction_factor": 2,  # a transactional write costs 2 WRU per KB
    "head_item_kb": 1,
    "lock_writes": 2,  # a lease: 1 conditional UpdateItem to take, 1 to release
    "consistent_read_factor": 1,  # a strongly consistent Query: 1 RRU per 4 KB read
    "stored_record_overhead": 100,  # bytes per item: keys and attribute names
}
"""How the DynamoDB journal's requests (counted in the sandbox) turn into request units."""

LAMBDA = {
    "memory_gb": 0.5,  # the template's default MemorySize (512 MB)
    "architecture": "arm64",  # the template's default
    "workers": 16,  # Organization's default
    "aws_call_seconds": 0.08,  # one IAM/STS/Organizations call, round trip from Lambda
    "journal_call_seconds": 0.01,  # one DynamoDB call from Lambda in the same Region
    "organizations_per_second": 10,  # AWS Organizations' rate (unpublished): paced to it
    "start_seconds": 3.0,  # a cold start: the runtime, imports, the config from S3
    "invocation_seconds": 14 * 60,  # a pass stops before 15 min; the rest: a new invocation
    "log_bytes_per_invocation": 400,  # START / END / REPORT lines
    "days": 30,
}
"""How calls turn into Lambda time (assumed; workers and memory as the template has them)."""

STACK = {"alarms": 2, "kms_keys": 1, "emails_per_message": 1}
"""What the template deploys that costs by the month, and who reads the topic."""

NOTIFIED = frozenset(
    {
        AccountOutcome.ROLLED_BACK,
        AccountOutcome.ON_HOLD,
        AccountOutcome.BLOCKED,
        AccountOutcome.DONE,
    }
)
"""Outcomes that send a notification (DONE only on the pass that deleted)."""


@dataclass
class Day:
    """What one daily pass made, for all accounts."""

    management: Counter[str] = field(default_factory=Counter)  # service -> calls
    members: int = 0  # calls in AssumeRoot sessions
    appends: int = 0
    appended_bytes: int = 0
    reads: int = 0
    read_rru: int = 0
    locks: int = 0
    notifications: int = 0
    report_bytes: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    dynamodb: Counter[str] = field(default_factory=Counter)  # the journal's requests, measured


class CountingJournal:
    """Wraps a `rootkeys.Journal`'s appends, reads and locks to count them (and sizes)."""

    def __init__(self, journal: rootkeys.Journal) -> None:
        self.journal = journal
        self.day = Day()
        append, records, lock = journal.append, journal.records, journal.lock

        def counted_append(**fields: Any) -> Any:
            record = append(**fields)
            self.day.appends += 1
            self.day.appended_bytes += len(record.model_dump_json())
            return record

        def counted_records(*args: Any, **kwargs: Any) -> Any:
            found = records(*args, **kwargs)
            size = sum(len(r.model_dump_json()) + DYNAMODB["stored_record_overhead"] for r in found)
            self.day.reads += 1
            self.day.read_rru += max(1, math.ceil(size / 4096))
            return found

        @contextmanager
        def counted_lock(account_id: str) -> Iterator[None]:
            self.day.locks += 1
            with lock(account_id):
                yield

        journal.append = counted_append  # type: ignore[method-assign]
        journal.records = counted_records  # type: ignore[method-assign]
        journal.lock = counted_lock  # type: ignore[method-assign]


def simulate(accounts: int, days: int, window_days: int, folder: Path) -> list[Day]:
    """Daily passes over a sandbox organization; what each day's pass made."""
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    results = []
    with Sandbox(clock=clock) as sandbox:
        org = sandbox.create_organization(members=accounts, root_keys=1, credentials=MIXED)
        management = sandbox.management_session()
        failing = org.member_account_ids[0]
        # the journal as the stack has it: a DynamoDB table, reached with the function's
        # session; its requests are counted from the sandbox's record, operation by operation
        journal = CountingJournal(
            rootkeys.Journal.open(
                "dynamodb://rootkeys-journal?region=us-east-1", session=management, create=True
            )
        )

        def check(key: rootkeys.ObservedKey) -> rootkeys.CheckResult:
            return rootkeys.CheckResult(ok=key.account_id != failing, reason="app failing")

        for _ in range(days):
            mark = len(sandbox.calls)
            journal.day = day = Day()
            organization = rootkeys.Organization(
                management, clock=clock, journal=journal.journal, checks=[check]
            )
            report = organization.remove_all(
                timedelta(days=window_days), wait=False, progress=False
            )
            for call in sandbox.calls[mark:]:
                if call.principal == "assumed-root":
                    day.members += 1
                elif call.account_id == org.management_account_id:
                    day.management[call.service] += 1
                    if call.service == "dynamodb":
                        day.dynamodb[call.operation] += 1
            for account in report.accounts:
                day.outcomes[account.outcome] += 1
                deleted = account.report is not None and account.report.deleted
                if account.outcome in NOTIFIED and (
                    account.outcome is not AccountOutcome.DONE or deleted
                ):
                    day.notifications += 1
            day.report_bytes = len(report.model_dump_json())
            results.append(day)
            clock.advance(timedelta(days=1))
    return results


@dataclass
class Month:
    """A month of daily passes for ``scale`` accounts, from the simulated one."""

    days: list[Day]
    simulated: int
    scale: int

    @property
    def factor(self) -> float:
        return self.scale / self.simulated

    def total(self, what: str) -> float:
        return sum(getattr(d, what) for d in self.days) * self.factor

    def management(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for day in self.days:
            total.update(day.management)
        return Counter({k: round(v * self.factor) for k, v in total.items()})

    def dynamodb(self) -> Counter[str]:
        """The journal's DynamoDB requests in the month, by operation (measured, scaled)."""
        total: Counter[str] = Counter()
        for day in self.days:
            total.update(day.dynamodb)
        return Counter({k: round(v * self.factor) for k, v in total.items()})

    def pass_seconds(self, day: Day) -> float:
        calls = (sum(day.management.values()) + day.members) * self.factor
        journal = (day.appends + day.reads + day.locks * DYNAMODB["lock_writes"]) * self.factor
        busy = calls * LAMBDA["aws_call_seconds"] + journal * LAMBDA["journal_call_seconds"]
        paced = day.management["organizations"] * self.factor / LAMBDA["organizations_per_second"]
        return max(busy / LAMBDA["workers"], paced)

    def invocations(self, day: Day) -> int:
        return 1 + int(self.pass_seconds(day) // LAMBDA["invocation_seconds"])

    def costs(self) -> dict[str, float]:
        """USD for the month, by line."""
        days = self.days
        invocations = sum(self.invocations(d) for d in days)
        seconds = sum(self.pass_seconds(d) for d in days) + invocations * LAMBDA["start_seconds"]
        gb_s = seconds * LAMBDA["memory_gb"]
        per_record = [d.appended_bytes / d.appends for d in days if d.appends]
        record_kb = math.ceil(max(per_record, default=1) / 1024)
        per_append = DYNAMODB["items_per_append"] * DYNAMODB["transaction_factor"]
        requests = self.dynamodb()
        wru = requests["TransactWriteItems"] * per_append * max(record_kb, DYNAMODB["head_item_kb"])
        wru += requests["UpdateItem"] + requests["PutItem"]  # leases (1 KB items), META
        rru = self.total("read_rru") * DYNAMODB["consistent_read_factor"]
        rru += requests["GetItem"]  # consistent, under 4 KB
        stored_gb = (
            self.total("appended_bytes")
            + self.total("appends") * DYNAMODB["stored_record_overhead"]
        ) / 1e9
        messages = self.total("notifications")
        logs_gb = (
            sum(d.report_bytes for d in days) * self.factor
            + invocations * LAMBDA["log_bytes_per_invocation"]
        ) / 1e9
        p = PRICES
        arch = LAMBDA["architecture"]
        return {
            "Lambda (GB-s)": gb_s * p[f"lambda_gb_second_{arch}"],
            "Lambda (requests)": invocations * p["lambda_request"],
            "DynamoDB (writes)": wru * p["dynamodb_wru"],
            "DynamoDB (reads)": rru * p["dynamodb_rru"],
            "DynamoDB (storage + PITR)": stored_gb
            * (p["dynamodb_storage_gb_month"] + p["dynamodb_pitr_gb_month"]),
            "SNS (publish + e-mail)": messages
            * (p["sns_publish"] + STACK["emails_per_message"] * p["sns_email"]),
            "EventBridge Scheduler": len(days) * p["scheduler_invocation"],
            "CloudWatch Logs": logs_gb * (p["logs_ingested_gb"] + p["logs_stored_gb_month"]),
            "CloudWatch alarms": STACK["alarms"] * p["alarm_month"],
            "KMS key (topic)": STACK["kms_keys"] * p["kms_key_month"]
            + messages * 2 * p["kms_request"],
        }


def phases(days: list[Day]) -> dict[str, Day]:
    """A representative day of each kind: quarantine, observe, delete, steady state."""
    found: dict[str, Day] = {"day 0 (quarantine)": days[0]}
    for n, day in enumerate(days[1:], 1):
        if day.outcomes[AccountOutcome.DONE] and "delete day" not in found:
            found[f"day {n} (delete)"] = day
            found["delete day"] = day
        elif day.outcomes[AccountOutcome.OBSERVING] and "observing" not in found:
            found[f"day {n} (observe)"] = day
            found["observing"] = day
    steady = days[-1]
    if not steady.outcomes[AccountOutcome.OBSERVING]:
        found[f"day {len(days) - 1} (steady)"] = steady
    return {k: v for k, v in found.items() if k.startswith("day")}


def report(month: Month, window_days: int) -> str:
    """The tables, as printed."""
    n = month.simulated
    lines = [
        f"simulated: {n} member accounts (MIXED credentials, keys and certificates removed), "
        f"{len(month.days)} daily passes, {window_days}-day window, one account's check failing",
        "",
        "calls per account per pass (management principal by service; AssumeRoot sessions;",
        "journal operations)",
        f"  {'pass':<22}{'orgs':>6}{'sts':>6}{'iam':>6}{'member':>8}"
        f"{'appends':>9}{'reads':>7}{'locks':>7}",
    ]
    for name, day in phases(month.days).items():
        m = day.management
        lines.append(
            f"  {name:<22}{m['organizations'] / n:6.1f}{m['sts'] / n:6.1f}{m['iam'] / n:6.1f}"
            f"{day.members / n:8.1f}{day.appends / n:9.1f}{day.reads / n:7.1f}{day.locks / n:7.1f}"
        )
    total = month.management()
    lines += [
        "",
        f"a month for {month.scale:,} accounts (scaled from {n}):",
        "  management calls: "
        + ", ".join(f"{service} {count:,}" for service, count in sorted(total.items())),
        f"  AssumeRoot-session calls: {round(month.total('members')):,}",
        f"  journal: {round(month.total('appends')):,} appends, "
        f"{round(month.total('reads')):,} reads, {round(month.total('locks')):,} locks",
        f"  notifications: {round(month.total('notifications')):,}",
        f"  longest pass: {max(month.pass_seconds(d) for d in month.days) / 60:.1f} min "
        f"({LAMBDA['workers']} workers, {LAMBDA['aws_call_seconds'] * 1000:.0f} ms per AWS call, "
        f"Organizations at {LAMBDA['organizations_per_second']} calls/s), "
        f"{sum(month.invocations(d) for d in month.days)} invocations",
        "",
        f"cost of the month, USD (us-east-1 list prices, free tiers ignored, "
        f"{LAMBDA['memory_gb'] * 1024:.0f} MB {LAMBDA['architecture']})",
    ]
    costs = month.costs()
    for line, usd in costs.items():
        lines.append(f"  {line:<28}{usd:10.3f}")
    lines.append(f"  {'total':<28}{sum(costs.values()):10.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Simulate the month, print the call counts and the cost."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--accounts", type=int, default=20, help="simulated member accounts")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--window", type=int, default=7, help="observation window, days")
    parser.add_argument("--scale", type=int, default=1000, help="accounts to price")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        days = simulate(args.accounts, args.days, args.window, Path(folder))
    print(report(Month(days, args.accounts, args.scale), args.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
