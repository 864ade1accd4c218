"""CloudTrail evidence: the sustained LookupEvents rate per account-region.

``python -m benchmarks.evidence`` gathers one key's evidence in three regions of the
sandbox (whose LookupEvents enforces CloudTrail's 2 requests per second per account and
region, throttling above it), on the real clock, with ``--latency`` added to every
lookup, and reports each region's sustained rate as a share of the limit, and the
throttling errors seen (target: >= 90 % of the limit, zero throttling).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta

import rootkeys
from rootkeys.testing import Sandbox

LIMIT = 2.0  # LookupEvents requests per second, per account and region
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def main(argv: list[str] | None = None) -> int:
    """Run the evidence benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=1000, help="events per region")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per lookup")
    args = parser.parse_args(argv)
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=1)
        key = account.root_key_ids[0]
        for region in REGIONS:
            sandbox.use_root_key(
                account.account_id,
                key,
                service="ec2",
                event_name="DescribeInstances",
                region=region,
                times=args.events,
                every=timedelta(minutes=2),
            )
        if args.latency:
            sandbox.before("LookupEvents", lambda: time.sleep(args.latency), times=None)
        manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), journal=False)
        started = time.perf_counter()
        plan = manager.plan(regions=REGIONS, evidence_budget=timedelta(minutes=10))
        wall = time.perf_counter() - started
        lookups = [c for c in sandbox.calls if c.operation == "LookupEvents"]
    evidence = plan.keys[0].evidence
    trail = evidence.cloudtrail if evidence else None
    throttled = [c for c in lookups if c.status != 200]
    by_region: dict[str | None, list[datetime]] = defaultdict(list)
    for call in lookups:
        if call.at is not None and call.status == 200:
            by_region[call.region].append(call.at)
    print(
        f"CloudTrail evidence: {len(REGIONS)} regions x {args.events} events, "
        f"{args.latency * 1000:.0f} ms added per lookup, {wall:.1f} s"
    )
    worst = 1.0
    for region, times in sorted(by_region.items(), key=lambda kv: str(kv[0])):
        times.sort()
        span = (times[-1] - times[0]).total_seconds()
        rate = (len(times) - 1) / span if span else 0.0
        worst = min(worst, rate / LIMIT)
        print(
            f"  {region}: {len(times)} lookups, {rate:.2f} per second sustained = "
            f"{rate / LIMIT:.0%} of the limit"
        )
    print(f"  lowest share of the limit: {worst:.0%} (target >= 90%)")
    print(f"  throttling errors: {len(throttled)} (target 0)")
    print(f"  events found: {trail.events if trail else 0} of {len(REGIONS) * args.events}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
