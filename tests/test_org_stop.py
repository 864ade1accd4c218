"""A safe stop for organization passes: ``stop_when``, ``start_after``, in order of id.

The driver asks ``stop_when`` before each account's pass starts: once it answers True, no
account is started, the running ones finish, the results end. The sandbox is the judge:
an account after the stop saw no call at all (no AssumeRoot, no SCP attached).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import AccountOutcome
from rootkeys._driver import drive, fan_out
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization
from tests.orgtools import organization as _organization
from tests.orgtools import quarantined

WEEK = timedelta(days=7)


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=5, root_keys=1)


@pytest.fixture
def journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


def touched(sandbox: Sandbox, account_id: str) -> list[str]:
    """The operations any call made on or in the account (AssumeRoot and SCPs included)."""
    return [
        c.operation
        for c in sandbox.calls
        if c.account_id == account_id
        or account_id in (c.params.get("TargetPrincipal"), c.params.get("TargetId"))
    ]


class After:
    """A stop_when that answers True from its ``n``+1st question on; counts the questions."""

    def __init__(self, n: int) -> None:
        self.n, self.asked = n, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked > self.n


def test_accounts_are_passed_over_in_order_of_their_id(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """With stop_when, one worker: the results come in order of account id, whatever the
    listing's order."""
    organization = _organization(sandbox, clock, journal, workers=1)
    results = list(organization.removals(WEEK, wait=False, stop_when=lambda: False))
    ids = [r.account_id for r in results]
    assert ids == sorted(ids)
    assert set(ids) == {*org.member_account_ids, org.management_account_id}


@pytest.mark.parametrize("workers", [1, 3])
def test_stop_when_leaves_the_accounts_after_the_stop_untouched(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    workers: int,
) -> None:
    """Stopped after two accounts started: those two are passed over (quarantined,
    observing), the others in order saw no call and keep their keys unquarantined."""
    members = sorted(org.member_account_ids)
    management = org.management_account_id
    ordered = sorted([*members, management])
    stop = After(2)
    organization = _organization(sandbox, clock, journal, workers=workers)

    results = list(organization.removals(WEEK, wait=False, stop_when=stop))

    assert sorted(r.account_id for r in results) == ordered[:2]
    for result in results:
        if result.account_id != management:
            assert result.outcome is AccountOutcome.OBSERVING
            assert quarantined(sandbox, result.account_id)
    for account_id in set(ordered[2:]) - {management}:  # the management account lists
        assert touched(sandbox, account_id) == [], account_id
        assert not quarantined(sandbox, account_id)
        assert sandbox.root_keys(account_id)[0].status is rootkeys.lifecycle.KeyStatus.ACTIVE
    assert stop.asked == 3  # asked before each start, and no more once it said stop


def test_stop_when_lets_running_passes_finish(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Three workers, a stop asked while two passes run (their checks wait for it): both
    finish after it (observing, reported), no third starts."""
    members = sorted(org.member_account_ids)
    stopped = threading.Event()
    finished_after_stop: list[str] = []

    def stop() -> bool:
        if stop.asked == 2:  # type: ignore[attr-defined]
            stopped.set()
            return True
        stop.asked += 1  # type: ignore[attr-defined]
        return False

    stop.asked = 0  # type: ignore[attr-defined]

    def check(key: rootkeys.ObservedKey) -> bool:
        assert stopped.wait(timeout=10)  # still running when the stop was asked
        finished_after_stop.append(key.account_id)
        return True

    organization = _organization(sandbox, clock, journal, workers=3, checks=[check])
    results = list(organization.removals(WEEK, wait=False, account_ids=members, stop_when=stop))

    assert sorted(r.account_id for r in results) == members[:2]
    assert {r.outcome for r in results} == {AccountOutcome.OBSERVING}
    assert sorted(finished_after_stop) == members[:2]
    for account_id in members[2:]:
        assert touched(sandbox, account_id) == []


def test_start_after_goes_on_where_a_stopped_run_left_off(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A run stopped after two accounts, then one from the last id reported: every
    account passed over exactly once, none twice."""
    members = sorted(org.member_account_ids)
    organization = _organization(sandbox, clock, journal)
    first = organization.remove_all(WEEK, wait=False, account_ids=members, stop_when=After(2))
    last = max(a.account_id for a in first.accounts)
    assert last == members[1]
    rest = organization.remove_all(WEEK, wait=False, account_ids=members, start_after=last)
    assert sorted(a.account_id for a in rest.accounts) == members[2:]
    for account_id in members:
        attached = [o for o in touched(sandbox, account_id) if o == "AttachPolicy"]
        assert attached == ["AttachPolicy"], account_id
        assert quarantined(sandbox, account_id)


def test_a_stop_before_a_wait_reports_the_observing_accounts_without_waiting(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """wait=True: asked before the wait, a stop ends the run at once, each account
    reported observing (nothing deleted, no time slept)."""
    members = sorted(org.member_account_ids)[:2]
    stop = After(2)  # both accounts start, the question before the wait stops
    started = clock.now()
    report = _organization(sandbox, clock, journal).remove_all(
        timedelta(hours=1), timedelta(minutes=30), account_ids=members, stop_when=stop
    )
    assert clock.now() == started
    assert report.counts == {AccountOutcome.OBSERVING: 2}
    assert all(len(sandbox.root_keys(m)) == 1 for m in members)


# -- the driver alone -------------------------------------------------------------------------


def test_fan_out_asks_before_each_start_and_drains_the_running() -> None:
    """Two workers, a stop after three starts: three results, in any order; the fourth
    account's work never ran."""
    ran: list[int] = []

    def work(n: int) -> int:
        ran.append(n)
        return n * 10

    results = list(fan_out(range(6), work, lambda _: None, 2, After(3)))
    assert sorted(results) == [0, 10, 20]
    assert sorted(ran) == [0, 1, 2]


def test_drive_keeps_the_latest_result_of_accounts_a_stopped_round_did_not_reach() -> None:
    """wait=True, three accounts observing; the second round is stopped after one: the
    other two keep their first-round results, the first has its second."""
    clock = FakeClock()
    passes: dict[str, int] = {}

    def one(account: str) -> tuple[str, int]:
        passes[account] = passes.get(account, 0) + 1
        return account, passes[account]

    results = list(
        drive(
            ["a", "b", "c"],
            one,
            wait=True,
            interval=timedelta(minutes=1),
            clock=clock,
            due=lambda r: clock.now() + timedelta(hours=1),
            again=lambda r: r[0],
            stop_when=After(5),  # 3 starts, the question before the wait, 1 start
        )
    )
    assert sorted(results) == [("a", 2), ("b", 1), ("c", 1)]


def test_stop_when_must_be_callable(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    with pytest.raises(rootkeys.InputError, match="stop_when must be a callable"):
        _organization(sandbox, clock, journal).removals(WEEK, stop_when=True)  # type: ignore[arg-type]
