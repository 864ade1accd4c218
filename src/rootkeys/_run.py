"""One removal run in one account: make unusable, observe, then delete or roll back.

A `RemovalRun` is made per `RootKeyManager.remove_all` call and holds everything that
run learns, so the manager itself keeps no per-run state. With a journal, a run starts
from what earlier runs recorded: a key's window started when the journal says it did,
and a key rootkeys deactivated days ago is still rootkeys' to roll back.

``wait=True`` observes until every key's window has passed, then deletes. ``wait=False``
runs the checks once, deletes the keys whose windows have passed, and reports the rest
as observing: run it again later (say, daily) and it converges.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._errors import IllegalTransitionError, RootKeysError
from rootkeys._journal import RecordKind
from rootkeys._memory import KeyMemory, reconcile, replay
from rootkeys._models import AccessKey, Action, KeyState, ObservedKey, Step, StepStatus
from rootkeys._observe import EventKind, Observation, watch
from rootkeys._reports import KeyOutcome, KeyReport, Plan, RemovalReport, RunOutcome
from rootkeys._steps import state_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from rootkeys._clock import Clock
    from rootkeys._journal import Journal
    from rootkeys._observe import Check, Emitter
    from rootkeys._steps import KeyGateway, Stepper

__all__ = ["RemovalRun", "new_run_id", "reconciled"]

log = logging.getLogger("rootkeys")


def new_run_id() -> str:
    """A short id naming one run (or one explicit step) in reports and the journal."""
    return uuid.uuid4().hex[:12]


@contextlib.contextmanager
def reconciled(
    journal: Journal | None,
    account_id: str,
    read_states: Callable[[], Mapping[str, KeyState]],
    *,
    clock: Clock,
    emit: Emitter,
    run_id: str,
) -> Iterator[dict[str, KeyMemory]]:
    """Hold the account's journal lock, and bring the journal in line with AWS first.

    Yields what the journal knows of each key once reconciled (nothing without a journal).
    """
    if journal is None:
        yield {}
        return
    with journal.lock(account_id):
        records = journal.records(account_id)
        found = reconcile(account_id, replay(records), read_states(), clock.now(), run_id)
        for record in found:
            journal.append(**record.model_dump(exclude={"seq"}))
            emit(
                EventKind.RECONCILED,
                key_id=record.key_id,
                message=f"{record.kind.value}: {record.detail}",
            )
        yield replay([*records, *found])


@dataclass
class _KeyRun:
    """What this run has done to one key so far (the report's working copy)."""

    key: AccessKey
    memory: KeyMemory
    steps: list[Step] = field(default_factory=list)
    outcome: KeyOutcome | None = None
    reason: str = ""
    state: KeyState | None = None
    window_start: datetime | None = None
    observing_until: datetime | None = None
    window: timedelta | None = None

    def end(self, outcome: KeyOutcome, state: KeyState | None, reason: str) -> None:
        self.outcome, self.state, self.reason = outcome, state, reason

    @property
    def deactivated_now(self) -> bool:
        """Whether this run itself deactivated the key."""
        return any(
            s.action in (Action.DEACTIVATE, Action.QUARANTINE) and s.status is not StepStatus.FAILED
            for s in self.steps
        )

    @property
    def ours_to_roll_back(self) -> bool:
        """Whether rootkeys made this key unusable (in this run or an earlier one)."""
        return self.memory.deactivated_by_rootkeys

    def report(self) -> KeyReport:
        return KeyReport(
            key_id=self.key.key_id,
            initial_status=self.key.status,
            final_state=self.state,
            outcome=self.outcome or KeyOutcome.FAILED,
            reason=self.reason,
            steps=tuple(self.steps),
            observing_until=self.observing_until,
            window=self.window,
        )


class RemovalRun:
    """Takes every removable key of a plan as far through the lifecycle as is safe now."""

    def __init__(
        self,
        plan: Plan,
        *,
        gateway: KeyGateway,
        stepper: Stepper,
        emit: Emitter,
        clock: Clock,
        checks: Sequence[Check],
        interval: timedelta,
        wait: bool,
        journal: Journal | None,
        memory: Mapping[str, KeyMemory],
        run_id: str,
        unusable: KeyState = KeyState.INACTIVE,
    ) -> None:
        self._plan = plan
        self._gateway = gateway
        self._stepper = stepper
        self._emit = emit
        self._clock = clock
        self._checks = checks
        self._windows = {pk.key.key_id: pk.window or timedelta(0) for pk in plan.keys}
        self._window = max(self._windows.values(), default=timedelta(0))
        self._interval = interval
        self._wait = wait
        self._journal = journal
        self._keys = {
            pk.key.key_id: _KeyRun(
                pk.key, memory.get(pk.key.key_id) or KeyMemory(pk.key.key_id), window=pk.window
            )
            for pk in plan.keys
        }
        self.run_id = run_id
        self._unusable = unusable

    def execute(self) -> RemovalReport:
        """Run it: deactivate, observe, then delete (or roll back); report."""
        started = self._clock.now()
        hook_errors_before = len(self._emit.errors)
        for pk in self._plan.keys:
            message = f"{pk.key.status.value}; plan: {pk.action.value}"
            self._emit(EventKind.KEY_FOUND, key_id=pk.key.key_id, message=message)
        for pk in self._plan.blocked:
            self._block(self._keys[pk.key.key_id], pk.reason)

        observed = self._make_unusable(started)
        observation: Observation | None = None
        if observed:
            ends = [
                (self._keys[k.key_id].window_start or started) + self._windows[k.key_id]
                for k in observed
            ]
            until = max(ends) if self._wait else self._clock.now()
            try:
                observation = watch(
                    observed,
                    checks=self._checks,
                    until=until,
                    interval=self._interval,
                    clock=self._clock,
                    read_states=self._gateway.key_states,
                    emit=self._emit,
                )
            except BaseException:  # Ctrl-C in a notebook, SystemExit: undo, then re-raise
                log.warning("window interrupted: reactivating what rootkeys deactivated")
                self._roll_back(
                    None, why="the observation window was interrupted", interrupted=True
                )
                raise
            for key_id in observation.gone:
                self._keys[key_id].end(
                    KeyOutcome.DELETED,
                    KeyState.DELETED,
                    "deleted outside rootkeys during the window",
                )
                self._record(
                    key_id,
                    RecordKind.GONE,
                    to_state=KeyState.DELETED,
                    detail="deleted outside rootkeys during the window",
                )
            if observation.passed:
                self._advance(observed, observation)
            else:
                self._roll_back(observation)
        return self._report(started, observation, self._emit.errors[hook_errors_before:])

    def _record(self, key_id: str, kind: RecordKind, **fields: Any) -> None:
        if self._journal is not None:
            self._journal.append(
                account_id=self._plan.account_id,
                key_id=key_id,
                run_id=self.run_id,
                kind=kind,
                at=self._clock.now(),
                **fields,
            )

    def _block(self, run: _KeyRun, reason: str) -> None:
        run.end(KeyOutcome.BLOCKED, run.key.state, reason)
        self._emit(EventKind.BLOCKED, key_id=run.key.key_id, message=reason)

    def _observed(self, key: AccessKey, state: KeyState, start: datetime) -> ObservedKey:
        return ObservedKey(
            **key.model_dump(), account_id=self._plan.account_id, window_started_at=start
        ).model_copy(
            update={"status": state.iam_status, "quarantined": state is KeyState.QUARANTINED}
        )

    def _make_unusable(self, started: datetime) -> list[AccessKey]:
        """Make each removable Active key unusable; return the keys to observe."""
        observed: list[AccessKey] = []
        for pk in self._plan.removable:
            run = self._keys[pk.key.key_id]
            if pk.key.state is not KeyState.ACTIVE and run.memory.rollback_pending:
                self._finish_rollback(run, pk.key.state)
                continue
            if pk.key.state is not KeyState.ACTIVE:
                run.state = pk.key.state
                run.window_start = run.memory.window_start or started
                observed.append(self._observed(pk.key, pk.key.state, run.window_start))
                continue
            if run.memory.hold:
                self._block(run, f"on hold: {run.memory.hold}")
                continue
            try:
                step = self._stepper.change(
                    pk.key.key_id, KeyState.ACTIVE, self._unusable, run.steps, run_id=self.run_id
                )
            except RootKeysError as exc:
                what = "quarantine" if self._unusable is KeyState.QUARANTINED else "deactivation"
                run.end(KeyOutcome.FAILED, None, f"{what} failed, key left as it was: {exc}")
                continue
            run.memory.deactivated_by_rootkeys = True
            if step.status is StepStatus.UNVERIFIED:
                run.end(KeyOutcome.UNVERIFIED, None, f"{step.detail}; not observed, not deleted")
                continue
            run.state = self._unusable
            run.window_start = step.finished_at or started
            observed.append(self._observed(pk.key, self._unusable, run.window_start))
        return observed

    def _finish_rollback(self, run: _KeyRun, current: KeyState) -> None:
        """An earlier run's rollback did not finish (AWS failed it, or it crashed): finish it.

        The key was made unusable by rootkeys and a check failed: it goes back to Active,
        never on to deletion.
        """
        why = f"finishing an earlier rollback ({run.memory.hold})"
        failed = f"{why} failed again, key left {current}"
        self._reactivate(run, current, why, failed=failed, left=current)

    def _reactivate(
        self, run: _KeyRun, current: KeyState, why: str, *, failed: str, left: KeyState | None
    ) -> None:
        """Make the key usable again: rolled back, or failed (``failed``, state ``left``)."""
        try:
            step = self._stepper.change(
                run.key.key_id, current, KeyState.ACTIVE, run.steps, run_id=self.run_id
            )
        except RootKeysError as exc:
            run.end(KeyOutcome.FAILED, left, f"{failed}: {exc}")
            return
        if step.status is StepStatus.UNVERIFIED:
            run.end(KeyOutcome.ROLLED_BACK, None, f"{why}; {step.detail}")
        else:
            run.end(KeyOutcome.ROLLED_BACK, KeyState.ACTIVE, why)

    def _advance(self, observed: list[AccessKey], observation: Observation) -> None:
        """After clean checks: delete each key whose window has passed; the rest observe on."""
        states = self._gateway.key_states()
        now = self._clock.now()
        for key in observed:
            run = self._keys[key.key_id]
            if run.outcome is not None:  # gone during the window
                continue
            self._record(
                key.key_id,
                RecordKind.CHECKS_PASSED,
                detail=f"{_checks(observation.checks_run)} passed",
            )
            ends = (run.window_start or observation.started_at) + self._windows[key.key_id]
            if ends > now:
                run.observing_until = ends
                run.end(
                    KeyOutcome.OBSERVING,
                    run.state,
                    f"unusable, checks passing; observing until {ends:%Y-%m-%d %H:%M} UTC",
                )
                continue
            self._delete(run, state_of(states, key.key_id), observation)

    def _delete(self, run: _KeyRun, current: KeyState, observation: Observation) -> None:
        key_id = run.key.key_id
        try:
            step = self._stepper.change(
                key_id, current, KeyState.DELETED, run.steps, run_id=self.run_id
            )
        except IllegalTransitionError as exc:
            run.end(KeyOutcome.KEPT, current, str(exc))
            return
        except RootKeysError as exc:
            run.end(KeyOutcome.FAILED, current, f"deletion failed, key left {current}: {exc}")
            return
        if step.status is StepStatus.UNVERIFIED:
            run.end(KeyOutcome.UNVERIFIED, None, step.detail)
        elif current is KeyState.DELETED:
            run.end(KeyOutcome.DELETED, KeyState.DELETED, "deleted outside rootkeys")
        else:
            reason = f"unusable for the whole window ({_checks(observation.checks_run)} passed)"
            run.end(KeyOutcome.DELETED, KeyState.DELETED, reason)

    def _roll_back(
        self,
        observation: Observation | None,
        why: str = "window failed",
        *,
        interrupted: bool = False,
    ) -> None:
        """After a failed window: reactivate every key rootkeys deactivated; delete nothing.

        Each rolled-back key is put on hold: rootkeys will not deactivate it again on its
        own, so a daily run cannot break the same thing every day. An interrupted run
        only undoes what it did itself: keys made unusable by earlier runs stay so, their
        windows running on.
        """
        failure = observation.failure if observation else None
        if failure is not None:
            why = f"check {failure.check!r} failed: {failure.reason}"
        pending = [
            run
            for run in self._keys.values()
            if run.outcome in (None, KeyOutcome.UNVERIFIED, KeyOutcome.OBSERVING)
        ]
        voided = [run for run in pending if not (interrupted and not run.deactivated_now)]
        for run in voided:  # recorded first: a failing read below must not lose the failure
            self._record(run.key.key_id, RecordKind.WINDOW_FAILED, detail=why)
        try:
            states = self._gateway.key_states()
        except RootKeysError as exc:
            for run in pending:
                run.end(KeyOutcome.FAILED, None, f"{why}; rollback could not read keys: {exc}")
            return
        for run in pending:
            current = state_of(states, run.key.key_id)
            if run not in voided:
                run.end(KeyOutcome.KEPT, current, f"{why}; left {current.value}, window running")
                continue
            if not run.ours_to_roll_back:
                run.end(KeyOutcome.KEPT, current, f"{why}; not deleted, left {current.value}")
                continue
            failed = f"{why}; rollback failed, key may be left {current}"
            self._reactivate(run, current, why, failed=failed, left=None)

    def _report(
        self, started: datetime, observation: Observation | None, hook_errors: list[str]
    ) -> RemovalReport:
        keys = tuple(run.report() for run in self._keys.values())
        outcomes = {k.outcome for k in keys}
        try:
            present: bool | None = self._stepper.await_keys_present(
                expected=any(k.final_state is not KeyState.DELETED for k in keys)
            )
        except RootKeysError as exc:
            log.warning("could not read AccountAccessKeysPresent: %s", exc)
            present = None
        rolled_back = (observation is not None and not observation.passed) or (
            KeyOutcome.ROLLED_BACK in outcomes
        )
        if rolled_back and KeyOutcome.FAILED in outcomes:
            outcome = RunOutcome.INCOMPLETE  # a rollback did not go through: say so
        elif rolled_back:
            outcome = RunOutcome.ROLLED_BACK
        elif not keys:
            outcome = RunOutcome.NOTHING_TO_DO
        elif outcomes & {KeyOutcome.FAILED, KeyOutcome.UNVERIFIED, KeyOutcome.KEPT}:
            outcome = RunOutcome.INCOMPLETE
        elif KeyOutcome.OBSERVING in outcomes:
            outcome = RunOutcome.OBSERVING
        elif KeyOutcome.BLOCKED in outcomes:
            outcome = RunOutcome.BLOCKED
        else:
            outcome = RunOutcome.DONE if present is False else RunOutcome.INCOMPLETE
        shown = "unknown" if present is None else str(int(present))
        self._emit(
            EventKind.VERIFIED if present is False else EventKind.NOT_VERIFIED,
            message=f"run {outcome.value}; AccountAccessKeysPresent={shown}",
        )
        return RemovalReport(
            run_id=self.run_id,
            account_id=self._plan.account_id,
            started_at=started,
            finished_at=self._clock.now(),
            observe_for=self._window,
            outcome=outcome,
            keys=keys,
            check_failure=observation.failure if observation else None,
            checks_run=observation.checks_run if observation else 0,
            keys_present=present,
            hook_errors=tuple(hook_errors),
        )


def _checks(count: int) -> str:
    return f"{count} check" + ("" if count == 1 else "s")
