"""The benchmarks still run (tiny sizes, no timing asserted: figures live in benchmarks/)."""

from __future__ import annotations

import pytest
from benchmarks import audit
from benchmarks.fake import FakeAWS


def test_audit_benchmark_runs_and_both_sides_make_the_same_calls() -> None:
    """rootkeys and the sequential loop audit every account with the same four calls each."""
    with FakeAWS(1, latency=0.0) as warm:  # the fake works on its own
        assert warm.calls == {}
    ours = audit.rootkeys_audit(25, 0.0, 4)
    assert ours.accounts == 25
    base = audit.sequential_audit(3, 0.0)
    assert base.accounts == 3


def test_fake_counts_four_calls_per_account() -> None:
    """Per account: AssumeRoot, ListAccessKeys, GetAccessKeyLastUsed, GetAccountSummary."""
    import boto3

    import rootkeys

    with FakeAWS(10, latency=0.0) as fake:
        session = boto3.Session(
            aws_access_key_id="AKIAMANAGEMENT000000",
            aws_secret_access_key="m" * 40,
            region_name="us-east-1",
        )
        audits = list(rootkeys.Organization(session, workers=2, journal=False).audit())
    assert len(audits) == 10
    per_account = ("AssumeRoot", "ListAccessKeys", "GetAccessKeyLastUsed", "GetAccountSummary")
    assert {op: fake.calls[op] for op in per_account} == dict.fromkeys(per_account, 10)
    assert sum(fake.calls[op] for op in per_account) == audit.CALLS_PER_ACCOUNT * 10


def test_import_benchmark_runs_and_loads_neither_sandbox_nor_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One round of each import statement in fresh interpreters; the sandbox and CLI stay out."""
    from benchmarks import imports

    assert imports.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    for stmt in imports.STATEMENTS:
        assert stmt in out
    assert "sandbox or CLI imported: no" in out


def test_cost_benchmark_counts_a_month_and_prices_it() -> None:
    """Day 0 quarantines and journals; the last day, with nothing left, appends nothing."""
    import tempfile
    from pathlib import Path

    from benchmarks import cost

    with tempfile.TemporaryDirectory() as folder:
        days = cost.simulate(3, 5, 2, Path(folder))
    assert len(days) == 5
    first, last = days[0], days[-1]
    assert first.management["organizations"] > last.management["organizations"]
    assert first.appends > 0
    assert first.locks == 3
    assert last.appends == 0
    assert last.reads >= 3
    month = cost.Month(days, simulated=3, scale=30)
    assert month.total("locks") == 10 * sum(d.locks for d in days)
    costs = month.costs()
    assert all(usd >= 0 for usd in costs.values())
    assert costs["KMS key (topic)"] >= cost.PRICES["kms_key_month"]
    assert "total" in cost.report(month, 2)
