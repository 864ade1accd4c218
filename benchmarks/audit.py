"""Organization audit: rootkeys against a sequential loop written the way scripts are.

``python -m benchmarks.audit`` measures, in one run, against the latency-injected fake
(benchmarks/fake.py, the same four calls per account for both):

- wall time of `Organization.audit` over N accounts at 50 ms per call, beside the
  baseline (a new ``boto3.Session`` and clients per account, one account after another,
  timed on a sample and scaled to N: running it on all N would take minutes), and the
  ideal bound (calls x latency / workers);
- CPU seconds per account with no injected latency, rootkeys and baseline;
- peak memory auditing 10,000 accounts (in a child process, so the figure is its own);
- optionally (``--headline``) 10,000 accounts at 50 ms per call.

Results are printed as ratios against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import boto3

import rootkeys
from benchmarks.fake import FakeAWS, account_id

TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
CALLS_PER_ACCOUNT = 4  # AssumeRoot, ListAccessKeys, GetAccessKeyLastUsed, GetAccountSummary


def _management() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="AKIAMANAGEMENT000000",
        aws_secret_access_key="m" * 40,
        region_name="us-east-1",
    )


@dataclass
class Timing:
    """Wall and CPU seconds for some number of accounts."""

    accounts: int
    wall: float
    cpu: float

    @property
    def wall_per_account(self) -> float:
        return self.wall / self.accounts

    @property
    def cpu_per_account(self) -> float:
        return self.cpu / self.accounts


def rootkeys_audit(accounts: int, latency: float, workers: int) -> Timing:
    """`Organization.audit` over ``accounts`` members, results consumed as they stream."""
    with FakeAWS(accounts, latency=latency):
        organization = rootkeys.Organization(_management(), workers=workers, journal=False)
        wall, cpu = time.perf_counter(), time.process_time()
        seen = 0
        for audit in organization.audit():
            assert audit.status in (
                rootkeys.reports.AuditStatus.AUDITED,
                rootkeys.reports.AuditStatus.FAILED,
            )
            assert audit.status is rootkeys.reports.AuditStatus.AUDITED, audit.reason
            seen += 1
        timing = Timing(seen, time.perf_counter() - wall, time.process_time() - cpu)
    assert seen == accounts, seen
    return timing


def sequential_audit(accounts: int, latency: float) -> Timing:
    """The script most people write: a new session and clients per account, in a loop."""
    with FakeAWS(accounts, latency=latency):
        wall, cpu = time.perf_counter(), time.process_time()
        for n in range(accounts):
            sts = _management().client("sts", region_name="us-east-1")
            credentials = sts.assume_root(
                TargetPrincipal=account_id(n),
                TaskPolicyArn={"arn": TASK},
                DurationSeconds=900,
            )["Credentials"]
            member = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name="us-east-1",
            )
            iam = member.client("iam")
            for key in iam.list_access_keys()["AccessKeyMetadata"]:
                iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
            iam.get_account_summary()
        return Timing(accounts, time.perf_counter() - wall, time.process_time() - cpu)


def peak_memory(accounts: int, workers: int) -> float:
    """Peak RSS (MiB) of a child process auditing ``accounts`` members (no latency)."""
    code = (
        "import json, resource; from benchmarks.audit import rootkeys_audit; "
        f"t = rootkeys_audit({accounts}, 0.0, {workers}); "
        "print(json.dumps({'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "'wall': t.wall}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return float(found["rss"]) / 1024  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    """Run the audit benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--baseline-sample", type=int, default=40)
    parser.add_argument("--memory-accounts", type=int, default=10_000)
    parser.add_argument("--headline", action="store_true", help="also 10,000 at the latency")
    args = parser.parse_args(argv)
    n, latency, workers = args.accounts, args.latency, args.workers

    print(f"organization audit, {n} accounts, {latency * 1000:.0f} ms per call, {workers} workers")
    ours = rootkeys_audit(n, latency, workers)
    base = sequential_audit(args.baseline_sample, latency)
    projected = base.wall_per_account * n
    ideal = (CALLS_PER_ACCOUNT * n) * latency / workers
    print(f"  rootkeys:   {ours.wall:8.1f} s wall")
    print(
        f"  sequential: {projected:8.1f} s wall (measured on {base.accounts} accounts: "
        f"{base.wall_per_account * 1000:.0f} ms each, scaled to {n})"
    )
    print(f"  ideal bound (calls x latency / workers): {ideal:.1f} s")
    print(f"  speed-up: {projected / ours.wall:.1f}x the sequential loop (target >= 20x)")
    print(f"  efficiency: {ideal / ours.wall:.0%} of the ideal bound")

    cpu_ours = rootkeys_audit(n, 0.0, workers)
    cpu_base = sequential_audit(args.baseline_sample, 0.0)
    print(f"CPU per account, no injected latency ({n} accounts; baseline {cpu_base.accounts})")
    print(f"  rootkeys:   {cpu_ours.cpu_per_account * 1000:6.1f} ms (target <= 10 ms)")
    print(f"  sequential: {cpu_base.cpu_per_account * 1000:6.1f} ms")
    print(
        f"  ratio: rootkeys uses {cpu_ours.cpu_per_account / cpu_base.cpu_per_account:.2f}x "
        "the baseline's CPU per account"
    )

    memory = peak_memory(args.memory_accounts, workers)
    here = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory auditing {args.memory_accounts} accounts: {memory:.0f} MiB "
        f"(target < 150 MiB; this benchmark process itself: {here:.0f} MiB)"
    )

    if args.headline:
        big = rootkeys_audit(10_000, latency, workers)
        print(
            f"headline: 10,000 accounts at {latency * 1000:.0f} ms per call in "
            f"{big.wall:.0f} s (target < 180 s); sequential would take "
            f"{base.wall_per_account * 10_000 / 60:.0f} min"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
