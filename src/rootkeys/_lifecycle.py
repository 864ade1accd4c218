"""The lifecycle of a root access key, as data.

::

    Active ──deactivate──▶ Inactive ──delete──▶ Deleted
       ▲                      │
       └──────reactivate──────┘   (rollback: the only way back)

    Expired ──delete──▶ Deleted   (an expired key is already unusable)

    Active ──quarantine──▶ Quarantined ──delete──▶ Deleted   (organizations)
       ▲                        │
       └────────release─────────┘

In an organization's member account, AssumeRoot may delete a root key but not deactivate
it, so the unusable stage is reached by attaching the quarantine SCP to the account
(Quarantined: Active in IAM, denied by the SCP); detaching it is the rollback.

`TRANSITIONS` is the whole truth; `decide` is the one function that reads it. Every
change rootkeys makes asks `decide` first, before any AWS call.
"""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from rootkeys._errors import IllegalTransitionError, InputError
from rootkeys._findings import RemovalPolicy, Risk
from rootkeys._models import Action, KeyState, validate_account_id, validate_credential_id
from rootkeys._render import span

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_WINDOW", "TRANSITIONS", "decide", "resolve_windows", "validate_window"]

TRANSITIONS: Mapping[tuple[KeyState, KeyState], Action] = MappingProxyType(
    {
        (KeyState.ACTIVE, KeyState.INACTIVE): Action.DEACTIVATE,
        (KeyState.INACTIVE, KeyState.ACTIVE): Action.REACTIVATE,
        (KeyState.INACTIVE, KeyState.DELETED): Action.DELETE,
        (KeyState.EXPIRED, KeyState.DELETED): Action.DELETE,
        (KeyState.ACTIVE, KeyState.QUARANTINED): Action.QUARANTINE,
        (KeyState.QUARANTINED, KeyState.ACTIVE): Action.RELEASE,
        (KeyState.QUARANTINED, KeyState.DELETED): Action.DELETE,
    }
)
"""Every allowed (from, to) pair and the action that makes it."""

_WHY_NOT: Mapping[tuple[KeyState, KeyState], str] = MappingProxyType(
    {
        (KeyState.ACTIVE, KeyState.DELETED): (
            "an Active key is never deleted; deactivate it and observe first"
        ),
        (KeyState.EXPIRED, KeyState.ACTIVE): "rootkeys only reactivates keys it deactivated",
        (KeyState.EXPIRED, KeyState.INACTIVE): "an Expired key is already unusable",
        (KeyState.ACTIVE, KeyState.EXPIRED): "rootkeys never expires keys",
        (KeyState.INACTIVE, KeyState.EXPIRED): "rootkeys never expires keys",
        (KeyState.QUARANTINED, KeyState.EXPIRED): "rootkeys never expires keys",
        (KeyState.EXPIRED, KeyState.QUARANTINED): "an Expired key is already unusable",
        (KeyState.INACTIVE, KeyState.QUARANTINED): "an Inactive key is already unusable",
        (KeyState.QUARANTINED, KeyState.INACTIVE): (
            "a quarantined key is already unusable (and AssumeRoot cannot deactivate keys)"
        ),
    }
)


def decide(key_id: str, current: KeyState, target: KeyState) -> Action | None:
    """Return the action that takes ``key_id`` from ``current`` to ``target``.

    Returns None when the key is already in ``target`` (nothing to do: idempotent).
    Raises `IllegalTransitionError` for every pair not in `TRANSITIONS`.
    """
    if current is target:
        return None
    action = TRANSITIONS.get((current, target))
    if action is None:
        reason = _WHY_NOT.get((current, target), "")
        if current is KeyState.DELETED:
            reason = "a deleted key is gone for good"
        raise IllegalTransitionError(key_id, current.value, target.value, reason)
    return action


MAX_WINDOW = timedelta(days=366)
"""The longest observation window accepted; longer is almost surely a unit mistake."""


def validate_window(
    observe_for: object, check_interval: object | None
) -> tuple[timedelta, timedelta]:
    """Check an observation window and its check interval; fill in the interval.

    The window must be a `timedelta` from zero (asked for explicitly) to `MAX_WINDOW`.
    The interval, when given, must be positive; by default it is a tenth of the window,
    kept between one second and one hour. Checks also always run at the window's end.
    """
    if not isinstance(observe_for, timedelta):
        raise InputError(
            f"observe_for must be a datetime.timedelta, not {type(observe_for).__name__}"
        )
    if observe_for < timedelta(0):
        raise InputError(f"observe_for must not be negative, got {_shown(observe_for)}")
    if observe_for > MAX_WINDOW:
        raise InputError(
            f"observe_for must be at most {MAX_WINDOW.days} days, got {_shown(observe_for)}"
        )
    if check_interval is None:
        interval = min(max(observe_for / 10, timedelta(seconds=1)), timedelta(hours=1))
    elif not isinstance(check_interval, timedelta):
        raise InputError(
            f"check_interval must be a datetime.timedelta, not {type(check_interval).__name__}"
        )
    elif check_interval <= timedelta(0):
        raise InputError(f"check_interval must be positive, got {_shown(check_interval)}")
    else:
        interval = check_interval
    return observe_for, interval


def resolve_windows(
    observe_for: object, check_interval: object | None
) -> tuple[timedelta | None, RemovalPolicy | None, timedelta]:
    """One window for every key, or a policy (each of its windows and ids checked).

    Returns the window every key gets (a policy's ``fixed`` one, if any), the policy,
    and the check interval (by default from the longest window a key may get).
    """
    if isinstance(observe_for, RemovalPolicy):
        for risk in Risk:
            validate_window(observe_for.window(risk), None)
        for account_id in observe_for.accounts:
            validate_account_id(account_id)
        for key_id in observe_for.keys:
            validate_credential_id(key_id)
        for window in observe_for.windows:
            validate_window(window, None)
        blocks = observe_for.sign_in_blocks
        if blocks is not None and not timedelta(0) < blocks <= timedelta(days=90):
            raise InputError(
                f"sign_in_blocks must be more than 0 and at most 90 days, got {_shown(blocks)}"
            )
        _, interval = validate_window(max(observe_for.windows), check_interval)
        return observe_for.fixed, observe_for, interval
    window, interval = validate_window(observe_for, check_interval)
    return window, None, interval


def validate_consistency_timeout(timeout: object) -> timedelta:
    """How long to read IAM after a change until it shows: a non-negative `timedelta`."""
    if not isinstance(timeout, timedelta):
        raise InputError(
            f"consistency_timeout must be a datetime.timedelta, not {type(timeout).__name__}"
        )
    if timeout < timedelta(0):
        raise InputError(f"consistency_timeout must not be negative, got {_shown(timeout)}")
    return timeout


def _shown(duration: timedelta) -> str:
    """A duration as a person writes it, negative ones too (``-1s``, not ``-1 day, 23:59:59``)."""
    if duration < timedelta(0):
        return "-" + _shown(-duration)
    if duration < timedelta(seconds=1):
        return f"{duration.total_seconds():g}s"
    return span(duration)
