"""One pass over one account: act on each key's decision, check once, delete or roll back.

A pass is what every run is made of, for one account and for each member account of an
organization alike: under the account's journal lock, with the journal reconciled, it
takes each key one step as `rootkeys._decide.decide` said (make unusable, finish a
rollback, record its window), runs every check once over the unusable keys, and then
deletes the keys whose window is over, or, if a check failed, makes usable again every
key rootkeys made unusable and puts them on hold. Waiting is the driver's: a blocking
run is passes one check interval apart, the lock released in between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rootkeys._change import state_of
from rootkeys._decide import Decision, Next
from rootkeys._errors import IllegalTransitionError, RootKeysError
from rootkeys._kinds import PRESENT
from rootkeys._models import AccessKey, CredentialKind, KeyState, ObservedKey, Step, StepStatus
from rootkeys._observe import EventKind, Observation, check_name, check_once
from rootkeys._reconcile import KeyMemory
from rootkeys._records import RecordKind
from rootkeys._render import stamp
from rootkeys._reports import KeyOutcome, KeyReport, RemovalReport, RunOutcome

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import timedelta

    from rootkeys._change import KeyGateway, Stepper
    from rootkeys._clock import Clock
    from rootkeys._journal import Journal
    from rootkeys._observe import Check, Emitter

__all__ = ["AccountPass"]

log = logging.getLogger("rootkeys")


@dataclass
class _Key:
    """What this pass has done to one key so far (the report's working copy)."""

    key: AccessKey
    decision: Decision
    memory: KeyMemory | None = None
    steps: list[Step] = field(default_factory=list)
    outcome: KeyOutcome | None = None
    reason: str = ""
    state: KeyState | None = None
    since: datetime | None = None
    until: datetime | None = None

    def end(self, outcome: KeyOutcome, state: KeyState | None, reason: str) -> None:
        self.outcome, self.state, self.reason = outcome, state, reason

    @property
    def ours(self) -> bool:
        """Whether rootkeys made this key unusable (in this pass or an earlier one)."""
        made_now = any(
            s.action.makes_unusable and s.status is not StepStatus.FAILED for s in self.steps
        )
        return made_now or (self.memory is not None and self.memory.deactivated_by_rootkeys)

    def report(self) -> KeyReport:
        return KeyReport(
            key_id=self.key.key_id,
            initial_status=self.key.status,
            final_state=self.state,
            outcome=self.outcome or KeyOutcome.FAILED,
            reason=self.reason,
            steps=tuple(self.steps),
            decision=self.decision.next,
            observing_until=self.until if self.outcome is KeyOutcome.OBSERVING else None,
            window=self.decision.window,
        )


class AccountPass:
    """One pass over one account's keys, acting on their decisions."""

    def __init__(
        self,
        *,
        account_id: str,
        gateway: KeyGateway,
        stepper: Stepper,
        emit: Emitter,
        clock: Clock,
        checks: Sequence[Check],
        journal: Journal,
        run_id: str,
        unusable: KeyState,
        window: timedelta,
    ) -> None:
        self._account_id = account_id
        self._gateway = gateway
        self._stepper = stepper
        self._emit = emit
        self._clock = clock
        self._checks = checks
        self._journal = journal
        self.run_id = run_id
        self._unusable = unusable
        self._window = window
        self._unverified: list[_Key] = []
        """Keys whose change to unusable may have landed unseen: a rollback covers them."""

    def run(
        self,
        keys: Sequence[AccessKey],
        decisions: Mapping[str, Decision],
        memory: Mapping[str, KeyMemory],
    ) -> RemovalReport:
        """Take every key one step as decided; check; delete or roll back; report."""
        started = self._clock.now()
        hook_errors_before = len(self._emit.errors)
        runs = {
            k.key_id: _Key(k, decisions[k.key_id], memory.get(k.key_id))
            for k in keys
            if k.key_id in decisions
        }
        for run in runs.values():
            d = run.decision
            message = f"{run.key.state.value}; next: {d.next.value}"
            until = d.until if d.next in (Next.OBSERVE, Next.DELETE) else None
            self._emit(
                EventKind.KEY_FOUND,
                key_id=run.key.key_id,
                message=message,
                next=d.next,
                until=until,
            )
        observed: list[_Key] = []
        for run in runs.values():
            self._step(run, observed)
        observation: Observation | None = None
        if observed:
            observation = self._check(observed)
        return self._report(started, list(runs.values()), observation, hook_errors_before)

    # -- one key's step ------------------------------------------------------------------------

    def _step(self, run: _Key, observed: list[_Key]) -> None:
        d = run.decision
        if d.next in _UNTOUCHED:
            run.end(_UNTOUCHED[d.next], run.key.state, d.reason)
            message = f"{d.next.value}: {d.reason}"
            if d.resume:
                message += f" (to resume: {d.resume})"
            self._emit(EventKind.BLOCKED, key_id=run.key.key_id, message=message, next=d.next)
        elif d.next is Next.ROLL_BACK:
            self._finish_rollback(run)
        elif d.next is Next.MAKE_UNUSABLE:
            self._make_unusable(run, observed)
        elif d.next in (Next.OBSERVE, Next.DELETE):
            self._remember_window(run)
            run.state, run.since, run.until = d.state, d.since, d.until
            observed.append(run)

    def _make_unusable(self, run: _Key, observed: list[_Key]) -> None:
        try:
            step = self._stepper.change(
                run.key.key_id,
                KeyState.ACTIVE,
                self._unusable,
                run.steps,
                run_id=self.run_id,
                window=run.decision.window,
            )
        except RootKeysError as exc:
            what = "quarantine" if self._unusable is KeyState.QUARANTINED else "deactivation"
            run.end(KeyOutcome.FAILED, None, f"{what} failed, key left as it was: {exc}")
            return
        if step.status is StepStatus.UNVERIFIED:
            run.end(KeyOutcome.UNVERIFIED, None, f"{step.detail}; not observed, not deleted")
            self._unverified.append(run)
            return
        run.state = self._unusable
        run.since = step.finished_at or self._clock.now()
        window = run.decision.window
        run.until = run.since + window if window is not None else None
        self._remember_window(run)
        observed.append(run)

    def _remember_window(self, run: _Key) -> None:
        """Journal the key's window when it is new or longer than the one remembered."""
        window = run.decision.window
        known = run.memory.window if run.memory is not None else None
        if window is not None and (known is None or window > known):
            self._record(
                run.key.key_id, RecordKind.WINDOW, window=window, detail=run.decision.window_reason
            )

    def _finish_rollback(self, run: _Key) -> None:
        """A check failed earlier and the key is still unusable: make it usable again.

        A key rolled back with another (the account-wide quarantine) is recorded as failed
        first, so it is held like the key whose check failed.
        """
        held = run.memory is not None and run.memory.hold is not None
        if not held:
            self._record(run.key.key_id, RecordKind.WINDOW_FAILED, detail=run.decision.reason)
        current = run.decision.state
        why = f"finishing a rollback ({run.decision.reason})"
        self._reactivate(
            run, current, why, failed=f"{why} failed, key left {current}", left=current
        )

    def _reactivate(
        self, run: _Key, current: KeyState, why: str, *, failed: str, left: KeyState | None
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

    # -- the checks, then delete or roll back ----------------------------------------------------

    def _check(self, observed: list[_Key]) -> Observation:
        ends = [run.until for run in observed if run.until is not None]
        observation = check_once(
            [self._observed(run) for run in observed],
            checks=self._checks,
            until=max(ends, default=None),
            clock=self._clock,
            read_states=self._gateway.key_states,
            emit=self._emit,
        )
        by_id = {run.key.key_id: run for run in observed}
        for key_id in observation.gone:
            reason = "deleted outside rootkeys during the window"
            by_id[key_id].end(KeyOutcome.DELETED, KeyState.DELETED, reason)
            self._record(key_id, RecordKind.GONE, to_state=KeyState.DELETED, detail=reason)
        if observation.passed:
            self._advance(observed)
        else:
            self._roll_back(observed, observation)
        return observation

    def _observed(self, run: _Key) -> ObservedKey:
        state = run.state or run.key.state
        return ObservedKey(
            **run.key.model_dump(),
            account_id=self._account_id,
            window_started_at=run.since or self._clock.now(),
        ).model_copy(
            update={"status": state.iam_status, "quarantined": state is KeyState.QUARANTINED}
        )

    def _advance(self, observed: list[_Key]) -> None:
        """After clean checks: delete each key whose window is over; the rest observe on."""
        pending = [run for run in observed if run.outcome is None]
        states: Mapping[str, KeyState] = {}
        if any(run.decision.deletes_now for run in pending):
            states = self._gateway.key_states()
        for run in pending:
            self._record(
                run.key.key_id,
                RecordKind.CHECKS_PASSED,
                detail=self._passed(),
            )
            if not run.decision.deletes_now:
                until = f" until {stamp(run.until)}" if run.until else ""
                passing = "checks passing" if self._checks else "no checks configured"
                run.end(KeyOutcome.OBSERVING, run.state, f"unusable, {passing}; observing{until}")
                continue
            self._delete(run, state_of(states, run.key.key_id))

    def _delete(self, run: _Key, current: KeyState) -> None:
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
            reason = "unusable for the whole window, " + (
                "every check passing" if self._checks else "no checks configured"
            )
            run.end(KeyOutcome.DELETED, KeyState.DELETED, reason)

    def _passed(self) -> str:
        """A checks-passed record's detail: which of the caller's checks passed for a key."""
        names = list(dict.fromkeys(check_name(c) for c in self._checks))
        if not names:
            return "still unusable; no checks configured"
        return f"{len(names)} check{'' if len(names) == 1 else 's'} passed: {', '.join(names)}"

    def _roll_back(self, observed: list[_Key], observation: Observation) -> None:
        """After a failed check: make usable again every key rootkeys made unusable.

        Each is put on hold (a ``window failed`` record, written before anything is read,
        so a failing read cannot lose the failure): no run makes it unusable again until
        a person resumes it, so a daily run cannot break the same thing every day.
        """
        failure = observation.failure
        why = f"check {failure.check!r} failed: {failure.reason}" if failure else "window failed"
        # a change to unusable this pass could not confirm may have landed (in a member
        # account, the quarantine makes every Active credential unusable): undo it too
        pending = [run for run in observed if run.outcome is None] + self._unverified
        for run in pending:
            self._record(run.key.key_id, RecordKind.WINDOW_FAILED, detail=why)
        try:
            states = self._gateway.key_states()
        except RootKeysError as exc:
            for run in pending:
                run.end(KeyOutcome.FAILED, None, f"{why}; rollback could not read keys: {exc}")
            return
        for run in pending:
            current = state_of(states, run.key.key_id)
            if not run.ours:
                run.end(KeyOutcome.KEPT, current, f"{why}; not deleted, left {current.value}")
                continue
            failed = f"{why}; rollback failed, key may be left {current}"
            self._reactivate(run, current, why, failed=failed, left=None)

    # -- the report ------------------------------------------------------------------------------

    def _record(self, key_id: str, kind: RecordKind, **fields: Any) -> None:
        self._journal.append(
            account_id=self._account_id,
            key_id=key_id,
            run_id=self.run_id,
            kind=kind,
            at=self._clock.now(),
            **fields,
        )

    def _report(
        self,
        started: datetime,
        runs: list[_Key],
        observation: Observation | None,
        hook_errors_before: int,
    ) -> RemovalReport:
        keys = tuple(run.report() for run in runs)
        outcomes = {k.outcome for k in keys}
        remaining = any(k.final_state is not KeyState.DELETED for k in keys)
        try:
            present: bool | None = self._stepper.await_keys_present(expected=remaining)
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
        elif KeyOutcome.ON_HOLD in outcomes:
            outcome = RunOutcome.ON_HOLD
        elif outcomes & {KeyOutcome.BLOCKED, KeyOutcome.PROTECTED}:
            outcome = RunOutcome.BLOCKED
        else:
            outcome = RunOutcome.DONE if present is False else RunOutcome.INCOMPLETE
        shown = "unknown" if present is None else str(int(present))
        if present is False or outcome in (RunOutcome.DONE, RunOutcome.INCOMPLETE):
            # keys left while observing, held or blocked are expected: nothing to alarm on
            self._emit(
                EventKind.VERIFIED if present is False else EventKind.NOT_VERIFIED,
                message=f"pass {outcome.value}; {_present_field(self._gateway)}={shown}",
            )
        windows = [run.decision.window for run in runs if run.decision.window is not None]
        return RemovalReport(
            run_id=self.run_id,
            account_id=self._account_id,
            started_at=started,
            finished_at=self._clock.now(),
            observe_for=max(windows, default=self._window),
            outcome=outcome,
            keys=keys,
            check_failure=observation.failure if observation else None,
            checks_run=observation.checks_run if observation else 0,
            keys_present=present,
            present_fields=_present_field(self._gateway),
            hook_errors=tuple(self._emit.errors[hook_errors_before:]),
        )


def _present_field(gateway: KeyGateway) -> str:
    """What a pass confirms: the account summary's field per kind (the password: its profile)."""
    return "/".join(PRESENT.get(k, "LoginProfile") for k in CredentialKind if k in gateway.kinds)


_UNTOUCHED = {
    Next.PROTECTED: KeyOutcome.PROTECTED,
    Next.ON_HOLD: KeyOutcome.ON_HOLD,
    Next.BLOCKED: KeyOutcome.BLOCKED,
}
