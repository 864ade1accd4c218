"""Where a run stands, told by its events: each key's phase, window, checks, next action.

A `ProgressModel` is a hook: fed every `Event` of a run, it keeps, per account and key,
the phase (deactivating, observing, deleting, done, rolled back, on hold, ...), when the
key's window ends, how many of *your* checks ran for it and the last result, and when
the next pass is due. Each event it is fed may close a round of checks or change a key's
phase; it says so with a `Notice` (one line of text), which a view prints or shows.

The terminal (``rootkeys._terminal``, the CLI's) and the notebook view
(``rootkeys._notebook``) render it. It does no I/O and reads no clock: its time is the
events' time (the run's clock). Hooks may be called from worker threads (an
organization), so it holds a lock.
"""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from rootkeys._decide import Next
from rootkeys._observe import STILL_UNUSABLE, Event, EventKind
from rootkeys._render import span
from rootkeys._retry import redact

__all__ = [
    "NEXT",
    "AccountProgress",
    "CheckSeen",
    "KeyProgress",
    "Notice",
    "Phase",
    "ProgressModel",
]


class Phase(StrEnum):
    """Where a key stands in a run."""

    DEACTIVATING = "deactivating"
    OBSERVING = "observing"
    DELETING = "deleting"
    ROLLING_BACK = "rolling back"
    DONE = "done"
    ROLLED_BACK = "rolled back"
    ON_HOLD = "on hold"
    BLOCKED = "blocked"
    PROTECTED = "protected"
    FAILED = "failed"


_PHASE_OF = {
    Next.MAKE_UNUSABLE: Phase.DEACTIVATING,
    Next.OBSERVE: Phase.OBSERVING,
    Next.DELETE: Phase.DELETING,
    Next.ROLL_BACK: Phase.ROLLING_BACK,
    Next.ON_HOLD: Phase.ON_HOLD,
    Next.PROTECTED: Phase.PROTECTED,
    Next.BLOCKED: Phase.BLOCKED,
    Next.DONE: Phase.DONE,
}
_WATCHED = (Phase.OBSERVING, Phase.DELETING)
_IN_ROUND = (EventKind.CHECK_PASSED, EventKind.KEY_GONE, EventKind.RETRYING)


@dataclass(frozen=True, slots=True)
class CheckSeen:
    """A check's last result for a key."""

    name: str
    ok: bool
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.name}: passed" if self.ok else f"{self.name}: FAILED"


@dataclass(slots=True)
class KeyProgress:
    """Where one key stands (a copy, when read from `ProgressModel.keys`)."""

    account_id: str
    key_id: str
    phase: Phase
    until: datetime | None = None
    """When its window ends (None: not known yet, or no window)."""
    checks: int = 0
    """How many times your checks ran for it (the built-in tick not counted)."""
    last: CheckSeen | None = None

    def left(self, now: datetime) -> timedelta | None:
        """Time left in its window at ``now`` (None: no window, or not watched)."""
        if self.until is None or self.phase not in _WATCHED:
            return None
        return max(self.until - now, timedelta(0))

    def next_action(self, now: datetime, next_pass: datetime | None) -> str:
        """What happens next to the key, in a few words."""
        if self.phase is Phase.OBSERVING:
            if self.until is not None and self.until <= now:
                return "delete, if checks pass"
            if next_pass is not None and next_pass > now:
                return f"checks in {short(next_pass - now)}"
            return "checks next pass"
        return NEXT[self.phase]


NEXT = {
    Phase.DEACTIVATING: "make unusable",
    Phase.DELETING: "delete, if checks pass",
    Phase.ROLLING_BACK: "make usable again",
    Phase.DONE: "nothing",
    Phase.ROLLED_BACK: "held until resumed",
    Phase.ON_HOLD: "held until resumed",
    Phase.BLOCKED: "waits for a person",
    Phase.PROTECTED: "never touched",
    Phase.FAILED: "see the report",
}
"""What happens next to a key in each phase (observing: `KeyProgress.next_action` says)."""


@dataclass(slots=True)
class _Round:
    number: int
    until: datetime | None
    passed: int = 0
    names: list[str] = field(default_factory=list)
    failure: tuple[str, str, str] | None = None  # check, key id, reason


@dataclass(slots=True)
class AccountProgress:
    """Where one account's run stands."""

    account_id: str
    rounds: int = 0
    """Rounds of checks run so far (one a pass that checks)."""
    next_pass: datetime | None = None
    """When the next pass starts, while the run waits for it."""
    finished: str = ""
    round: _Round | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """One line worth printing: a round of checks ended, or a key changed phase."""

    at: datetime
    account_id: str
    text: str
    key_id: str | None = None
    round: bool = False

    def line(self, width: int = 100) -> str:
        """``[HH:MM:SS] account text``, cut to ``width`` columns."""
        return fit(self._head() + self.text, width)

    def lines(self, width: int = 100) -> list[str]:
        """``[HH:MM:SS] account text``, wrapped onto indented lines of at most ``width``.

        Nothing is cut: a long reason (a URL, an AWS error) goes on continuation lines,
        indented to where the text starts.
        """
        head = self._head()
        indent = " " * (len(head) if len(head) <= width // 2 else 4)
        text = " ".join(self.text.split())
        return textwrap.wrap(
            text,
            width,
            initial_indent=head,
            subsequent_indent=indent,
            break_on_hyphens=False,
        ) or [head.rstrip()]

    def _head(self) -> str:
        where = f"{self.account_id} " if self.account_id else ""
        return f"[{self.at:%H:%M:%S}] {where}"


class ProgressModel:
    """Where a run stands, from its events (a hook; thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, AccountProgress] = {}
        self._keys: dict[tuple[str, str], KeyProgress] = {}
        self._told: set[tuple[str, str, Phase]] = set()  # holds and blocks printed once
        self.latest: datetime | None = None
        """The time of the latest event (the run's clock)."""

    def __call__(self, event: Event, /) -> list[Notice]:
        """Take in one event; the lines it gives (a round ended, a key changed phase)."""
        with self._lock:
            if self.latest is None or event.at > self.latest:
                self.latest = event.at
            if event.kind is EventKind.WAITING and not event.account_id:  # the whole run waits
                ended = [self._close(a, event.at) for a in self._accounts.values() if a.round]
                self._waiting(list(self._accounts.values()), event)
                return ended
            account = self._account(event.account_id)
            notices: list[Notice] = []
            if account.round is not None and event.kind not in _IN_ROUND:
                if event.kind is EventKind.CHECK_FAILED:  # the first failure ends the round
                    name = event.check or "a check"
                    reason = redact(event.message.removeprefix(f"{name}: "))
                    account.round.failure = (name, event.key_id or "", reason)
                notices.append(self._close(account, event.at))
            notices.extend(self._take(account, event))
            return notices

    def finish(self) -> list[Notice]:
        """The run ended: the lines of the rounds still open (a staged pass ends in one).

        A round is otherwise closed by the next event that is not part of it; a pass
        that leaves its keys observing sends none. Calling it again gives nothing.
        """
        with self._lock:
            at = self.latest
            if at is None:
                return []
            return [self._close(a, at) for a in self._accounts.values() if a.round is not None]

    def each_account(self) -> list[AccountProgress]:
        """A copy of each account's progress, in the order first seen."""
        with self._lock:
            return [replace(a, round=None) for a in self._accounts.values()]

    def each_key(self) -> list[KeyProgress]:
        """A copy of each key's progress, in the order first seen."""
        with self._lock:
            return [replace(k) for k in self._keys.values()]

    # -- taking in events -------------------------------------------------------------------

    def _account(self, account_id: str) -> AccountProgress:
        found = self._accounts.get(account_id)
        if found is None:
            found = self._accounts[account_id] = AccountProgress(account_id)
        return found

    def _key(self, event: Event) -> KeyProgress:
        assert event.key_id is not None
        index = (event.account_id, event.key_id)
        found = self._keys.get(index)
        if found is None:
            found = self._keys[index] = KeyProgress(event.account_id, event.key_id, Phase.OBSERVING)
        return found

    def _take(self, account: AccountProgress, event: Event) -> list[Notice]:
        kind = event.kind
        if kind is EventKind.OBSERVING:
            account.rounds += 1
            account.next_pass = None
            account.round = _Round(account.rounds, event.until)
            for key in self._keys.values():
                if key.account_id == account.account_id and key.until is None:
                    key.until = event.until if key.phase in _WATCHED else None
            return []
        if kind is EventKind.WAITING:
            self._waiting([account], event)
            return []
        if kind is EventKind.ACCOUNT_FINISHED:  # each pass; said when it ends otherwise
            outcome = event.message.partition(":")[0]
            changed = outcome != account.finished.partition(":")[0] and outcome != "observing"
            account.finished = event.message
            text = f"account: {redact(event.message)}"
            return [Notice(event.at, account.account_id, text)] if changed else []
        if event.key_id is None or kind in (EventKind.RECONCILED, EventKind.RETRYING):
            return []
        return self._key_event(account, event, self._key(event))

    def _waiting(self, accounts: list[AccountProgress], event: Event) -> None:
        """The next pass over ``accounts`` (those still observing) starts at ``until``."""
        observing = {k.account_id for k in self._keys.values() if k.phase in _WATCHED}
        for account in accounts:
            if account.account_id in observing:
                account.next_pass = event.until

    def _key_event(self, account: AccountProgress, event: Event, key: KeyProgress) -> list[Notice]:
        kind = event.kind
        if kind in (EventKind.KEY_FOUND, EventKind.BLOCKED) and event.next is not None:
            key.phase = _PHASE_OF[event.next]
            key.until = event.until if key.phase in _WATCHED else key.until
            told = (key.account_id, key.key_id, key.phase)
            if kind is EventKind.BLOCKED and told not in self._told:
                self._told.add(told)
                return [_said(event, event.message)]
            return []
        if kind in (EventKind.CHECK_PASSED, EventKind.CHECK_FAILED):
            name = event.check or "a check"
            reason = event.message.removeprefix(f"{name}: ")
            key.last = CheckSeen(name, kind is EventKind.CHECK_PASSED, redact(reason))
            yours = name != STILL_UNUSABLE  # the built-in tick is not counted
            key.checks += yours
            if account.round is not None and kind is EventKind.CHECK_PASSED and yours:
                account.round.passed += 1
                if name not in account.round.names:
                    account.round.names.append(name)
            return []
        if kind in (EventKind.DEACTIVATED, EventKind.QUARANTINED):
            key.phase, key.until = Phase.OBSERVING, event.until
            when = f"; its window ends {event.until:%Y-%m-%d %H:%M:%S} UTC" if event.until else ""
            return [_said(event, f"{kind.value}{when}")]
        if kind in (EventKind.REACTIVATED, EventKind.RELEASED):
            key.phase = Phase.ROLLED_BACK
            return [_said(event, f"rolled back ({kind.value}); held until resumed")]
        if kind is EventKind.DELETED:
            key.phase = Phase.DONE
            return [_said(event, "deleted")]
        if kind is EventKind.KEY_GONE:
            key.phase = Phase.DONE
            return [_said(event, "gone: deleted outside this run")]
        if kind in (EventKind.STEP_FAILED, EventKind.STEP_UNVERIFIED):
            key.phase = Phase.FAILED
            return [_said(event, f"{kind.value}: {event.message}")]
        return []

    # -- rounds of checks ---------------------------------------------------------------------

    def _close(self, account: AccountProgress, at: datetime) -> Notice:
        """The line for the round that just ended."""
        done, account.round = account.round, None
        assert done is not None
        head = f"round {done.number}:"
        if done.failure is not None:
            name, key_id, reason = done.failure  # the reason first: the key follows it
            on = f" (on {key_id})" if key_id else ""
            text = f"{head} check {name!r} failed: {reason}{on}"
            return Notice(at, account.account_id, text, round=True)
        watched = [
            k
            for k in self._keys.values()
            if k.account_id == account.account_id and k.phase in _WATCHED
        ]
        keys = f"{len(watched)} key" + ("" if len(watched) == 1 else "s")
        if done.until is not None and done.until > at:
            when = f"{short(done.until - at)} left"
        else:
            when = "window over"
        what = f"{keys} unusable, {when}"  # the time left first: names may be cut at 100
        if done.passed:
            checks = f"{done.passed} check" + ("" if done.passed == 1 else "s")
            what += f"; {checks} passed ({', '.join(done.names)})"
        else:
            what += "; no checks configured"
        return Notice(at, account.account_id, f"{head} {what}", round=True)


def _said(event: Event, text: str) -> Notice:
    return Notice(event.at, event.account_id, redact(f"{event.key_id} {text}"), event.key_id)


def short(left: timedelta) -> str:
    """Time left in its two largest units (`span`'s words): 6d23h, 1m48s, 2m; 0s when none."""
    words = span(max(left, timedelta(0)), units=2)
    return "0s" if words == "0" else words


def fit(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` columns (cut with an ellipsis)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
