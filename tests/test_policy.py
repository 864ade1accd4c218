"""Risk from evidence, and a RemovalPolicy that turns risk into each key's window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import KeyOutcome, RemovalPolicy, RunOutcome
from rootkeys.reports import Risk
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager

POLICY = RemovalPolicy()


def _by_key(plan: rootkeys.Plan) -> dict[str, rootkeys.PlannedKey]:
    return {pk.key.key_id: pk for pk in plan.keys}


def test_risk_follows_the_most_recent_use(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    make_manager: MakeManager,
) -> None:
    """Used today: recent, 14 days; used a month ago: active, 8 days."""
    old, new = account.root_key_ids
    sandbox.use_root_key(account.account_id, old, user_agent="monthly-report/1.0")
    clock.advance(timedelta(days=30))
    sandbox.use_root_key(
        account.account_id, new, source_ip="203.0.113.9", user_agent="orders-service/2.3", times=50
    )
    plan = make_manager().plan(POLICY, regions=["us-east-1"])
    keys = _by_key(plan)
    assert (keys[new].risk, keys[new].window) == (Risk.RECENT, timedelta(days=14))
    assert (keys[old].risk, keys[old].window) == (Risk.ACTIVE, timedelta(days=8))
    assert "orders-service/2.3" in plan.table()
    assert "used in the last day" in keys[new].window_reason
    assert plan.policy == POLICY


def test_never_and_long_ago_get_short_windows(
    sandbox: Sandbox,
    clock: FakeClock,
    make_manager: MakeManager,
) -> None:
    """Never used: 1 hour; last used over 90 days ago: 1 day."""
    account = sandbox.create_account("777788889999", root_keys=2)
    dormant, never = account.root_key_ids
    sandbox.use_root_key(account.account_id, dormant)
    clock.advance(timedelta(days=100))
    manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), clock=clock)
    keys = _by_key(manager.plan(POLICY, regions=["us-east-1"]))
    assert (keys[dormant].risk, keys[dormant].window) == (Risk.DORMANT, timedelta(days=1))
    assert (keys[never].risk, keys[never].window) == (Risk.NEVER, timedelta(hours=1))


def test_staged_run_with_a_policy_deletes_each_key_after_its_own_window(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """The never-used key goes after an hour; the app's key observes on for 14 days."""
    used, never = account.root_key_ids
    sandbox.use_root_key(account.account_id, used, times=10)

    def run() -> rootkeys.RemovalReport:
        return rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id), clock=clock, journal=tmp_path / "j.sqlite3"
        ).remove_all(POLICY, wait=False, regions=["us-east-1"])

    first = run()
    assert {k.key_id: k.window for k in first.keys} == {
        used: timedelta(days=14),
        never: timedelta(hours=1),
    }
    clock.advance(timedelta(hours=2))
    second = {k.key_id: k.outcome for k in run().keys}
    assert second == {used: KeyOutcome.OBSERVING, never: KeyOutcome.DELETED}
    clock.advance(timedelta(days=14))
    assert run().outcome is RunOutcome.DONE


def test_blocking_run_with_a_policy_waits_for_the_longest_window(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    make_manager: MakeManager,
) -> None:
    """wait=True with a policy: every key observed for at least its own window."""
    sandbox.use_root_key(account.account_id, account.root_key_ids[0])
    start = clock.now()
    report = make_manager().remove_all(POLICY, regions=["us-east-1"])
    assert report.outcome is RunOutcome.DONE
    assert clock.now() - start >= timedelta(days=14)
    assert report.observe_for == timedelta(days=14)


def test_policy_values_can_be_overridden(make_manager: MakeManager) -> None:
    """A policy with other windows gives those windows."""
    strict = RemovalPolicy(never=timedelta(days=2))
    keys = make_manager().plan(strict, evidence=False).keys
    assert {pk.window for pk in keys} == {timedelta(days=2)}


@pytest.mark.parametrize(
    "policy",
    [RemovalPolicy(never=timedelta(hours=-1)), RemovalPolicy(recent=timedelta(days=4000))],
    ids=["negative", "huge"],
)
def test_bad_policy_windows_are_input_errors(
    sandbox: Sandbox,
    make_manager: MakeManager,
    policy: RemovalPolicy,
) -> None:
    """A policy window out of range is refused before any AWS call."""
    manager = make_manager()
    with pytest.raises(rootkeys.InputError):
        manager.remove_all(policy)
    assert sandbox.calls == ()
