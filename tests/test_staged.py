"""The journal at work: staged runs across processes, reconciliation, holds, locks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import KeyOutcome, Next, RunOutcome
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import statuses

WEEK = timedelta(days=7)
DAY = timedelta(days=1)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def fresh(sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, journal_path: Path):
    """A new manager each call, as a new process would make (same journal file)."""

    def make(**kwargs: object) -> rootkeys.RootKeyManager:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("journal", journal_path)
        return rootkeys.RootKeyManager(sandbox.root_session(account.account_id), **kwargs)

    return make


def _kinds(manager: rootkeys.RootKeyManager, key_id: str) -> list[str]:
    return [
        r.kind.value + (f":{r.action.value}" if r.action else "")
        for r in manager.history(key_id).records
    ]


def test_every_change_is_journaled_intent_then_outcome(fresh, account: SandboxAccount) -> None:
    """A clean run leaves, per key: first seen, intent/outcome to deactivate, its window,
    the checks of each pass (hourly over a day, and at once), intent/outcome to delete."""
    manager = fresh()
    manager.remove_all(observe_for=DAY)
    key = account.root_key_ids[0]
    assert _kinds(manager, key) == [
        "seen",
        "intent:deactivate",
        "outcome:deactivate",
        "window",
        *["checks passed"] * 25,
        "intent:delete",
        "outcome:delete",
    ]
    records = manager.history(key).records
    intent, outcome = records[1], records[2]
    assert outcome.intent_seq == intent.seq
    assert outcome.status is rootkeys.reports.StepStatus.DONE
    assert intent.at <= outcome.at
    assert {r.run_id for r in records[1:]} == {records[1].run_id}


def test_staged_removal_across_processes_converges(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """Day 0 deactivates; days 1..6 observe; day 7 deletes: each run a new manager."""
    first = fresh().remove_all(observe_for=WEEK, wait=False)
    assert first.outcome is RunOutcome.OBSERVING
    assert {k.outcome for k in first.keys} == {KeyOutcome.OBSERVING}
    assert all(k.observing_until == clock.now() + WEEK for k in first.keys)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.INACTIVE}

    for _ in range(6):
        clock.advance(DAY)
        report = fresh().remove_all(observe_for=WEEK, wait=False)
        assert report.outcome is RunOutcome.OBSERVING
        assert not any(c.operation == "DeleteAccessKey" for c in sandbox.calls)

    clock.advance(DAY)
    last = fresh().remove_all(observe_for=WEEK, wait=False)
    assert last.outcome is RunOutcome.DONE
    assert sandbox.root_keys(account.account_id) == []
    assert fresh().remove_all(observe_for=WEEK, wait=False).outcome is RunOutcome.NOTHING_TO_DO


def test_staged_run_does_not_wait(fresh, clock: FakeClock) -> None:
    """wait=False returns without sleeping through the window."""
    start = clock.now()
    fresh().remove_all(observe_for=WEEK, wait=False)
    assert clock.now() - start < timedelta(minutes=5)


def test_blocking_run_waits_only_the_rest_of_a_journaled_window(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """Deactivated 5 days ago (journal): a blocking 7-day run waits the last 2 days only."""
    fresh().remove_all(observe_for=WEEK, wait=False)
    deactivated_at = clock.now()
    clock.advance(timedelta(days=5))
    report = fresh().remove_all(observe_for=WEEK)
    assert report.outcome is RunOutcome.DONE
    assert clock.now() >= deactivated_at + WEEK
    assert clock.now() < deactivated_at + WEEK + DAY


def test_key_found_inactive_starts_its_window_when_first_seen(
    sandbox: Sandbox,
    clock: FakeClock,
    journal_path: Path,
) -> None:
    """A key Inactive before rootkeys knew it: its window starts at first sight, not earlier."""
    acct = sandbox.create_account("777788889999", root_keys=1, inactive=1)

    def run() -> rootkeys.RemovalReport:
        return rootkeys.RootKeyManager(
            sandbox.root_session(acct.account_id), clock=clock, journal=journal_path
        ).remove_all(observe_for=DAY, wait=False)

    assert run().outcome is RunOutcome.OBSERVING
    clock.advance(DAY - timedelta(seconds=1))
    assert run().outcome is RunOutcome.OBSERVING
    clock.advance(timedelta(seconds=1))
    assert run().outcome is RunOutcome.DONE


def test_failed_check_in_a_later_run_rolls_back_what_an_earlier_run_did(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """Run 1 deactivates; run 2's check fails: both keys Active again, nothing deleted."""
    fresh().remove_all(observe_for=WEEK, wait=False)
    clock.advance(DAY)
    report = fresh(checks=[lambda key: False]).remove_all(observe_for=WEEK, wait=False)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert sorted(report.rolled_back) == sorted(account.root_key_ids)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}


def test_rolled_back_keys_are_held_until_a_person_acts(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """After a rollback, daily runs leave the keys alone; deactivate() starts over."""
    fresh(checks=[lambda key: False]).remove_all(observe_for=WEEK, wait=False)
    writes = len(sandbox.mutations())
    clock.advance(DAY)
    again = fresh().remove_all(observe_for=WEEK, wait=False)
    assert {k.outcome for k in again.keys} == {KeyOutcome.ON_HOLD}
    assert all("failed" in k.reason for k in again.keys)  # why: the failed check
    assert len(sandbox.mutations()) == writes
    status = fresh().status(observe_for=WEEK)
    assert {k.next for k in status.keys} == {Next.ON_HOLD}

    manager = fresh()
    first = account.root_key_ids[0]
    manager.deactivate(first)
    assert {k.key_id: k.next for k in manager.status(observe_for=WEEK).keys}[first] is (
        Next.OBSERVE
    )
    clock.advance(WEEK)
    report = fresh().remove_all(observe_for=WEEK, wait=False)
    assert report.deleted == (first,)


def test_reactivation_by_someone_else_between_runs_voids_the_window(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """A key made Active outside rootkeys between runs: recorded, reported, never deleted."""
    fresh().remove_all(observe_for=WEEK, wait=False)
    first = account.root_key_ids[0]
    sandbox.set_root_key_status(account.account_id, first, KeyStatus.ACTIVE)
    clock.advance(WEEK)
    report = fresh().remove_all(observe_for=WEEK, wait=False)
    outcomes = {k.key_id: k for k in report.keys}
    assert outcomes[first].outcome is KeyOutcome.ON_HOLD
    assert "reactivated outside rootkeys" in outcomes[first].reason
    assert first in statuses(sandbox, account.account_id)
    assert RecordKind.WINDOW_VOID in [r.kind for r in fresh().history(first).records]


def test_key_deleted_by_someone_else_is_recorded_gone(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """A key that vanished between runs gets a 'gone' record and shows as deleted."""
    fresh().remove_all(observe_for=WEEK, wait=False)
    first = account.root_key_ids[0]
    sandbox.delete_root_key(account.account_id, first)
    manager = fresh()
    manager.remove_all(observe_for=WEEK, wait=False)
    assert manager.history(first).records[-1].kind is RecordKind.GONE
    stages = {k.key_id: k.next for k in manager.status().keys}
    assert stages[first] is Next.DONE


def test_open_intent_is_closed_from_what_aws_shows(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    journal_path: Path,
) -> None:
    """An intent with no outcome (a crash) is resolved by reading AWS: made, or not made."""
    made, not_made = account.root_key_ids
    journal = rootkeys.Journal(journal_path)
    for key in (made, not_made):
        journal.append(
            account_id=account.account_id,
            key_id=key,
            run_id="crashed",
            kind=RecordKind.SEEN,
            to_state=rootkeys.KeyState.ACTIVE,
        )
        journal.append(
            account_id=account.account_id,
            key_id=key,
            run_id="crashed",
            kind=RecordKind.INTENT,
            action=rootkeys.lifecycle.Action.DEACTIVATE,
            from_state=rootkeys.KeyState.ACTIVE,
            to_state=rootkeys.KeyState.INACTIVE,
        )
    sandbox.set_root_key_status(account.account_id, made, KeyStatus.INACTIVE)
    manager = fresh()
    manager.status()  # reading alone writes nothing
    assert manager.history(made).records[-1].kind is RecordKind.INTENT
    manager.remove_all(observe_for=WEEK, wait=False)
    closed = {k: manager.history(k).records[2] for k in (made, not_made)}
    assert closed[made].kind is RecordKind.OUTCOME
    assert closed[made].status is rootkeys.reports.StepStatus.DONE
    assert closed[not_made].status is rootkeys.reports.StepStatus.FAILED
    assert closed[not_made].error_code == "Interrupted"


def test_wait_false_needs_a_journal(sandbox: Sandbox, account: SandboxAccount) -> None:
    """Without a journal a staged run is refused before any AWS call."""
    manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), journal=False)
    with pytest.raises(rootkeys.InputError, match="needs a journal"):
        manager.remove_all(observe_for=WEEK, wait=False)
    with pytest.raises(rootkeys.InputError, match="no journal"):
        manager.history(account.root_key_ids[0])
    assert sandbox.calls == ()


def test_second_process_on_the_same_account_waits_then_fails(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    journal_path: Path,
) -> None:
    """While the account is locked, another manager fails with JournalLockedError, no change."""
    holder = rootkeys.Journal(journal_path)
    waiter = fresh(journal=rootkeys.Journal(journal_path, lock_timeout=timedelta(milliseconds=100)))
    with holder.lock(account.account_id), pytest.raises(rootkeys.errors.JournalLockedError):
        waiter.remove_all(observe_for=WEEK, wait=False)
    assert sandbox.mutations() == ()


def test_failing_intent_write_means_no_aws_call(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    journal_path: Path,
) -> None:
    """If the intent cannot be committed (disk full), the AWS call is not made."""
    journal = rootkeys.Journal(journal_path)
    for key in account.root_key_ids:  # already known: reconciliation has nothing to write
        journal.append(
            account_id=account.account_id,
            key_id=key,
            run_id="setup",
            kind=RecordKind.SEEN,
            to_state=rootkeys.KeyState.ACTIVE,
        )
    pages = journal._store._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._store._conn.execute(f"PRAGMA max_page_count = {pages}")

    def fill() -> None:
        for _ in range(10_000):
            journal.append(
                account_id="999999999999",
                key_id=account.root_key_ids[0],
                run_id="filler",
                kind=RecordKind.SEEN,
                detail="x" * 200,
            )

    with pytest.raises(rootkeys.errors.JournalError):
        fill()
    with pytest.raises(rootkeys.errors.JournalError, match="could not record"):
        fresh(journal=journal).deactivate(account.root_key_ids[0])
    assert not any(c.operation == "UpdateAccessKey" for c in sandbox.calls)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}


def test_status_table_and_history_render(fresh, account: SandboxAccount) -> None:
    """status() and history() render as tables (and as markdown in notebooks)."""
    manager = fresh()
    manager.remove_all(observe_for=WEEK, wait=False)
    status = manager.status(observe_for=WEEK)
    assert {k.next for k in status.keys} == {Next.OBSERVE}
    assert all(k.until == k.since + WEEK for k in status.keys if k.since)
    assert "observe" in status.table()
    html = status._repr_html_()
    assert html.count("<tr>") == 1 + len(status.keys)
    assert "observe" in html
    history = manager.history(account.root_key_ids[0])
    assert "deactivate (Active → Inactive)" in history.table()


def test_key_deactivated_by_hand_gets_a_full_window_then_goes(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """A held key that a person deactivates: its window starts when rootkeys sees it."""
    fresh(checks=[lambda key: False]).remove_all(observe_for=WEEK, wait=False)  # on hold
    first = account.root_key_ids[0]
    clock.advance(DAY)
    sandbox.set_root_key_status(account.account_id, first, KeyStatus.INACTIVE)
    seen_at = clock.now()
    assert fresh().remove_all(observe_for=WEEK, wait=False).deleted == ()
    clock.advance(WEEK - timedelta(minutes=1))
    assert fresh().remove_all(observe_for=WEEK, wait=False).deleted == ()
    clock.advance(timedelta(minutes=1))
    report = fresh().remove_all(observe_for=WEEK, wait=False)
    assert report.deleted == (first,)
    assert clock.now() - seen_at >= WEEK


@pytest.mark.parametrize("content", [b"garbage" * 50, None], ids=["corrupt", "missing-dir"])
def test_bad_journal_fails_before_any_aws_call(
    sandbox: Sandbox,
    account: SandboxAccount,
    tmp_path: Path,
    content: bytes | None,
) -> None:
    """A manager with a corrupt journal (or one in a missing directory) never calls AWS."""
    path = tmp_path / "journal.sqlite3" if content else tmp_path / "nope" / "journal.sqlite3"
    if content:
        path.write_bytes(content)
    with pytest.raises(rootkeys.errors.JournalError):
        rootkeys.RootKeyManager(sandbox.root_session(account.account_id), journal=path)
    assert sandbox.calls == ()
    if content:
        assert path.read_bytes() == content


def test_concurrent_runs_never_double_delete_or_interleave(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    journal_path: Path,
) -> None:
    """Two runs at once on one account: one waits for the other; each key deleted once."""
    import threading

    reports: list[rootkeys.RemovalReport] = []

    def run() -> None:
        manager = rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id),
            clock=clock,
            journal=rootkeys.Journal(journal_path),
        )
        reports.append(manager.remove_all(observe_for=timedelta(0)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.outcome for r in reports) == sorted([RunOutcome.DONE, RunOutcome.NOTHING_TO_DO])
    deletes = [c for c in sandbox.calls if c.operation == "DeleteAccessKey"]
    assert len(deletes) == 2
    records = rootkeys.Journal(journal_path).records(account.account_id)
    runs = [r.run_id for r in records]
    first_run_ends = max(i for i, run_id in enumerate(runs) if run_id == runs[0])
    assert all(run_id == runs[0] for run_id in runs[: first_run_ends + 1])


def test_a_plan_before_the_first_run_is_not_mistaken_for_outside_change(
    fresh,
    account: SandboxAccount,
) -> None:
    """Evidence journaled by plan() first: the run still records each key as first seen."""
    manager = fresh()
    manager.plan(regions=["us-east-1"])
    manager.remove_all(observe_for=WEEK, wait=False)
    for key in account.root_key_ids:
        seen = [r for r in manager.history(key).records if r.kind is RecordKind.SEEN]
        assert [r.detail for r in seen] == ["first seen"]


def test_interrupting_a_blocking_run_keeps_earlier_windows(
    fresh,
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
) -> None:
    """Ctrl-C in a blocking run does not reactivate keys an earlier staged run deactivated."""
    fresh().remove_all(observe_for=WEEK, wait=False)
    clock.advance(DAY)

    def impatient(key: rootkeys.AccessKey) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fresh(checks=[impatient]).remove_all(observe_for=WEEK)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.INACTIVE}
    status = fresh().status(observe_for=WEEK)
    assert {k.next for k in status.keys} == {Next.OBSERVE}
    clock.advance(WEEK)
    assert fresh().remove_all(observe_for=WEEK, wait=False).outcome is RunOutcome.DONE


def test_a_rollback_that_failed_is_finished_by_the_next_run(
    fresh, sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """The check failed but reactivating failed too: the next run reactivates, never deletes."""

    def fails_and_breaks_iam(key: rootkeys.ObservedKey) -> bool:
        sandbox.inject_server_error(operation="UpdateAccessKey", times=None)
        return False

    first = fresh(checks=[fails_and_breaks_iam], retry=rootkeys.RetryPolicy(attempts=1))
    failed = first.remove_all(observe_for=DAY)
    assert {k.outcome for k in failed.keys} == {KeyOutcome.FAILED}
    sandbox.clear_faults()
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.INACTIVE}

    clock.advance(2 * WEEK)  # long past any window: a key still Inactive must not go
    progress = fresh().status(observe_for=DAY)
    assert {(k.next, k.state) for k in progress.keys} == {
        (Next.ROLL_BACK, rootkeys.KeyState.INACTIVE)
    }
    report = fresh().remove_all(observe_for=DAY, wait=False)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert {k.outcome for k in report.keys} == {KeyOutcome.ROLLED_BACK}
    assert all("finishing a rollback" in k.reason for k in report.keys)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}
    assert not [c for c in sandbox.calls if c.operation == "DeleteAccessKey"]


def test_a_healthy_observing_pass_tells_hooks_no_failed_verification(
    fresh, clock: FakeClock
) -> None:
    """Keys left in their window are expected: no NOT_VERIFIED alarm while observing;
    VERIFIED once the last pass has deleted them."""
    events: list[rootkeys.Event] = []
    fresh(hooks=[events.append]).remove_all(WEEK, wait=False)
    kinds = {e.kind for e in events}
    assert rootkeys.EventKind.NOT_VERIFIED not in kinds
    assert rootkeys.EventKind.VERIFIED not in kinds
    clock.advance(WEEK + DAY)
    events.clear()
    report = fresh(hooks=[events.append]).remove_all(WEEK, wait=False)
    assert report.outcome is RunOutcome.DONE
    assert [e.kind for e in events[-2:]] == [
        rootkeys.EventKind.VERIFIED,
        rootkeys.EventKind.ACCOUNT_FINISHED,
    ]
