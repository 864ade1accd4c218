"""`RootKeyManager`: one account's root access keys, removed safely.

The manager asks the lifecycle what may happen, records the intent, calls the gateway,
reads IAM until the change shows, records the outcome, then tells the hooks. Nothing
mutates before the caller is proven to be the account's root user, and the key that
signs the session is never touched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from boto3.session import Session

from rootkeys._clock import Clock, SystemClock
from rootkeys._errors import (
    AccountMismatchError,
    AWSError,
    IllegalTransitionError,
    InputError,
    KeyNotFoundError,
    NotRootError,
    ProtectedKeyError,
    RootKeysError,
)
from rootkeys._iam import IamGateway
from rootkeys._lifecycle import decide, validate_window
from rootkeys._models import (
    AccessKey,
    Action,
    CallerIdentity,
    KeyOutcome,
    KeyReport,
    KeyState,
    KeyStatus,
    Plan,
    PlannedAction,
    PlannedKey,
    RemovalReport,
    RunOutcome,
    Step,
    StepResult,
    StepStatus,
    validate_account_id,
    validate_key_id,
)
from rootkeys._observe import Check, EventKind, Hook, Observation, check_name, watch
from rootkeys._observe import Event as _Event
from rootkeys._retry import RetryNotice, RetryPolicy, redact

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_sts.client import STSClient

__all__ = ["RootKeyManager"]

log = logging.getLogger("rootkeys")

_TARGET = {
    Action.DEACTIVATE: KeyState.INACTIVE,
    Action.REACTIVATE: KeyState.ACTIVE,
    Action.DELETE: KeyState.DELETED,
}
_EVENT = {
    Action.DEACTIVATE: EventKind.DEACTIVATED,
    Action.REACTIVATE: EventKind.REACTIVATED,
    Action.DELETE: EventKind.DELETED,
}
SELF_KEY_REASON = (
    "signs the current session, so it is never touched; remove it from AWS CloudShell "
    "signed in as root, from an AssumeRoot session, or while signed with the other key"
)


@dataclass
class _KeyRun:
    """What one run has done to one key so far (the report's working copy)."""

    key: AccessKey
    steps: list[Step] = field(default_factory=list)
    outcome: KeyOutcome | None = None
    reason: str = ""
    state: KeyState | None = None

    def report(self) -> KeyReport:
        return KeyReport(
            key_id=self.key.key_id,
            initial_status=self.key.status,
            final_state=self.state,
            outcome=self.outcome or KeyOutcome.FAILED,
            reason=self.reason,
            steps=tuple(self.steps),
        )


class RootKeyManager:
    """Removes the root user's access keys of one AWS account, safely.

    Args:
        session: a `boto3.Session` signed by the account's root user (or an AssumeRoot
            session). Defaults to ``boto3.Session()``, i.e. the environment's
            credentials.
        account_id: the account you intend to change. When given, credentials of any
            other account are refused before any change.
        iam_client, sts_client: ready clients to use instead of a session (both).
        hooks: callables that receive an `Event` for every step.
        checks: callables that judge, during the observation window, whether
            anything broke (see `Check`).
        retry: how hard to retry throttling, 5xx and connection errors.
        consistency_timeout: how long to read IAM after a change until it shows;
            a change that does not show in time is reported as unverified.
        clock: where time comes from (tests pass a fake one).
        boto_config: extra botocore settings for the clients built from ``session``
            (rootkeys always turns botocore's own retries off).

    Raises:
        InputError: for bad arguments, before any AWS call.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        account_id: str | None = None,
        iam_client: IAMClient | None = None,
        sts_client: STSClient | None = None,
        hooks: Iterable[Hook] = (),
        checks: Iterable[Check] = (),
        retry: RetryPolicy | None = None,
        consistency_timeout: timedelta = timedelta(seconds=60),
        clock: Clock | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._expected_account = None if account_id is None else validate_account_id(account_id)
        self._hooks: tuple[Hook, ...] = _callables("hooks", hooks)
        self._checks: tuple[Check, ...] = _callables("checks", checks)
        timeout: object = consistency_timeout
        if not isinstance(timeout, timedelta) or timeout < timedelta(0):
            raise InputError(
                f"consistency_timeout must be a non-negative timedelta, got {timeout!r}"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InputError(f"retry must be a rootkeys.RetryPolicy, not {type(retry).__name__}")
        if clock is not None and not isinstance(clock, Clock):
            raise InputError("clock must have now() and sleep(seconds) methods")
        self._consistency_timeout = consistency_timeout
        self._clock: Clock = clock or SystemClock()
        policy = retry or RetryPolicy()
        self._run_account = ""
        self._hook_errors: list[str] = []
        if iam_client is not None or sts_client is not None:
            if session is not None or iam_client is None or sts_client is None:
                raise InputError("pass either a session, or both iam_client and sts_client")
            self._gateway = IamGateway.from_clients(
                iam_client,
                sts_client,
                policy=policy,
                sleep=self._clock.sleep,
                on_retry=self._on_retry,
            )
        else:
            if session is not None and not isinstance(session, Session):
                raise InputError(f"session must be a boto3.Session, not {type(session).__name__}")
            self._gateway = IamGateway.from_session(
                session or boto3.Session(),
                policy=policy,
                sleep=self._clock.sleep,
                on_retry=self._on_retry,
                boto_config=boto_config,
            )
        self._identity: CallerIdentity | None = None

    @classmethod
    def from_profile(
        cls, profile_name: str, *, region_name: str | None = None, **kwargs: Any
    ) -> RootKeyManager:
        """A manager for the credentials of a named AWS CLI profile.

        Raises:
            InputError: when the profile does not exist (before any AWS call).
        """
        name: object = profile_name
        if not isinstance(name, str) or not name:
            raise InputError("profile_name must be a non-empty string")
        try:
            session = boto3.Session(profile_name=profile_name, region_name=region_name)
        except botocore.exceptions.ProfileNotFound as exc:
            raise InputError(f"no AWS profile named {profile_name!r} is configured") from exc
        return cls(session, **kwargs)

    # -- identity ---------------------------------------------------------------------

    def caller(self) -> CallerIdentity:
        """Who signs this manager's requests (asked of STS once, then remembered)."""
        if self._identity is None:
            self._identity = self._gateway.caller_identity()
        return self._identity

    @property
    def account_id(self) -> str:
        """The account the credentials belong to."""
        return self.caller().account_id

    def _require_root(self) -> CallerIdentity:
        identity = self.caller()
        if self._expected_account and identity.account_id != self._expected_account:
            raise AccountMismatchError(identity.arn, self._expected_account, identity.account_id)
        if not identity.is_root:
            raise NotRootError(identity.arn)
        self._run_account = identity.account_id
        return identity

    # -- reading ----------------------------------------------------------------------

    def list_keys(self) -> list[AccessKey]:
        """The root user's access keys with their last use, oldest first.

        Raises:
            NotRootError: the caller is not the root user (an IAM user would see its own
                keys here, not the root user's).
        """
        self._require_root()
        return self._gateway.list_keys()

    def plan(self, observe_for: timedelta | None = None) -> Plan:
        """What `remove_all` would do, key by key, without changing anything."""
        if observe_for is not None:
            validate_window(observe_for, None)
        return self._plan(self._require_root(), observe_for)

    def _plan(self, identity: CallerIdentity, observe_for: timedelta | None) -> Plan:
        planned = []
        for key in self._gateway.list_keys():
            if key.key_id == identity.signing_key_id:
                action, reason = PlannedAction.BLOCKED, SELF_KEY_REASON
            elif key.status is KeyStatus.ACTIVE:
                action = PlannedAction.DEACTIVATE_OBSERVE_DELETE
                reason = "Active: made unusable first, so whatever still uses it fails reversibly"
            else:
                action = PlannedAction.OBSERVE_DELETE
                reason = f"already {key.status.value}: observed for the window, then deleted"
            planned.append(PlannedKey(key=key, action=action, reason=reason))
        return Plan(
            account_id=identity.account_id,
            caller_arn=identity.arn,
            created_at=self._clock.now(),
            observe_for=observe_for,
            keys=tuple(planned),
        )

    def verify(self) -> bool:
        """Whether no root access key remains (listed keys and ``AccountAccessKeysPresent``)."""
        self._require_root()
        return not self._gateway.key_statuses() and not self._gateway.keys_present()

    # -- explicit steps -----------------------------------------------------------------

    def deactivate(self, key_id: str) -> StepResult:
        """Make an Active key Inactive (reversible with `reactivate`)."""
        return self._step(key_id, KeyState.INACTIVE)

    def reactivate(self, key_id: str) -> StepResult:
        """Make an Inactive key Active again: the rollback of `deactivate`."""
        return self._step(key_id, KeyState.ACTIVE)

    def delete(self, key_id: str) -> StepResult:
        """Delete an Inactive or Expired key. An Active key is refused; a missing key is done.

        The observation window is the caller's call here; `remove_all` enforces one.
        """
        return self._step(key_id, KeyState.DELETED)

    def _step(self, key_id: str, target: KeyState) -> StepResult:
        key_id = validate_key_id(key_id)
        identity = self._require_root()
        if key_id == identity.signing_key_id:
            raise ProtectedKeyError(key_id)
        seen = self._gateway.key_statuses().get(key_id)
        if seen is None and target is not KeyState.DELETED:
            raise KeyNotFoundError(key_id, identity.account_id)
        current = KeyState.DELETED if seen is None else KeyState(seen.value)
        action = decide(key_id, current, target)
        if action is None:
            now = self._clock.now()
            step = Step(
                action=_action_for(target),
                intended_at=now,
                finished_at=now,
                status=StepStatus.ALREADY_DONE,
                detail=f"already {target.value}",
            )
        else:
            step = self._apply(key_id, action, [])
        return StepResult(
            account_id=identity.account_id,
            key_id=key_id,
            action=step.action,
            from_state=current,
            to_state=target if step.status is not StepStatus.UNVERIFIED else current,
            step=step,
        )

    def _apply(self, key_id: str, action: Action, record: list[Step]) -> Step:
        """Make one change: intent recorded, AWS called, change read back, outcome recorded.

        The intent is appended to ``record`` before the call and replaced by the outcome
        after, so a hook or an error never leaves a change without a record.
        """
        target = _TARGET[action]
        record.append(Step(action=action, intended_at=self._clock.now()))
        log.info("%s %s in account %s", action.value, key_id, self._run_account)
        try:
            if action is Action.DELETE:
                self._gateway.delete_key(key_id)
            else:
                self._gateway.set_status(key_id, KeyStatus(target.value))
        except AWSError as exc:
            if exc.code != "NoSuchEntity" or action is not Action.DELETE:
                self._finish(record, key_id, StepStatus.FAILED, str(exc), exc.code)
                if exc.code == "NoSuchEntity":
                    raise KeyNotFoundError(key_id, self._run_account) from exc
                raise
            done = StepStatus.ALREADY_DONE  # NoSuchEntity on a delete we intended: gone
        else:
            done = StepStatus.DONE
        if self._await_state(key_id, target):
            detail = "already deleted" if done is StepStatus.ALREADY_DONE else ""
            return self._finish(record, key_id, done, detail or f"now {target.value}, seen in IAM")
        detail = (
            f"IAM did not show {key_id} as {target.value} within "
            f"{self._consistency_timeout}; the change is not assumed"
        )
        return self._finish(record, key_id, StepStatus.UNVERIFIED, detail)

    def _finish(
        self,
        record: list[Step],
        key_id: str,
        status: StepStatus,
        detail: str = "",
        code: str | None = None,
    ) -> Step:
        step = record[-1].model_copy(
            update={
                "finished_at": self._clock.now(),
                "status": status,
                "detail": redact(detail),
                "error_code": code,
            }
        )
        record[-1] = step
        if status is StepStatus.FAILED:
            self._emit(
                EventKind.STEP_FAILED,
                key_id=key_id,
                message=f"{step.action}: {detail}",
                error_code=code,
            )
        elif status is StepStatus.UNVERIFIED:
            self._emit(EventKind.STEP_UNVERIFIED, key_id=key_id, message=detail)
        else:
            self._emit(_EVENT[step.action], key_id=key_id, message=detail)
        return step

    def _await_state(self, key_id: str, target: KeyState) -> bool:
        """Read IAM until ``key_id`` shows ``target``, for at most the consistency timeout."""
        deadline = self._clock.now() + self._consistency_timeout
        delay = 0.25
        while True:
            seen = self._gateway.key_statuses().get(key_id)
            if (KeyState.DELETED if seen is None else KeyState(seen.value)) is target:
                return True
            left = (deadline - self._clock.now()).total_seconds()
            if left <= 0:
                return False
            self._clock.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)

    # -- the whole job --------------------------------------------------------------------

    def remove_all(
        self, observe_for: timedelta, check_interval: timedelta | None = None
    ) -> RemovalReport:
        """Deactivate, observe, then delete every root access key that may be removed.

        Active keys are deactivated first; then every key (those found Inactive or
        Expired too) is observed for ``observe_for``, the checks running every
        ``check_interval`` and at the end. If every check passes for the whole window,
        the keys are deleted and ``AccountAccessKeysPresent`` is confirmed to be 0.
        If any check fails, every key this run deactivated is reactivated and nothing
        is deleted. The key that signs the session is never touched.

        Args:
            observe_for: the observation window. ``timedelta(0)`` must be asked for
                explicitly: there is no default that deletes without observing.
            check_interval: time between check runs (default: a tenth of the window,
                between one second and one hour).
        """
        window, interval = validate_window(observe_for, check_interval)
        started = self._clock.now()
        run_id = uuid.uuid4().hex[:12]
        self._hook_errors = []
        identity = self._require_root()
        plan = self._plan(identity, window)
        runs = {pk.key.key_id: _KeyRun(pk.key) for pk in plan.keys}
        for pk in plan.keys:
            self._emit(
                EventKind.KEY_FOUND,
                key_id=pk.key.key_id,
                message=f"{pk.key.status.value}; plan: {pk.action.value}",
            )
        for pk in plan.blocked:
            run = runs[pk.key.key_id]
            run.outcome, run.reason, run.state = KeyOutcome.BLOCKED, pk.reason, pk.key.state
            self._emit(EventKind.BLOCKED, key_id=pk.key.key_id, message=pk.reason)

        deactivated, observed = self._make_unusable(plan, runs)
        observation: Observation | None = None
        if observed:
            observation = watch(
                observed,
                checks=self._checks,
                window=window,
                interval=interval,
                clock=self._clock,
                read_statuses=self._gateway.key_statuses,
                emit=self._emit,
            )
            for key_id in observation.gone:
                run = runs[key_id]
                run.outcome, run.state = KeyOutcome.DELETED, KeyState.DELETED
                run.reason = "deleted outside this run during the window"
            if observation.passed:
                self._delete_observed(observed, observation, runs)
            else:
                self._roll_back(deactivated, runs, observation)
        return self._report(run_id, started, window, runs, observation)

    def _make_unusable(
        self, plan: Plan, runs: Mapping[str, _KeyRun]
    ) -> tuple[list[str], list[AccessKey]]:
        deactivated: list[str] = []
        observed: list[AccessKey] = []
        for pk in plan.removable:
            run = runs[pk.key.key_id]
            if pk.key.status is not KeyStatus.ACTIVE:
                run.state = pk.key.state
                observed.append(pk.key)
                continue
            try:
                step = self._apply(pk.key.key_id, Action.DEACTIVATE, run.steps)
            except RootKeysError as exc:
                run.outcome, run.state = KeyOutcome.FAILED, None
                run.reason = f"deactivation failed, key left as it was: {exc}"
                continue
            deactivated.append(pk.key.key_id)
            if step.status is StepStatus.UNVERIFIED:
                run.outcome, run.state = KeyOutcome.UNVERIFIED, None
                run.reason = f"{step.detail}; not observed, not deleted"
                continue
            run.state = KeyState.INACTIVE
            observed.append(pk.key.model_copy(update={"status": KeyStatus.INACTIVE}))
        return deactivated, observed

    def _delete_observed(
        self, observed: list[AccessKey], observation: Observation, runs: Mapping[str, _KeyRun]
    ) -> None:
        statuses = self._gateway.key_statuses()
        for key in observed:
            run = runs[key.key_id]
            if key.key_id in observation.gone:
                continue
            seen = statuses.get(key.key_id)
            current = KeyState.DELETED if seen is None else KeyState(seen.value)
            try:
                if decide(key.key_id, current, KeyState.DELETED) is None:
                    run.outcome, run.state = KeyOutcome.DELETED, KeyState.DELETED
                    run.reason = "deleted outside this run"
                    continue
                step = self._apply(key.key_id, Action.DELETE, run.steps)
            except IllegalTransitionError as exc:
                run.outcome, run.state, run.reason = KeyOutcome.KEPT, current, str(exc)
                continue
            except RootKeysError as exc:
                run.outcome, run.state = KeyOutcome.FAILED, current
                run.reason = f"deletion failed, key left {current.value}: {exc}"
                continue
            if step.status is StepStatus.UNVERIFIED:
                run.outcome, run.state, run.reason = KeyOutcome.UNVERIFIED, None, step.detail
            else:
                run.outcome, run.state = KeyOutcome.DELETED, KeyState.DELETED
                run.reason = (
                    f"unusable for the whole window ({observation.checks_run} checks passed)"
                )

    def _roll_back(
        self, deactivated: list[str], runs: Mapping[str, _KeyRun], observation: Observation
    ) -> None:
        failure = observation.failure
        why = f"check {failure.check!r} failed: {failure.reason}" if failure else "window failed"
        for run in runs.values():
            if run.outcome is not None:
                continue
            if run.key.key_id not in deactivated:
                run.outcome = KeyOutcome.KEPT
                run.reason = f"{why}; not deleted, left {run.state.value if run.state else '?'}"
                continue
            try:
                step = self._apply(run.key.key_id, Action.REACTIVATE, run.steps)
            except RootKeysError as exc:
                run.outcome, run.state = KeyOutcome.FAILED, None
                run.reason = f"{why}; rollback failed, key may be left Inactive: {exc}"
                continue
            run.outcome = KeyOutcome.ROLLED_BACK
            run.state = KeyState.ACTIVE if step.status is StepStatus.DONE else None
            run.reason = why if step.status is StepStatus.DONE else f"{why}; {step.detail}"
        for key_id in deactivated:  # unverified deactivations are rolled back too
            run = runs[key_id]
            if run.outcome is KeyOutcome.UNVERIFIED:
                try:
                    self._apply(key_id, Action.REACTIVATE, run.steps)
                    run.outcome, run.state, run.reason = (
                        KeyOutcome.ROLLED_BACK,
                        KeyState.ACTIVE,
                        why,
                    )
                except RootKeysError as exc:
                    run.reason += f"; rollback failed: {exc}"

    def _report(
        self,
        run_id: str,
        started: datetime,
        window: timedelta,
        runs: Mapping[str, _KeyRun],
        observation: Observation | None,
    ) -> RemovalReport:
        keys = tuple(run.report() for run in runs.values())
        outcomes = {k.outcome for k in keys}
        try:
            present: bool | None = self._await_keys_present(
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
        self._emit(
            EventKind.VERIFIED if present is False else EventKind.NOT_VERIFIED,
            message=f"run {outcome.value}; AccountAccessKeysPresent="
            + ("unknown" if present is None else str(int(present))),
        )
        return RemovalReport(
            run_id=run_id,
            account_id=self._run_account,
            started_at=started,
            finished_at=self._clock.now(),
            observe_for=window,
            outcome=outcome,
            keys=keys,
            check_failure=observation.failure if observation else None,
            checks_run=observation.checks_run if observation else 0,
            keys_present=present,
            hook_errors=tuple(self._hook_errors),
        )

    def _await_keys_present(self, *, expected: bool) -> bool:
        """Read ``AccountAccessKeysPresent`` until it shows ``expected``, bounded."""
        deadline = self._clock.now() + self._consistency_timeout
        while True:
            present = self._gateway.keys_present()
            left = (deadline - self._clock.now()).total_seconds()
            if present is expected or left <= 0:
                return present
            self._clock.sleep(min(1.0, left))

    # -- hooks ----------------------------------------------------------------------------

    def _on_retry(self, notice: RetryNotice) -> None:
        self._emit(
            EventKind.RETRYING,
            operation=notice.operation,
            attempt=notice.attempt,
            error_code=notice.error_code,
            message=f"{notice.operation} answered {notice.error_code}; attempt "
            f"{notice.attempt + 1} in {notice.wait_seconds:.2f}s",
        )

    def _emit(self, kind: EventKind, **fields: Any) -> None:
        event = _Event(kind=kind, account_id=self._run_account, at=self._clock.now(), **fields)
        log.debug("%s", event)
        for hook in self._hooks:
            try:
                hook(event)
            except Exception as exc:
                text = redact(
                    f"{check_name(hook)} raised {type(exc).__name__} on {kind.value}: {exc}"
                )
                log.warning("hook %s", text)
                self._hook_errors.append(text)


def _action_for(target: KeyState) -> Action:
    return {v: k for k, v in _TARGET.items()}[target]


def _callables(what: str, items: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InputError(f"{what} must be a list or tuple of callables")
    found = tuple(items)
    for item in found:
        if not callable(item):
            raise InputError(f"{what} must be callables; got a {type(item).__name__}")
    return found
