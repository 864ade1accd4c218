"""What happens next to each root key: the one decision.

`decide` takes what the journal remembers of each key (already reconciled with AWS),
each key's state in AWS now, the window a run would give each key, and the time, and
says what happens next to every key and why. `plan()`, `status()`, every pass of a run
(one account or a member account) and the CLI ask it; nothing else decides. Which moves
are legal at all is `rootkeys._lifecycle.TRANSITIONS`; the run asks it before each one.
`Settings` says which window a run asks for each key (one for all, a policy's by risk,
or one set for a key or its account).

It is pure: no AWS call, no journal write, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from rootkeys._findings import RemovalPolicy
from rootkeys._lifecycle import resolve_windows
from rootkeys._models import KeyState
from rootkeys._public import rehome
from rootkeys._reconcile import KeyMemory
from rootkeys._render import span, stamp

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from rootkeys._findings import KeyEvidence, Risk
    from rootkeys._models import AccessKey

__all__ = ["AccountRules", "Decision", "Next", "Requested", "Settings", "decide"]


class Next(StrEnum):
    """What happens next to a key: the one answer plans, statuses and runs give."""

    MAKE_UNUSABLE = "make unusable"
    """Active: the next run deactivates it (quarantines it, in a member account), then
    observes it for its window."""
    OBSERVE = "observe"
    """Unusable, its window running: runs check it and keep it unusable until ``until``."""
    DELETE = "delete"
    """Unusable for its whole window: the next run deletes it if every check passes."""
    ROLL_BACK = "roll back"
    """A check failed and it is not usable again yet: the next run makes it usable."""
    ON_HOLD = "on hold"
    """Rolled back (or made usable by someone else): no run touches it until a person
    resumes it (``resume`` says how)."""
    PROTECTED = "protected"
    """It signs the session in use: never touched."""
    BLOCKED = "blocked"
    """It cannot be made unusable now (the reason says why and what to do)."""
    DONE = "done"
    """Deleted."""

    @property
    def removes(self) -> bool:
        """Whether a run takes the key on towards deletion."""
        return self in (Next.MAKE_UNUSABLE, Next.OBSERVE, Next.DELETE)

    @property
    def needs_a_person(self) -> bool:
        """Whether no run will move the key until a person acts."""
        return self in (Next.ON_HOLD, Next.BLOCKED)


@dataclass(frozen=True, slots=True)
class Requested:
    """The window a run would give a key now, and why.

    ``lengthens``: whether it may lengthen a window a key already has (an explicit
    window does; a policy sets a key's window once, when the window starts).
    """

    window: timedelta
    reason: str
    lengthens: bool = True


@dataclass(frozen=True)
class Settings:
    """What a removal asks of every key: its window (one, or by policy), the check interval.

    ``window``: the window every key gets (one ``observe_for``, or a policy's ``fixed``
    one); ``policy``: the `RemovalPolicy` that gives each key its own, if one does.
    `requested` turns them into the window a run asks `decide` to give each key.
    """

    window: timedelta | None
    policy: RemovalPolicy | None
    interval: timedelta

    @classmethod
    def of(cls, observe_for: object, check_interval: object | None = None) -> Settings:
        """Validated settings (`InputError` before any AWS call)."""
        window, policy, interval = resolve_windows(observe_for, check_interval)
        return cls(window, policy, interval)

    @property
    def longest(self) -> timedelta:
        """The longest window any key may get."""
        if self.policy is not None:
            return max(self.policy.windows)
        return self.window or timedelta(0)

    @property
    def needs_evidence(self) -> bool:
        """Whether a key's window (or its account's block) may depend on its use."""
        policy = self.policy
        return policy is not None and (policy.by_risk or policy.sign_in_blocks is not None)

    def restrict(
        self,
        rules: AccountRules,
        keys: Sequence[AccessKey],
        now: datetime,
        last_sign_in: Callable[[], datetime | None],
    ) -> AccountRules:
        """``rules``, with the account blocked if the policy's ``sign_in_blocks`` says so.

        Only an account made unusable by a quarantine (which locks the console out too).
        """
        if self.policy is None or rules.cannot_make_unusable or not rules.account_wide:
            return rules
        blocked = self.policy.blocked_by_sign_in(keys, now, last_sign_in)
        return rules if blocked is None else replace(rules, cannot_make_unusable=blocked)

    def chosen(self, key_id: str, account_id: str) -> tuple[timedelta, str] | None:
        """The window set for the key whatever its risk, and why; None: by its risk."""
        if self.policy is None:
            return self.window or timedelta(0), ""
        return self.policy.chosen(key_id, account_id)

    def requested(
        self,
        keys: Sequence[AccessKey],
        memory: Mapping[str, KeyMemory],
        evidence: Mapping[str, KeyEvidence],
        now: datetime,
        account_id: str,
    ) -> tuple[dict[str, Requested], dict[str, Risk]]:
        """The window a run gives each key of ``account_id`` now, and each key's risk.

        A window set for a key (one window for every key, or a policy's window for the
        key, its account, or every key) lengthens a shorter remembered one. A policy
        sets a window by risk once, when the key's window starts: a key whose window is
        remembered keeps it.
        """
        requested: dict[str, Requested] = {}
        risks: dict[str, Risk] = {}
        for key in keys:
            chosen = self.chosen(key.key_id, account_id)
            if chosen is not None:
                window, why = chosen
                requested[key.key_id] = Requested(window, f"{why}: {span(window)}" if why else "")
                continue
            known = memory.get(key.key_id)
            if self.policy is None or (known is not None and known.window is not None):
                continue
            risk, why = self.policy.classify(key, evidence.get(key.key_id), now)
            window = self.policy.window(risk)
            risks[key.key_id] = risk
            requested[key.key_id] = Requested(
                window, f"{risk.value} ({why}): {span(window)}", lengthens=False
            )
        return requested, risks


@dataclass(frozen=True, slots=True)
class AccountRules:
    """What the kind of account changes in the decision.

    Attributes:
        unusable: how a key is made unusable (Inactive in one account; Quarantined in a
            member account, where the quarantine SCP is account-wide).
        cannot_make_unusable: why no key of the account can be made unusable now (AWS's
            limit of 5 SCPs), or None.
        resume: how a person resumes a held key (``{key_id}`` and ``{account_id}`` are
            filled in).
    """

    unusable: KeyState = KeyState.INACTIVE
    cannot_make_unusable: str | None = None
    resume: str = "rootkeys resume {key_id}, or manager.resume('{key_id}')"

    @property
    def account_wide(self) -> bool:
        """Whether making one key unusable makes every Active key of the account so."""
        return self.unusable is KeyState.QUARANTINED


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens next to one key, and why.

    Attributes:
        key_id: the key.
        state: its lifecycle state now (Deleted once gone).
        next: what happens next.
        reason: why, in one sentence.
        window: the key's observation window (remembered, or what the next run gives
            it); None when not known yet.
        window_reason: why the window is that long.
        since: when its window (or its hold) began.
        until: when its window ends: the earliest time it may be deleted.
        resume: for a key that needs a person, the call that moves it on.
    """

    key_id: str
    state: KeyState
    next: Next
    reason: str
    window: timedelta | None = None
    window_reason: str = ""
    since: datetime | None = None
    until: datetime | None = None
    resume: str | None = None

    @property
    def deletes_now(self) -> bool:
        """Whether the next run deletes the key, if its checks pass.

        Its window is over, or it is made unusable with a zero window.
        """
        return self.next is Next.DELETE or (
            self.next is Next.MAKE_UNUSABLE and self.window == timedelta(0)
        )


def decide(
    states: Mapping[str, KeyState],
    memory: Mapping[str, KeyMemory],
    *,
    now: datetime,
    requested: Mapping[str, Requested] | None = None,
    protected: str | None = None,
    rules: AccountRules | None = None,
    account_id: str = "",
) -> dict[str, Decision]:
    """What happens next to each key in ``states`` (the keys AWS lists now).

    Args:
        states: each listed key's lifecycle state now.
        memory: what the journal remembers of each key, reconciled with ``states``.
        now: the time the decision is for.
        requested: the window a run would give each key (none: a status without one).
        protected: the key that signs the session in use, if any.
        rules: what the kind of account changes (default: one account, Inactive).
        account_id: the account, to fill in the resume call.
    """
    rules = rules or AccountRules()
    asked = requested or {}
    out: dict[str, Decision] = {}
    for key_id, state in states.items():
        known = memory.get(key_id) or KeyMemory(key_id)
        out[key_id] = _one(key_id, state, known, now, asked.get(key_id), protected, rules)
    if rules.account_wide:
        out = _account_wide(out, memory)
    return {
        key_id: _with_resume(d, rules, account_id) if d.next.needs_a_person else d
        for key_id, d in out.items()
    }


def _one(
    key_id: str,
    state: KeyState,
    known: KeyMemory,
    now: datetime,
    asked: Requested | None,
    protected: str | None,
    rules: AccountRules,
) -> Decision:
    if key_id == protected:
        return Decision(key_id, state, Next.PROTECTED, SELF_KEY_REASON)
    if known.rollback_pending:
        reason = f"a check failed ({known.hold}): rootkeys makes it usable again"
        return Decision(key_id, state, Next.ROLL_BACK, reason, since=known.hold_since)
    if state is KeyState.DELETED:
        return Decision(key_id, state, Next.DONE, "deleted", since=known.gone_at)
    window, why = (asked.window, asked.reason) if asked else (None, "")
    if state.usable:
        if known.hold:
            return Decision(key_id, state, Next.ON_HOLD, known.hold, since=known.hold_since)
        if rules.cannot_make_unusable:
            return Decision(key_id, state, Next.BLOCKED, rules.cannot_make_unusable)
        how = "quarantined" if rules.account_wide else "deactivated"
        reason = f"Active: {how} first, so whatever still uses it fails reversibly"
        until = now + window if window is not None else None
        return Decision(key_id, state, Next.MAKE_UNUSABLE, reason, window, why, None, until)
    start = known.window_start or now  # reconciled: a key unusable with no window starts now
    if known.window is not None:
        if asked is None or not asked.lengthens or asked.window <= known.window:
            window, why = known.window, known.window_reason
        else:
            why = f"lengthened from {span(known.window)}" + (f": {why}" if why else "")
    if window is None:
        reason = f"{state.value}: observed; its window is set by the next run"
        return Decision(key_id, state, Next.OBSERVE, reason, None, "", start, None)
    until = start + window
    if until > now:
        reason = f"{state.value} since {stamp(start, near=until)}; checks run until the window ends"
        return Decision(key_id, state, Next.OBSERVE, reason, window, why, start, until)
    reason = f"{state.value} for its whole window ({span(window)}): deleted if every check passes"
    return Decision(key_id, state, Next.DELETE, reason, window, why, start, until)


def _account_wide(out: dict[str, Decision], memory: Mapping[str, KeyMemory]) -> dict[str, Decision]:
    """The quarantine is one SCP for the whole account: a held or rolled-back key holds all.

    While one key is on hold, quarantining any other would make it unusable again, so
    the other Active keys wait for it. While a rollback is being finished, releasing the
    quarantine makes every quarantined key usable: each is rolled back with it.
    """
    held = [d for d in out.values() if d.next is Next.ON_HOLD]
    rolling = [d for d in out.values() if d.next is Next.ROLL_BACK]
    changed = dict(out)
    for key_id, d in out.items():
        if held and d.next is Next.MAKE_UNUSABLE:
            first = held[0]
            reason = (
                f"another root key of this account is on hold ({first.key_id}: "
                f"{first.reason}); the account-wide quarantine would make it unusable again"
            )
            changed[key_id] = Decision(key_id, d.state, Next.BLOCKED, reason)
        elif rolling and d.state is KeyState.QUARANTINED and d.next is not Next.ROLL_BACK:
            known = memory.get(key_id)
            reason = (
                f"the account's quarantine is released to roll back {rolling[0].key_id}, "
                "which makes this key usable again too"
            )
            since = known.window_start if known else None
            changed[key_id] = Decision(key_id, d.state, Next.ROLL_BACK, reason, since=since)
    return changed


def _with_resume(decision: Decision, rules: AccountRules, account_id: str) -> Decision:
    if decision.next is Next.BLOCKED and rules.cannot_make_unusable:
        return decision  # the reason says what to do (detach an SCP)
    return replace(
        decision, resume=rules.resume.format(key_id=decision.key_id, account_id=account_id)
    )


SELF_KEY_REASON = (
    "signs the current session, so it is never touched; remove it from AWS CloudShell "
    "signed in as root, from an AssumeRoot session, or while signed with the other key"
)


rehome(globals())
