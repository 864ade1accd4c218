"""Plan, status and runs tell one story: remembered windows, holds, reads that only read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import KeyOutcome, Next, RunOutcome
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount, SandboxOrganization
from tests.orgtools import organization as _organization
from tests.orgtools import quarantined

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)


@pytest.fixture
def journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


@pytest.fixture
def fresh(sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, journal: rootkeys.Journal):
    """A new manager each call, as a new process would make (same journal)."""

    def make(**kwargs: object) -> rootkeys.RootKeyManager:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("journal", journal)
        return rootkeys.RootKeyManager(sandbox.root_session(account.account_id), **kwargs)  # type: ignore[arg-type]

    return make


def _next(keys: tuple[rootkeys.PlannedKey, ...]) -> dict[str, Next]:
    return {k.key_id: k.next for k in keys}


# -- remembered windows ------------------------------------------------------------------------


def test_status_without_arguments_shows_each_remembered_window_end(
    fresh, clock: FakeClock, account: SandboxAccount
) -> None:
    """A policy gave each key its own window; status() with no argument shows each end."""
    start = clock.now()
    policy = rootkeys.RemovalPolicy(never=timedelta(days=14), dormant=DAY)
    fresh().remove_all(policy, wait=False, regions=["us-east-1"])
    status = fresh().status()
    assert {k.until for k in status.keys} == {start + timedelta(days=14)}
    assert {k.window for k in status.keys} == {timedelta(days=14)}
    assert all("never used" in k.window_reason for k in status.keys)


def test_a_later_run_may_lengthen_a_window_never_shorten_it(fresh, clock: FakeClock) -> None:
    """observe_for=1d after a 7d start keeps 7d; observe_for=10d lengthens to 10d."""
    start = clock.now()
    fresh().remove_all(WEEK, wait=False)
    clock.advance(2 * DAY)
    shorter = fresh().remove_all(DAY, wait=False)
    assert shorter.deleted == ()
    assert shorter.observe_for == WEEK  # the report shows the window the keys really have
    assert {k.until for k in fresh().status().keys} == {start + WEEK}
    longer = fresh().remove_all(timedelta(days=10), wait=False)
    assert {k.observing_until for k in longer.keys} == {start + timedelta(days=10)}
    clock.advance(WEEK)  # day 9: past the first window, within the lengthened one
    assert fresh().remove_all(DAY, wait=False).deleted == ()
    clock.advance(DAY)
    assert fresh().remove_all(DAY, wait=False).outcome is RunOutcome.DONE


def test_a_policy_sets_the_window_once(fresh, clock: FakeClock, sandbox: Sandbox, account) -> None:
    """A key's policy window is kept even when its evidence would now call for another."""
    start = clock.now()
    policy = rootkeys.RemovalPolicy(never=HOUR, dormant=DAY, active=WEEK, recent=WEEK)
    fresh().remove_all(policy, wait=False, regions=["us-east-1"])
    assert {k.until for k in fresh().status().keys} == {start + HOUR}
    clock.advance(HOUR)
    report = fresh().remove_all(policy, wait=False, regions=["us-east-1"])
    assert sorted(report.deleted) == sorted(account.root_key_ids)


# -- after a failed check ----------------------------------------------------------------------


def test_after_a_failed_check_plan_status_and_run_agree_on_hold(
    fresh, sandbox: Sandbox, account: SandboxAccount
) -> None:
    """Held keys: plan says on hold with the resume call, nothing removable; status and the
    next run say the same; resume() starts them over."""
    fresh(checks=[lambda key: False]).remove_all(WEEK, wait=False)
    plan = fresh().plan(WEEK, evidence=False, preflight=False)
    assert plan.removable == ()
    assert set(_next(plan.keys).values()) == {Next.ON_HOLD}
    for key in plan.waiting:
        assert key.resume == f"rootkeys resume {key.key_id}, or manager.resume('{key.key_id}')"
    assert _next(fresh().status().keys) == _next(plan.keys)
    writes = len(sandbox.mutations())
    report = fresh().remove_all(WEEK, wait=False)
    assert {k.decision for k in report.keys} == {Next.ON_HOLD}
    assert {k.outcome for k in report.keys} == {KeyOutcome.ON_HOLD}
    assert len(sandbox.mutations()) == writes
    assert set(fresh().resume()) == set(account.root_key_ids)
    assert set(_next(fresh().plan(WEEK, evidence=False).keys).values()) == {Next.MAKE_UNUSABLE}
    again = fresh().remove_all(WEEK, wait=False)
    assert {k.outcome for k in again.keys} == {KeyOutcome.OBSERVING}


def test_resume_of_a_key_not_on_hold_changes_nothing(fresh, account: SandboxAccount) -> None:
    """resume() with nothing held returns no key and writes no record."""
    manager = fresh()
    assert manager.resume() == ()
    assert manager.resume(account.root_key_ids[0]) == ()
    assert manager.history(account.root_key_ids[0]).records[-1].kind is RecordKind.SEEN


# -- reads are reads ---------------------------------------------------------------------------


def test_plan_status_and_history_write_nothing(fresh, sandbox: Sandbox, account) -> None:
    """plan(), status() and history() make no AWS change and add no journal record."""
    fresh().remove_all(WEEK, wait=False)
    manager = fresh()
    before = manager.journal.records(account.account_id)  # type: ignore[union-attr]
    writes = len(sandbox.mutations())
    manager.plan(DAY, evidence=False, preflight=False)
    manager.status()
    manager.status(timedelta(days=30))
    manager.history(account.root_key_ids[0])
    assert manager.journal.records(account.account_id) == before  # type: ignore[union-attr]
    assert len(sandbox.mutations()) == writes


def test_plan_does_what_the_next_run_does_for_a_key_found_inactive(
    fresh, sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """A key found Inactive: the plan says observe until now + window; so does the run."""
    key = account.root_key_ids[0]
    sandbox.set_root_key_status(account.account_id, key, KeyStatus.INACTIVE)
    planned = {k.key_id: k for k in fresh().plan(DAY, evidence=False, preflight=False).keys}
    assert planned[key].next is Next.OBSERVE
    assert planned[key].until == clock.now() + DAY
    report = {k.key_id: k for k in fresh().remove_all(DAY, wait=False).keys}
    assert report[key].decision is Next.OBSERVE
    assert report[key].observing_until == planned[key].until


# -- organizations -----------------------------------------------------------------------------


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=3, root_keys=1)


def test_organization_plan_matches_its_run_and_writes_nothing(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Organization.plan(): per member, the decision its pass then acts on; no change made."""
    organization = _organization(sandbox, clock, journal)
    writes = len(sandbox.mutations())
    plans = {p.account_id: p for p in organization.plan(DAY)}
    assert len(sandbox.mutations()) == writes
    management = org.management_account_id
    assert plans[management].keys == ()
    assert "management account" in plans[management].note
    for member in org.member_account_ids:
        assert set(_next(plans[member].keys).values()) == {Next.MAKE_UNUSABLE}
        assert "quarantine, observe 1d, delete" in plans[member].table()
    report = organization.remove_all(DAY, wait=False)
    for account in report.accounts:
        if account.report is not None:
            assert _next(plans[account.account_id].keys) == {
                k.key_id: k.decision for k in account.report.keys
            }
    statuses = {s.account_id: s for s in organization.status()}
    for member in org.member_account_ids:
        assert {k.until for k in statuses[member].keys} == {clock.now() + DAY}


def test_organization_rollback_detaches_and_holds_resume_starts_over(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """rollback(account): quarantine detached, keys held; resume(account): quarantined again."""
    member = org.member_account_ids[0]
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(DAY, account_ids=[member], wait=False)
    assert quarantined(sandbox, member)
    results = organization.rollback(member)
    assert [r.to_state for r in results] == [rootkeys.KeyState.ACTIVE]
    assert not quarantined(sandbox, member)
    (plan,) = organization.plan(DAY, account_ids=[member])
    assert set(_next(plan.keys).values()) == {Next.ON_HOLD}
    assert member in (plan.keys[0].resume or "")
    clock.advance(DAY)
    held = organization.remove_all(DAY, account_ids=[member], wait=False)
    assert not quarantined(sandbox, member)
    assert held.accounts[0].outcome is rootkeys.AccountOutcome.ON_HOLD
    assert organization.resume(member) == tuple(k.key_id for k in plan.keys)
    organization.remove_all(DAY, account_ids=[member], wait=False)
    assert quarantined(sandbox, member)


def test_organization_verify_and_history(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """verify() is False while a member has a key and True once all are gone; history()
    gives a member key's records."""
    organization = _organization(sandbox, clock, journal)
    assert organization.verify() is False
    key = sandbox.root_keys(org.member_account_ids[0])[0].key_id
    organization.remove_all(timedelta(0), EVERY)
    assert organization.verify() is True
    history = organization.history(org.member_account_ids[0], key)
    kinds = [r.kind for r in history.records]
    assert kinds[0] is RecordKind.SEEN
    assert kinds[-1] is RecordKind.OUTCOME


EVERY = timedelta(minutes=30)
