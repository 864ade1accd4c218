"""One removal run in one account: make unusable, observe, then delete or roll back.

A `RemovalRun` is made per `RootKeyManager.remove_all` call and holds everything that
run learns, so the manager itself keeps no per-run state.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rootkeys._errors import IllegalTransitionError, RootKeysError
from rootkeys._models import (
    AccessKey,
    KeyOutcome,
    KeyReport,
    KeyState,
    KeyStatus,
    Plan,
    RemovalReport,
    RunOutcome,
    Step,
    StepStatus,
)
from rootkeys._observe import EventKind, Observation, watch
from rootkeys._steps import state_of

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from rootkeys._clock import Clock
    from rootkeys._iam import IamGateway
    from rootkeys._observe import Check, Emitter
    from rootkeys._steps import Stepper

__all__ = ["RemovalRun"]

log = logging.getLogger("rootkeys")


@dataclass
class _KeyRun:
    """What this run has done to one key so far (the report's working copy)."""

    key: AccessKey
    steps: list[Step] = field(default_factory=list)
    outcome: KeyOutcome | None = None
    reason: str = ""
    state: KeyState | None = None
    deactivated: bool = False

    def end(self, outcome: KeyOutcome, state: KeyState | None, reason: str) -> None:
        self.outcome, self.state, self.reason = outcome, state, reason

    def report(self) -> KeyReport:
        return KeyReport(
            key_id=self.key.key_id,
            initial_status=self.key.status,
            final_state=self.state,
            outcome=self.outcome or KeyOutcome.FAILED,
            reason=self.reason,
            steps=tuple(self.steps),
        )


class RemovalRun:
    """Takes every removable key of a plan through the lifecycle, once."""

    def __init__(
        self,
        plan: Plan,
        *,
        gateway: IamGateway,
        stepper: Stepper,
        emit: Emitter,
        clock: Clock,
        checks: Sequence[Check],
        window: timedelta,
        interval: timedelta,
    ) -> None:
        self._plan = plan
        self._gateway = gateway
        self._stepper = stepper
        self._emit = emit
        self._clock = clock
        self._checks = checks
        self._window = window
        self._interval = interval
        self._keys = {pk.key.key_id: _KeyRun(pk.key) for pk in plan.keys}
        self.run_id = uuid.uuid4().hex[:12]

    def execute(self) -> RemovalReport:
        """Run it: deactivate, observe, then delete (or roll back); report."""
        started = self._clock.now()
        hook_errors_before = len(self._emit.errors)
        for pk in self._plan.keys:
            message = f"{pk.key.status.value}; plan: {pk.action.value}"
            self._emit(EventKind.KEY_FOUND, key_id=pk.key.key_id, message=message)
        for pk in self._plan.blocked:
            self._keys[pk.key.key_id].end(KeyOutcome.BLOCKED, pk.key.state, pk.reason)
            self._emit(EventKind.BLOCKED, key_id=pk.key.key_id, message=pk.reason)

        observed = self._make_unusable()
        observation: Observation | None = None
        if observed:
            try:
                observation = watch(
                    observed,
                    checks=self._checks,
                    window=self._window,
                    interval=self._interval,
                    clock=self._clock,
                    read_statuses=self._gateway.key_statuses,
                    emit=self._emit,
                )
            except BaseException:  # Ctrl-C in a notebook, SystemExit: undo, then re-raise
                log.warning("window interrupted: reactivating what this run deactivated")
                self._roll_back(None, why="the observation window was interrupted")
                raise
            for key_id in observation.gone:
                self._keys[key_id].end(
                    KeyOutcome.DELETED,
                    KeyState.DELETED,
                    "deleted outside this run during the window",
                )
            if observation.passed:
                self._delete(observed, observation)
            else:
                self._roll_back(observation)
        return self._report(started, observation, self._emit.errors[hook_errors_before:])

    def _make_unusable(self) -> list[AccessKey]:
        """Deactivate each removable Active key; return the keys to observe."""
        observed: list[AccessKey] = []
        for pk in self._plan.removable:
            run = self._keys[pk.key.key_id]
            if pk.key.status is not KeyStatus.ACTIVE:
                run.state = pk.key.state
                observed.append(pk.key)
                continue
            try:
                step = self._stepper.change(
                    pk.key.key_id, KeyState.ACTIVE, KeyState.INACTIVE, run.steps
                )
            except RootKeysError as exc:
                run.end(KeyOutcome.FAILED, None, f"deactivation failed, key left as it was: {exc}")
                continue
            run.deactivated = True
            if step.status is StepStatus.UNVERIFIED:
                run.end(KeyOutcome.UNVERIFIED, None, f"{step.detail}; not observed, not deleted")
                continue
            run.state = KeyState.INACTIVE
            observed.append(pk.key.model_copy(update={"status": KeyStatus.INACTIVE}))
        return observed

    def _delete(self, observed: list[AccessKey], observation: Observation) -> None:
        """After a clean window: delete each observed key, from a fresh read of its state."""
        statuses = self._gateway.key_statuses()
        for key in observed:
            run = self._keys[key.key_id]
            if run.outcome is not None:  # gone during the window
                continue
            current = state_of(statuses, key.key_id)
            try:
                step = self._stepper.change(key.key_id, current, KeyState.DELETED, run.steps)
            except IllegalTransitionError as exc:
                run.end(KeyOutcome.KEPT, current, str(exc))
                continue
            except RootKeysError as exc:
                run.end(KeyOutcome.FAILED, current, f"deletion failed, key left {current}: {exc}")
                continue
            if step.status is StepStatus.UNVERIFIED:
                run.end(KeyOutcome.UNVERIFIED, None, step.detail)
            elif current is KeyState.DELETED:
                run.end(KeyOutcome.DELETED, KeyState.DELETED, "deleted outside this run")
            else:
                reason = f"unusable for the whole window ({observation.checks_run} checks passed)"
                run.end(KeyOutcome.DELETED, KeyState.DELETED, reason)

    def _roll_back(self, observation: Observation | None, why: str = "window failed") -> None:
        """After a failed window: reactivate every key this run deactivated; delete nothing."""
        failure = observation.failure if observation else None
        if failure is not None:
            why = f"check {failure.check!r} failed: {failure.reason}"
        statuses = self._gateway.key_statuses()
        for run in self._keys.values():
            if run.outcome not in (None, KeyOutcome.UNVERIFIED):
                continue
            current = state_of(statuses, run.key.key_id)
            if not run.deactivated:
                run.end(KeyOutcome.KEPT, current, f"{why}; not deleted, left {current.value}")
                continue
            try:
                step = self._stepper.change(run.key.key_id, current, KeyState.ACTIVE, run.steps)
            except RootKeysError as exc:
                reason = f"{why}; rollback failed, key may be left Inactive: {exc}"
                run.end(KeyOutcome.FAILED, None, reason)
                continue
            if step.status is StepStatus.UNVERIFIED:
                run.end(KeyOutcome.ROLLED_BACK, None, f"{why}; {step.detail}")
            else:
                run.end(KeyOutcome.ROLLED_BACK, KeyState.ACTIVE, why)

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
        if observation is not None and not observation.passed:
            outcome = RunOutcome.ROLLED_BACK
        elif not keys:
            outcome = RunOutcome.NOTHING_TO_DO
        elif outcomes & {KeyOutcome.FAILED, KeyOutcome.UNVERIFIED, KeyOutcome.KEPT}:
            outcome = RunOutcome.INCOMPLETE
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
