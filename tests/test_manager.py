"""RootKeyManager: the lifecycle end to end on the sandbox."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

import rootkeys
from rootkeys import EventKind, KeyOutcome, RunOutcome
from rootkeys.lifecycle import KeyStatus
from rootkeys.reports import StepStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager, Recorder, statuses

WEEK = timedelta(days=7)
DAY = timedelta(days=1)


def test_remove_all_happy_path_ends_with_zero_keys(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
    clock: FakeClock,
) -> None:
    """Both keys deleted after the window, AccountAccessKeysPresent 0, verify() true."""
    start = clock.now()
    report = manager.remove_all(observe_for=WEEK)
    assert report.outcome is RunOutcome.DONE
    assert sorted(report.deleted) == sorted(account.root_key_ids)
    assert report.keys_present is False
    assert sandbox.root_keys(account.account_id) == []
    assert manager.verify() is True
    assert clock.now() - start >= WEEK


def test_keys_are_deleted_only_after_the_whole_window(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    clock: FakeClock,
) -> None:
    """No delete before the window ends; every key was Inactive at every check."""
    seen: list[tuple[timedelta, dict[str, KeyStatus]]] = []
    start = clock.now()

    def watcher(key: rootkeys.AccessKey) -> bool:
        seen.append((clock.now() - start, statuses(sandbox, account.account_id)))
        return True

    deletes: list[timedelta] = []
    sandbox.before("DeleteAccessKey", lambda: deletes.append(clock.now() - start), times=None)
    make_manager(checks=[watcher]).remove_all(observe_for=DAY, check_interval=timedelta(hours=4))
    assert len(deletes) == 2
    assert min(deletes) >= DAY
    assert len(seen) == 2 * 7  # two keys, checked at once and every 4 h over a day
    assert all(set(s.values()) == {KeyStatus.INACTIVE} for _, s in seen)


def test_failing_check_rolls_back_and_deletes_nothing(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    recorder: Recorder,
) -> None:
    """A check returning False reactivates every key this run deactivated; nothing deleted."""
    verdicts = iter([True, True, False])

    def flaky(key: rootkeys.AccessKey) -> bool:
        return next(verdicts, False)

    report = make_manager(checks=[flaky]).remove_all(observe_for=WEEK)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert sorted(report.rolled_back) == sorted(account.root_key_ids)
    assert report.deleted == ()
    assert report.check_failure is not None
    assert report.check_failure.check == "flaky"
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}
    assert not any(c.operation == "DeleteAccessKey" for c in sandbox.calls)
    assert len(recorder.of(EventKind.REACTIVATED)) == 2
    assert len(recorder.of(EventKind.CHECK_FAILED)) == 1


def test_check_result_reason_reaches_the_report(make_manager: MakeManager) -> None:
    """A CheckResult's reason is in the report's check failure and key reasons."""

    def health(key: rootkeys.AccessKey) -> rootkeys.CheckResult:
        return rootkeys.CheckResult(False, "billing export returned 403")

    health.name = "billing health"  # type: ignore[attr-defined]
    report = make_manager(checks=[health]).remove_all(observe_for=DAY)
    assert report.check_failure is not None
    assert report.check_failure.check == "billing health"
    assert report.check_failure.reason == "billing export returned 403"
    assert all("billing export returned 403" in k.reason for k in report.keys)


def test_raising_check_counts_as_failure(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """A check that raises rolls back like a failing one, its exception in the reason."""

    def broken(key: rootkeys.AccessKey) -> bool:
        raise ConnectionError("health endpoint down")

    report = make_manager(checks=[broken]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert "ConnectionError: health endpoint down" in report.check_failure.reason
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}


def test_check_returning_non_bool_fails_safe(make_manager: MakeManager) -> None:
    """A check that forgets to return (None) is failing, not passing."""
    report = make_manager(checks=[lambda key: None]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.ROLLED_BACK


def test_reactivation_by_someone_else_voids_the_window(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    clock: FakeClock,
) -> None:
    """A key made Active again mid-window voids its window: held, never deleted.

    The next pass finds it Active (reconciliation voids its window and holds it); the
    other key, untouched and its checks passing, goes on to deletion after its window.
    """
    first = account.root_key_ids[0]
    ticks = 0

    def meanwhile(key: rootkeys.AccessKey) -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            sandbox.set_root_key_status(account.account_id, first, KeyStatus.ACTIVE)
        return True

    manager = make_manager(checks=[meanwhile])
    report = manager.remove_all(observe_for=DAY)
    assert first not in report.deleted
    assert report.deleted == (account.root_key_ids[1],)
    assert statuses(sandbox, account.account_id) == {first: KeyStatus.ACTIVE}
    held = {k.key_id: k for k in manager.plan(DAY, evidence=False, preflight=False).keys}
    assert held[first].next is rootkeys.Next.ON_HOLD
    assert "reactivated outside rootkeys" in held[first].reason
    assert report.outcome is RunOutcome.ON_HOLD


def test_already_inactive_and_expired_keys_get_the_same_window(
    sandbox: Sandbox,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    """Keys found Inactive or Expired are observed for the full window, then deleted."""
    acct = sandbox.create_account("777788889999", root_keys=2, inactive=1)
    expired = acct.root_key_ids[0]
    sandbox.set_root_key_status(acct.account_id, expired, KeyStatus.EXPIRED)
    start = clock.now()
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(acct.account_id), clock=clock, hooks=[recorder]
    )
    report = manager.remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.DONE
    assert not any(c.operation == "UpdateAccessKey" for c in sandbox.calls)
    deleted_at = [e.at - start for e in recorder.of(EventKind.DELETED)]
    assert len(deleted_at) == 2
    assert min(deleted_at) >= DAY


def test_failing_check_leaves_already_inactive_keys_inactive(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    """Rollback reactivates only what this run deactivated, never a key found Inactive."""
    acct = sandbox.create_account("777788889999", root_keys=2, inactive=1)
    active, inactive = acct.root_key_ids
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(acct.account_id), clock=clock, checks=[lambda key: False]
    )
    report = manager.remove_all(observe_for=DAY)
    outcomes = {k.key_id: k.outcome for k in report.keys}
    assert outcomes == {active: KeyOutcome.ROLLED_BACK, inactive: KeyOutcome.KEPT}
    assert statuses(sandbox, acct.account_id) == {
        active: KeyStatus.ACTIVE,
        inactive: KeyStatus.INACTIVE,
    }


def test_remove_all_twice_is_harmless(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """A second run finds nothing to do and makes no change."""
    assert manager.remove_all(observe_for=DAY).outcome is RunOutcome.DONE
    mutations = len(sandbox.mutations())
    again = manager.remove_all(observe_for=DAY)
    assert again.outcome is RunOutcome.NOTHING_TO_DO
    assert again.keys == ()
    assert len(sandbox.mutations()) == mutations


def test_no_such_entity_on_an_intended_delete_counts_as_done(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """Someone deletes the key between our read and our delete: the step is done."""
    first = account.root_key_ids[0]
    manager = make_manager()
    manager.deactivate(first)
    sandbox.before("DeleteAccessKey", lambda: sandbox.delete_root_key(account.account_id, first))
    result = manager.delete(first)
    assert result.step.status is StepStatus.ALREADY_DONE
    assert result.verified
    no_such = [c for c in sandbox.calls if c.operation == "DeleteAccessKey"]
    assert [c.status for c in no_such] == [404]


def test_delete_of_a_gone_key_is_idempotent(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """Deleting the same key twice: the second call is 'already done', with no AWS write."""
    first = account.root_key_ids[0]
    manager.deactivate(first)
    assert manager.delete(first).step.status is StepStatus.DONE
    writes = len(sandbox.mutations())
    again = manager.delete(first)
    assert again.step.status is StepStatus.ALREADY_DONE
    assert not again.changed
    assert len(sandbox.mutations()) == writes


def test_explicit_steps_walk_the_lifecycle(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """deactivate, reactivate, deactivate, delete: each verified in IAM."""
    key = account.root_key_ids[0]
    for step, expected in [
        (manager.deactivate, KeyStatus.INACTIVE),
        (manager.reactivate, KeyStatus.ACTIVE),
        (manager.deactivate, KeyStatus.INACTIVE),
    ]:
        result = step(key)
        assert result.verified
        assert result.changed
        assert statuses(sandbox, account.account_id)[key] is expected
    assert manager.delete(key).verified
    assert key not in statuses(sandbox, account.account_id)


def test_deleting_an_active_key_is_refused_before_any_call(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """delete() on an Active key raises IllegalTransitionError and sends no delete."""
    key = account.root_key_ids[0]
    with pytest.raises(rootkeys.errors.IllegalTransitionError) as caught:
        manager.delete(key)
    assert (caught.value.current, caught.value.target) == ("Active", "Deleted")
    assert sandbox.mutations() == ()
    assert statuses(sandbox, account.account_id)[key] is KeyStatus.ACTIVE


def test_deactivate_twice_is_a_no_op(
    sandbox: Sandbox, account: SandboxAccount, manager: rootkeys.RootKeyManager
) -> None:
    """The second deactivate of the same key changes nothing."""
    key = account.root_key_ids[0]
    manager.deactivate(key)
    writes = len(sandbox.mutations())
    assert manager.deactivate(key).step.status is StepStatus.ALREADY_DONE
    assert len(sandbox.mutations()) == writes


def test_unknown_key_is_key_not_found(manager: rootkeys.RootKeyManager, sandbox: Sandbox) -> None:
    """A well-formed id that is not a root key of this account raises KeyNotFoundError."""
    with pytest.raises(rootkeys.errors.KeyNotFoundError, match="AKIAZZZZZZZZZZZZZZZZ"):
        manager.deactivate("AKIAZZZZZZZZZZZZZZZZ")
    assert sandbox.mutations() == ()


def test_throttling_is_retried_and_seen_by_hooks(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
    recorder: Recorder,
) -> None:
    """Two Throttling answers on UpdateAccessKey are retried; hooks see both retries."""
    sandbox.inject_throttling(operation="UpdateAccessKey", times=2)
    result = manager.deactivate(account.root_key_ids[0])
    assert result.verified
    retries = recorder.of(EventKind.RETRYING)
    assert [(e.operation, e.error_code, e.attempt) for e in retries] == [
        ("UpdateAccessKey", "Throttling", 1),
        ("UpdateAccessKey", "Throttling", 2),
    ]
    updates = [c for c in sandbox.calls if c.operation == "UpdateAccessKey"]
    assert [c.status for c in updates] == [400, 400, 200]


def test_server_errors_and_dropped_connections_are_retried(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """ServiceFailure and a closed connection are retried until the call succeeds."""
    sandbox.inject_server_error(operation="DeleteAccessKey")
    sandbox.inject_connection_error(operation="DeleteAccessKey")
    report = manager.remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.DONE
    deletes = [c.status for c in sandbox.calls if c.operation == "DeleteAccessKey"]
    assert deletes.count(200) == 2
    assert 500 in deletes  # ServiceFailure answered
    assert 0 in deletes  # connection dropped


def test_access_denied_is_not_retried_and_is_typed(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
    recorder: Recorder,
) -> None:
    """AccessDenied surfaces as AccessDeniedError after exactly one attempt."""
    sandbox.deny("UpdateAccessKey")
    with pytest.raises(rootkeys.errors.AccessDeniedError) as caught:
        manager.deactivate(account.root_key_ids[0])
    assert caught.value.code == "AccessDenied"
    assert caught.value.operation == "UpdateAccessKey"
    assert caught.value.request_id
    assert [c.operation for c in sandbox.calls].count("UpdateAccessKey") == 1
    assert recorder.of(EventKind.RETRYING) == []
    assert len(recorder.of(EventKind.STEP_FAILED)) == 1


def test_access_denied_in_remove_all_is_reported_per_key(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
) -> None:
    """A denied deactivation fails that key, leaves it Active, and the pass is incomplete."""
    sandbox.deny("UpdateAccessKey", times=1)
    report = manager.remove_all(observe_for=DAY, wait=False)
    assert report.outcome is RunOutcome.INCOMPLETE
    failed = [k for k in report.keys if k.outcome is KeyOutcome.FAILED]
    assert len(failed) == 1
    assert "AccessDenied" in failed[0].reason
    seen = statuses(sandbox, account.account_id)
    assert seen.pop(failed[0].key_id) is KeyStatus.ACTIVE
    assert set(seen.values()) == {KeyStatus.INACTIVE}  # the other key goes on


def test_stale_reads_after_a_write_are_waited_out(
    sandbox: Sandbox,
    account: SandboxAccount,
    manager: rootkeys.RootKeyManager,
    clock: FakeClock,
) -> None:
    """IAM showing the old status for a few reads is waited out; the step is verified."""
    sandbox.inject_stale_reads(account.account_id, reads=3)
    key = account.root_key_ids[0]
    result = manager.deactivate(key)
    assert result.step.status is StepStatus.DONE
    after_update = [c.operation for c in sandbox.calls][
        [c.operation for c in sandbox.calls].index("UpdateAccessKey") :
    ]
    assert after_update.count("ListAccessKeys") == 4  # three stale, then the truth
    assert clock.slept > timedelta(0)


def test_a_change_that_never_shows_is_unverified_not_assumed(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """If IAM never shows the new status, the explicit step says unverified."""
    sandbox.inject_stale_reads(account.account_id, reads=10_000)
    manager = make_manager(consistency_timeout=timedelta(seconds=5))
    result = manager.deactivate(account.root_key_ids[0])
    assert result.step.status is StepStatus.UNVERIFIED
    assert not result.verified
    assert result.to_state is rootkeys.KeyState.ACTIVE  # not assumed to have changed
    assert "not assumed" in result.step.detail


def test_unverified_deactivation_is_never_observed_or_deleted(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """remove_all does not observe or delete a key whose deactivation never showed."""
    sandbox.inject_stale_reads(account.account_id, reads=10_000, writes=10)
    report = make_manager(consistency_timeout=timedelta(seconds=5)).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.INCOMPLETE
    assert {k.outcome for k in report.keys} == {KeyOutcome.UNVERIFIED}
    assert all("not deleted" in k.reason for k in report.keys)
    assert not any(c.operation == "DeleteAccessKey" for c in sandbox.calls)


def test_raising_hook_never_leaves_a_step_unrecorded(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A hook raising on every event: the run completes and every step has its outcome."""

    def angry(event: rootkeys.Event) -> None:
        raise RuntimeError(f"pager down on {event.kind}")

    report = make_manager(hooks=[angry]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.DONE
    assert report.hook_errors
    assert all("angry raised RuntimeError" in e for e in report.hook_errors)
    for key in report.keys:
        assert [s.action for s in key.steps] == [
            rootkeys.lifecycle.Action.DEACTIVATE,
            rootkeys.lifecycle.Action.DELETE,
        ]
        assert all(s.status is StepStatus.DONE and s.finished_at for s in key.steps)


def test_steps_record_intent_before_outcome(manager: rootkeys.RootKeyManager) -> None:
    """Each step's intent time precedes its finish time."""
    report = manager.remove_all(observe_for=DAY)
    for key in report.keys:
        for step in key.steps:
            assert step.finished_at is not None
            assert step.intended_at <= step.finished_at


def test_zero_window_must_be_asked_for(manager: rootkeys.RootKeyManager) -> None:
    """remove_all has no default window; timedelta(0) works when given explicitly."""
    assert inspect.signature(manager.remove_all).parameters["observe_for"].default is (
        inspect.Parameter.empty
    )
    with pytest.raises(TypeError):
        manager.remove_all()  # type: ignore[call-arg]
    assert manager.remove_all(observe_for=timedelta(0)).outcome is RunOutcome.DONE


def test_zero_window_still_runs_every_check_once(make_manager: MakeManager) -> None:
    """With a zero window, each check runs once per key before anything is deleted."""
    runs: list[str] = []
    report = make_manager(checks=[lambda key: runs.append(key.key_id) or True]).remove_all(
        observe_for=timedelta(0)
    )
    assert report.outcome is RunOutcome.DONE
    assert len(runs) == 2


def test_hooks_see_every_step_in_order(
    manager: rootkeys.RootKeyManager, recorder: Recorder
) -> None:
    """The event stream of a clean run, from key found to verified."""
    manager.remove_all(observe_for=timedelta(0))
    kinds = recorder.kinds()
    assert kinds[:4] == [EventKind.RECONCILED] * 2 + [EventKind.KEY_FOUND] * 2  # first seen
    assert kinds.index(EventKind.DEACTIVATED) < kinds.index(EventKind.OBSERVING)
    assert kinds.index(EventKind.OBSERVING) < kinds.index(EventKind.DELETED)
    assert kinds[-2:] == [EventKind.VERIFIED, EventKind.ACCOUNT_FINISHED]  # once, at the end
    assert all(e.account_id == "111122223333" for e in recorder.events)


@pytest.mark.parametrize("attempts", [1, 3])
def test_botocore_does_not_retry_on_its_own(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    attempts: int,
) -> None:
    """With N attempts allowed, AWS sees exactly N calls: the two retry layers never multiply."""
    sandbox.inject_throttling(operation="UpdateAccessKey", times=None)
    manager = make_manager(retry=rootkeys.RetryPolicy(attempts=attempts))
    with pytest.raises(rootkeys.errors.ThrottledError):
        manager.deactivate(account.root_key_ids[0])
    assert [c.operation for c in sandbox.calls].count("UpdateAccessKey") == attempts


def test_interrupted_window_deletes_nothing_and_the_next_run_goes_on(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    clock: FakeClock,
) -> None:
    """Ctrl-C mid-window propagates, deletes nothing, and leaves the keys unusable with
    their windows remembered: the next run finishes them, at the same window end."""
    calls = 0

    def impatient(key: rootkeys.AccessKey) -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return True

    start = clock.now()
    with pytest.raises(KeyboardInterrupt):
        make_manager(checks=[impatient]).remove_all(observe_for=DAY)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.INACTIVE}
    assert not any(c.operation == "DeleteAccessKey" for c in sandbox.calls)
    manager = make_manager()
    assert {k.until for k in manager.status().keys} == {start + DAY}
    report = manager.remove_all(observe_for=DAY)
    assert sorted(report.deleted) == sorted(account.root_key_ids)
    assert clock.now() == start + DAY


def test_rollback_makes_the_keys_usable_again_and_holds_them(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """rollback() reactivates what rootkeys deactivated and holds it; resume() starts over."""
    manager = make_manager()
    manager.remove_all(observe_for=DAY, wait=False)
    results = manager.rollback()
    assert {r.key_id for r in results} == set(account.root_key_ids)
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}
    plan = manager.plan(DAY, evidence=False, preflight=False)
    assert plan.removable == ()
    assert {k.next for k in plan.keys} == {rootkeys.Next.ON_HOLD}
    assert all(k.resume and "resume" in k.resume for k in plan.keys)
    assert set(manager.resume()) == set(account.root_key_ids)
    assert {k.next for k in manager.plan(DAY, evidence=False).keys} == {rootkeys.Next.MAKE_UNUSABLE}


def test_plan_and_report_render_as_html_for_notebooks(make_manager: MakeManager) -> None:
    """Plan and report have HTML tables; text from checks is escaped, not injected."""

    def nasty(key: rootkeys.AccessKey) -> rootkeys.CheckResult:
        return rootkeys.CheckResult(False, "<script>alert(1)</script>")

    manager = make_manager(checks=[nasty])
    plan = manager.plan(evidence=False)
    html = plan._repr_html_()
    assert html.count("<tr>") == 1 + len(plan.keys)
    assert "WARNING: no other administrator found" in html
    report = manager.remove_all(observe_for=DAY)
    html = report._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert report.table().splitlines()[0] in html


def test_a_change_made_but_not_readable_is_unverified_and_recorded(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """IAM took the change, then reading it back kept failing: the step is unverified (with
    its outcome in the journal), not an error that leaves the intent open."""
    key = account.root_key_ids[0]
    manager = make_manager(retry=rootkeys.RetryPolicy(attempts=2))
    sandbox.before(
        "UpdateAccessKey",
        lambda: sandbox.inject_throttling(operation="ListAccessKeys", times=None),
    )
    result = manager.deactivate(key)
    assert result.step.status is rootkeys.reports.StepStatus.UNVERIFIED
    assert "could not be read back" in result.step.detail
    sandbox.clear_faults()
    records = manager.history(key).records
    assert records[-1].kind is rootkeys.journal.RecordKind.OUTCOME
    assert records[-1].status is rootkeys.reports.StepStatus.UNVERIFIED
