"""Plans: what a removal run will do with each key, and why, decided before any change.

`make_plan` is shared by `RootKeyManager` (one account, signed in as root) and
`Organization` (member accounts through AssumeRoot, made unusable by the quarantine SCP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rootkeys._models import KeyState
from rootkeys._reports import Plan, PlannedAction, PlannedKey

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime, timedelta

    from rootkeys._findings import KeyEvidence, RemovalPolicy
    from rootkeys._models import AccessKey

__all__ = ["SELF_KEY_REASON", "make_plan"]

SELF_KEY_REASON = (
    "signs the current session, so it is never touched; remove it from AWS CloudShell "
    "signed in as root, from an AssumeRoot session, or while signed with the other key"
)


def make_plan(
    *,
    account_id: str,
    caller_arn: str,
    keys: Sequence[AccessKey],
    now: datetime,
    observe_for: timedelta | None,
    policy: RemovalPolicy | None = None,
    evidence: Mapping[str, KeyEvidence] | None = None,
    signing_key_id: str | None = None,
    unusable: KeyState = KeyState.INACTIVE,
    blocked: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for ``keys``: each key's action, reason and window.

    ``unusable`` is how an Active key is made unusable (Inactive in one account,
    Quarantined in a member account); ``blocked`` maps key ids to why they are left alone.
    """
    found = evidence or {}
    refused = dict(blocked or {})
    if signing_key_id is not None:
        refused.setdefault(signing_key_id, SELF_KEY_REASON)
    planned = []
    for key in keys:
        if key.key_id in refused:
            action, reason = PlannedAction.BLOCKED, refused[key.key_id]
        elif key.state is KeyState.ACTIVE and unusable is KeyState.QUARANTINED:
            action = PlannedAction.QUARANTINE_OBSERVE_DELETE
            reason = (
                "Active: the account's quarantine SCP makes it unusable first, so whatever "
                "still uses it fails reversibly"
            )
        elif key.state is KeyState.ACTIVE:
            action = PlannedAction.DEACTIVATE_OBSERVE_DELETE
            reason = "Active: made unusable first, so whatever still uses it fails reversibly"
        else:
            action = PlannedAction.OBSERVE_DELETE
            reason = f"already {key.state.value}: observed for the window, then deleted"
        risk, why, window = None, "", observe_for
        if policy is not None:
            risk, why = policy.classify(key, found.get(key.key_id), now)
            window = policy.window(risk)
            why = f"{risk.value} ({why}): {window}"
        planned.append(
            PlannedKey(
                key=key,
                action=action,
                reason=reason,
                evidence=found.get(key.key_id),
                risk=risk,
                window=window,
                window_reason=why,
            )
        )
    return Plan(
        account_id=account_id,
        caller_arn=caller_arn,
        created_at=now,
        observe_for=observe_for,
        keys=tuple(planned),
        policy=policy,
    )
