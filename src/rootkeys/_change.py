"""One change to one key, done the careful way.

Every change rootkeys makes goes through `Stepper.change`: the lifecycle decides, the
intent is recorded, the gateway is called, IAM is read until the change shows (it is
eventually consistent), the outcome is recorded, and only then are the hooks told.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from rootkeys._errors import AWSError, KeyNotFoundError, RootKeysError
from rootkeys._lifecycle import decide
from rootkeys._models import AccessKey, Action, CredentialKind, KeyState, Step, StepStatus
from rootkeys._observe import Emitter, EventKind
from rootkeys._records import RecordKind
from rootkeys._render import span
from rootkeys._retry import redact

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import timedelta

    from rootkeys._clock import Clock
    from rootkeys._journal import Journal

__all__ = ["KeyGateway", "Stepper", "state_of"]

log = logging.getLogger("rootkeys")

_EVENT = {
    Action.DEACTIVATE: EventKind.DEACTIVATED,
    Action.REACTIVATE: EventKind.REACTIVATED,
    Action.DELETE: EventKind.DELETED,
    Action.QUARANTINE: EventKind.QUARANTINED,
    Action.RELEASE: EventKind.RELEASED,
}
_TARGET = {
    Action.DEACTIVATE: KeyState.INACTIVE,
    Action.REACTIVATE: KeyState.ACTIVE,
    Action.DELETE: KeyState.DELETED,
    Action.QUARANTINE: KeyState.QUARANTINED,
    Action.RELEASE: KeyState.ACTIVE,
}
_ACTION_FOR = {
    KeyState.INACTIVE: Action.DEACTIVATE,
    KeyState.ACTIVE: Action.REACTIVATE,
    KeyState.DELETED: Action.DELETE,
    KeyState.QUARANTINED: Action.QUARANTINE,
}


class KeyGateway(Protocol):
    """What a run needs of one account's root keys.

    An `IamGateway` (signed in as root), or a member account of an organization reached
    through AssumeRoot, whose unusable stage is the quarantine SCP.
    """

    def key_states(self) -> dict[str, KeyState]:
        """Each key's lifecycle state, read fresh."""
        ...

    def list_keys(self, *, last_used: bool = True) -> list[AccessKey]:
        """The keys, oldest first."""
        ...

    def make(self, action: Action, key_id: str) -> None:
        """Make one change (one AWS write)."""
        ...

    def keys_present(self) -> bool:
        """Whether a credential of `kinds` is present (``AccountAccessKeysPresent``, ...)."""
        ...

    @property
    def kinds(self) -> frozenset[CredentialKind]:
        """The kinds of credential this gateway lists and changes (access keys, ...)."""
        ...


def state_of(states: Mapping[str, KeyState], key_id: str) -> KeyState:
    """A key's lifecycle state from a listing: absent means Deleted."""
    return states.get(key_id, KeyState.DELETED)


class Stepper:
    """Makes changes to one account's root keys, each verified and recorded."""

    def __init__(
        self,
        gateway: KeyGateway,
        *,
        clock: Clock,
        emit: Emitter,
        consistency_timeout: timedelta,
        journal: Journal | None,
    ) -> None:
        self._gateway = gateway
        self._clock = clock
        self._emit = emit
        self._timeout = consistency_timeout
        self._journal = journal

    def change(
        self,
        key_id: str,
        current: KeyState,
        target: KeyState,
        record: list[Step],
        *,
        run_id: str,
        window: timedelta | None = None,
    ) -> Step:
        """Take ``key_id`` from ``current`` to ``target``; the finished step is returned.

        ``window``: for a change that makes the key unusable, the window that starts when
        the change is seen; its end is the event's ``until``.

        The lifecycle decides first (`IllegalTransitionError` before any AWS call). A
        key already in ``target`` gives an "already done" step and no AWS write. The
        intent is appended to ``record`` before the call and replaced by the outcome
        after, so an error or a hook never leaves a change without a record. With a
        journal, the intent is committed to it before the AWS call (if that fails, the
        call is not made) and the outcome after.

        Raises:
            AWSError: the call failed (the failed step is in ``record``).
            KeyNotFoundError: IAM has no such key (for a delete this is success instead).
        """
        action = decide(key_id, current, target)
        if action is None:
            now = self._clock.now()
            step = Step(
                action=_ACTION_FOR[target],
                intended_at=now,
                finished_at=now,
                status=StepStatus.ALREADY_DONE,
                detail=f"already {target.value}",
            )
            record.append(step)
            return step
        intended_at = self._clock.now()
        intent = self._write(
            key_id,
            run_id,
            RecordKind.INTENT,
            at=intended_at,
            action=action,
            from_state=current,
            to_state=target,
        )
        record.append(Step(action=action, intended_at=intended_at))
        log.info("%s %s in account %s", action.value, key_id, self._emit.account_id)
        try:
            self._gateway.make(action, key_id)
        except RootKeysError as exc:
            code = exc.code if isinstance(exc, AWSError) else type(exc).__name__
            if code != "NoSuchEntity" or action is not Action.DELETE:
                self._finish(record, key_id, StepStatus.FAILED, str(exc), code, intent, run_id)
                if code == "NoSuchEntity":
                    raise KeyNotFoundError(key_id, self._emit.account_id) from exc
                raise
            done = StepStatus.ALREADY_DONE  # NoSuchEntity on a delete we intended: gone
        else:
            done = StepStatus.DONE
        try:
            seen = self.await_state(key_id, target)
        except RootKeysError as exc:  # made, but reading it back failed: record that much
            detail = f"made, but could not be read back ({exc}); the change is not assumed"
            code = exc.code if isinstance(exc, AWSError) else type(exc).__name__
            return self._finish(record, key_id, StepStatus.UNVERIFIED, detail, code, intent, run_id)
        if seen:
            detail = "already deleted" if done is StepStatus.ALREADY_DONE else ""
            detail = detail or f"now {target.value}, seen in IAM"
            return self._finish(record, key_id, done, detail, None, intent, run_id, window)
        detail = (
            f"IAM did not show {key_id} as {target.value} within {span(self._timeout)}; "
            "the change is not assumed"
        )
        return self._finish(record, key_id, StepStatus.UNVERIFIED, detail, None, intent, run_id)

    def _write(self, key_id: str, run_id: str, kind: RecordKind, **fields: Any) -> int | None:
        """Commit a journal record (if there is a journal); its sequence number."""
        if self._journal is None:
            return None
        written = self._journal.append(
            account_id=self._emit.account_id, key_id=key_id, run_id=run_id, kind=kind, **fields
        )
        return written.seq

    def _finish(
        self,
        record: list[Step],
        key_id: str,
        status: StepStatus,
        detail: str,
        code: str | None,
        intent: int | None,
        run_id: str,
        window: timedelta | None = None,
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
        done = status in (StepStatus.DONE, StepStatus.ALREADY_DONE)
        self._write(
            key_id,
            run_id,
            RecordKind.OUTCOME,
            at=step.finished_at,
            action=step.action,
            to_state=_TARGET[step.action] if done else None,
            status=status,
            error_code=code,
            detail=step.detail,
            intent_seq=intent,
        )
        until = None
        if status is StepStatus.FAILED:
            kind, message = EventKind.STEP_FAILED, f"{step.action.value} failed: {step.detail}"
        elif status is StepStatus.UNVERIFIED:
            kind, message = EventKind.STEP_UNVERIFIED, step.detail
        else:
            kind, message = _EVENT[step.action], step.detail
            if window is not None and step.action.makes_unusable and step.finished_at:
                until = step.finished_at + window  # the window starts when the change shows
        self._emit(kind, key_id=key_id, message=message, error_code=code, until=until)
        return step

    def await_state(self, key_id: str, target: KeyState) -> bool:
        """Read IAM until ``key_id`` shows ``target``, for at most the consistency timeout."""
        deadline = self._clock.now() + self._timeout
        delay = 0.25
        while True:
            if state_of(self._gateway.key_states(), key_id) is target:
                return True
            left = (deadline - self._clock.now()).total_seconds()
            if left <= 0:
                return False
            self._clock.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)

    def await_keys_present(self, *, expected: bool) -> bool:
        """Read ``AccountAccessKeysPresent`` until it shows ``expected``, bounded; return it."""
        deadline = self._clock.now() + self._timeout
        while True:
            present = self._gateway.keys_present()
            left = (deadline - self._clock.now()).total_seconds()
            if present is expected or left <= 0:
                return present
            self._clock.sleep(min(1.0, left))
