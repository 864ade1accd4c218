"""Watching a removal: hooks see every step; checks may veto during the window.

Two extension points, both plain callables:

- a **hook** receives an `Event` for every step (key found, deactivated, check passed,
  retrying after throttling, deleted, ...). Hooks observe; they never change what
  happens. A hook that raises is logged and named in the report, and the run goes on.
- a **check** receives the `AccessKey` under observation and answers ``True`` (all is
  well), ``False`` or a failing `CheckResult` (something broke). A check that raises
  counts as failing. Any failing check during the window rolls the run back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from rootkeys._decide import Next
from rootkeys._errors import InputError
from rootkeys._models import KeyState, ObservedKey
from rootkeys._orgreports import AccountRemoval
from rootkeys._public import rehome
from rootkeys._reports import CheckFailure
from rootkeys._retry import redact

if TYPE_CHECKING:
    from rootkeys._clock import Clock
    from rootkeys._retry import RetryNotice

__all__ = [
    "Check",
    "CheckResult",
    "Emitter",
    "Event",
    "EventKind",
    "Hook",
    "Observation",
    "callables",
    "check_name",
    "check_once",
]

log = logging.getLogger("rootkeys")


class EventKind(StrEnum):
    """Every kind of step a hook is told about (docs/hooks-and-checks.md has the table)."""

    KEY_FOUND = "key found"
    """A pass found a key (``next``: what it does to it; ``until``: its window's end)."""
    BLOCKED = "blocked"
    """A pass leaves a key alone: protected, blocked or on hold (``next`` says which)."""
    DEACTIVATED = "deactivated"
    """A key was made Inactive (``until``: when its window ends)."""
    QUARANTINED = "quarantined"
    """A member account's key was quarantined by the SCP (``until``: its window's end)."""
    OBSERVING = "observing"
    """A pass runs the checks over the unusable keys (``until``: when the last window ends)."""
    CHECK_PASSED = "check passed"
    """One of your checks passed for one key (``check`` names it): one of `checks_run`."""
    CHECK_FAILED = "check failed"
    """One of your checks failed for one key, and the round ends; or rootkeys' own reading
    found a key usable again or could not read it (``check`` is ``"key still unusable"``,
    not one of your checks, not counted in `RemovalReport.checks_run`)."""
    KEY_GONE = "key gone"
    """A key under observation was deleted by someone else."""
    RECONCILED = "reconciled"
    """The journal was brought in line with what AWS shows (a record written)."""
    RETRYING = "retrying"
    """An AWS call is retried (``operation``, ``attempt``, ``error_code``)."""
    REACTIVATED = "reactivated"
    """A rollback made a key Active again."""
    RELEASED = "released"
    """A rollback released a member account's key from the quarantine SCP."""
    DELETED = "deleted"
    """A key was deleted."""
    STEP_UNVERIFIED = "step unverified"
    """A change was made but IAM did not show it in time; it is not assumed."""
    STEP_FAILED = "step failed"
    """A change to a key failed (``error_code``: the AWS error code, if any)."""
    VERIFIED = "verified"
    """A pass ended and ``AccountAccessKeysPresent`` is 0."""
    NOT_VERIFIED = "not verified"
    """A pass that should have left no key ended with ``AccountAccessKeysPresent`` not 0
    (or unknown). Not sent while keys are observing, on hold or blocked: they remain."""
    WAITING = "waiting"
    """A blocking run sleeps until its next pass (``until``: when that pass starts)."""
    ACCOUNT_FINISHED = "account finished"
    """A removal is over for one account (``result``: its `AccountRemoval` so far, outcome
    and why; ``message`` says the same): in an organization removal, after each pass over
    each member account; in `RootKeyManager.remove_all`, once, when the run ends."""


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a run, as hooks see it. Never carries a secret.

    Attributes:
        kind: what happened.
        account_id: the account it happened in.
        at: when (UTC).
        key_id: the access key concerned, if any.
        message: a one-line human description.
        check: the check's name, for check events.
        operation: the AWS operation, for retry and failure events.
        attempt: the attempt that failed, for retry events.
        error_code: the AWS error code, for retry and failure events.
        until: for ``KEY_FOUND``, ``DEACTIVATED`` and ``QUARANTINED``, when the key's
            window ends (the journal's time, in staged runs too); for ``OBSERVING``, when
            the last window of the pass ends; for ``WAITING``, when the next pass starts.
        next: what happens next to the key, for ``KEY_FOUND`` and ``BLOCKED``.
        result: for ``ACCOUNT_FINISHED``, the account's result over the run's passes so
            far (`AccountRemoval`: its outcome, reason and report); what the built-in
            notifiers (`rootkeys.notify`) send.
    """

    kind: EventKind
    account_id: str
    at: datetime
    key_id: str | None = None
    message: str = ""
    check: str | None = None
    operation: str | None = None
    attempt: int | None = None
    error_code: str | None = None
    until: datetime | None = None
    next: Next | None = None
    result: AccountRemoval | None = None

    def __str__(self) -> str:
        key = f" {self.key_id}" if self.key_id else ""
        text = f": {self.message}" if self.message else ""
        return f"[{self.at:%H:%M:%S}] {self.kind.value}{key}{text}"


class Hook(Protocol):
    """Receives every `Event` of a run. The return value is ignored."""

    def __call__(self, event: Event, /) -> object:
        """Handle one event."""
        ...


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's verdict with its reason (a plain ``bool`` also works)."""

    ok: bool
    reason: str = ""


class Check(Protocol):
    """Says whether all is still well while ``key`` is unusable.

    Return ``True`` or ``CheckResult(ok=True)`` when all is well; ``False``,
    ``CheckResult(ok=False, reason=...)`` or an exception means something broke.
    Give the callable a ``name`` attribute to name it in reports (else its
    ``__name__`` is used).
    """

    def __call__(self, key: ObservedKey, /) -> bool | CheckResult:
        """Check one key under observation (its account and window included)."""
        ...


def check_name(check: object) -> str:
    """The name a check goes by in events and reports."""
    name = getattr(check, "name", None)
    if isinstance(name, str) and name:
        return name
    name = getattr(check, "__name__", None)
    return name if isinstance(name, str) else type(check).__name__


STILL_UNUSABLE = "key still unusable"
"""The built-in check that runs first at every tick: no observed key is Active again."""


@dataclass(frozen=True, slots=True)
class Observation:
    """How an observation window ended."""

    passed: bool
    started_at: datetime
    ended_at: datetime
    checks_run: int
    """Calls of the caller's checks (one check, one key), passed or failed."""
    failure: CheckFailure | None = None
    gone: tuple[str, ...] = ()


class Emitter:
    """Tells every hook about each event; a hook that raises is logged and remembered.

    Hooks observe and never change what happens: their errors are collected in
    `errors` (for the report) and the run goes on.
    """

    def __init__(self, hooks: Sequence[Hook], clock: Clock) -> None:
        self._hooks = tuple(hooks)
        self._clock = clock
        self.account_id = ""
        self.errors: list[str] = []

    def __call__(self, kind: EventKind, **fields: Any) -> None:
        """Build the event for ``kind`` and hand it to each hook in turn."""
        event = Event(kind=kind, account_id=self.account_id, at=self._clock.now(), **fields)
        log.debug("%s", event)
        for hook in self._hooks:
            try:
                hook(event)
            except Exception as exc:
                text = redact(
                    f"{check_name(hook)} raised {type(exc).__name__} on {kind.value}: {exc}"
                )
                log.warning("hook %s", text)
                self.errors.append(text)

    @contextmanager
    def also(self, hook: Hook | None) -> Iterator[None]:
        """Tell ``hook`` too, for the duration of the block (None: no one more)."""
        if hook is None:
            yield
            return
        before = self._hooks
        self._hooks = (*before, hook)
        try:
            yield
        finally:
            self._hooks = before

    def waiting(self, until: datetime, accounts: int) -> None:
        """Tell the hooks that the run sleeps until its next pass (a driver callback)."""
        who = f"{accounts} accounts" if accounts > 1 else "1 account"
        self(
            EventKind.WAITING,
            until=until,
            message=f"{who} observing; next pass at {until:%Y-%m-%d %H:%M:%S} UTC",
        )

    def retrying(self, notice: RetryNotice) -> None:
        """Tell the hooks that a call is about to be retried (a `RetryPolicy` callback)."""
        self(
            EventKind.RETRYING,
            operation=notice.operation,
            attempt=notice.attempt,
            error_code=notice.error_code,
            message=f"{notice.operation} answered {notice.error_code}; attempt "
            f"{notice.attempt + 1} in {notice.wait_seconds:.2f}s",
        )


Emit = Callable[..., None]


def check_once(
    keys: Sequence[ObservedKey],
    *,
    checks: Sequence[Check],
    until: datetime | None,
    clock: Clock,
    read_states: Callable[[], Mapping[str, KeyState]],
    emit: Emit,
) -> Observation:
    """One round of checks over ``keys``, whose windows run until ``until``.

    The key states are read fresh first: a key usable again (someone reactivated it, or
    detached its account's quarantine) fails the round, a key that disappeared is dropped
    (someone else deleted it). Then each check runs for each remaining key; the first
    failure ends the round. A blocking run is one such round per pass, passes one check
    interval apart.
    """
    started = clock.now()
    when = f" until {until:%Y-%m-%d %H:%M:%S} UTC" if until is not None else ""
    emit(
        EventKind.OBSERVING,
        message=f"{len(keys)} key(s) unusable, their windows running{when}; checking",
        until=until,
    )
    watched = list(keys)
    gone: list[str] = []
    failure, runs = _tick(watched, gone, checks, clock, read_states, emit)
    return Observation(failure is None, started, clock.now(), runs, failure, tuple(gone))


def _tick(
    watched: list[ObservedKey],
    gone: list[str],
    checks: Sequence[Check],
    clock: Clock,
    read_states: Callable[[], Mapping[str, KeyState]],
    emit: Emit,
) -> tuple[CheckFailure | None, int]:
    try:
        states = read_states()
    except Exception as exc:  # an unreadable state cannot prove the key unusable
        key_id = watched[0].key_id
        return _fail(STILL_UNUSABLE, key_id, f"could not read key status: {exc}", clock, emit), 0
    runs = 0  # calls of the caller's checks; the state read above is rootkeys' own
    for key in list(watched):
        state = states.get(key.key_id)
        if state is None:
            watched.remove(key)
            gone.append(key.key_id)
            emit(EventKind.KEY_GONE, key_id=key.key_id, message="deleted outside this run")
        elif state.usable:
            reason = "Active again: reactivated outside this run during the window" + (
                " (its account's quarantine SCP was detached)" if key.quarantined else ""
            )
            return _fail(STILL_UNUSABLE, key.key_id, reason, clock, emit), runs
    for key in watched:
        state = states[key.key_id]
        current = key.model_copy(
            update={"status": state.iam_status, "quarantined": state is KeyState.QUARANTINED}
        )
        for check in checks:
            name = check_name(check)
            runs += 1
            try:
                verdict = check(current)
            except Exception as exc:
                reason = f"raised {type(exc).__name__}: {exc}"
                return _fail(name, key.key_id, reason, clock, emit), runs
            ok, reason = (
                (verdict.ok, verdict.reason)
                if isinstance(verdict, CheckResult)
                else (verdict is True, "" if verdict is True else f"returned {verdict!r}")
            )
            if not ok:
                return _fail(name, key.key_id, reason or "failed", clock, emit), runs
            emit(EventKind.CHECK_PASSED, key_id=key.key_id, check=name, message=name)
    return None, runs


def _fail(check: str, key_id: str, reason: str, clock: Clock, emit: Emit) -> CheckFailure:
    reason = redact(reason)
    log.warning("check %r failed for %s: %s", check, key_id, reason)
    emit(EventKind.CHECK_FAILED, key_id=key_id, check=check, message=f"{check}: {reason}")
    return CheckFailure(check=check, key_id=key_id, reason=reason, at=clock.now())


def callables(what: str, items: Iterable[Any]) -> tuple[Any, ...]:
    """``items`` as a tuple, each checked to be callable (hooks, checks)."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InputError(f"{what} must be a list or tuple of callables")
    found = tuple(items)
    for item in found:
        if not callable(item):
            raise InputError(f"{what} must be callables; got a {type(item).__name__}")
    return found


rehome(globals())
