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
