"""Where each root key stands: `RootKeyManager.status` as a model that renders as a table."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._memory import KeyMemory
from rootkeys._models import AccessKeyId, AccountId, CallerIdentity, KeyStatus
from rootkeys._plan import SELF_KEY_REASON
from rootkeys._render import Table, Tabular

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["KeyProgress", "RemovalStatus", "Stage", "describe"]


class Stage(StrEnum):
    """A key's stage in a removal."""

    ACTIVE = "active"
    """Usable; the next run deactivates it."""
    OBSERVING = "observing"
    """Unusable, its window running."""
    READY = "ready to delete"
    """Its window has passed; the next run deletes it if every check passes."""
    ON_HOLD = "on hold"
    """Active again after a rollback or someone else's reactivation: needs a person."""
    BLOCKED = "blocked"
    """It signs the session in use: never touched."""
    DELETED = "deleted"


class KeyProgress(BaseModel):
    """One key's stage, since when, and what comes next."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key_id: AccessKeyId
    status: KeyStatus | None = Field(description="IAM's status; None once deleted.")
    stage: Stage
    since: datetime | None = Field(description="When the stage began, if the journal knows.")
    next_action: str
    next_at: datetime | None = Field(description="The earliest time of the next action.")
    blockers: tuple[str, ...] = ()


class RemovalStatus(Tabular, BaseModel):
    """Every root key of an account and where it stands."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    at: datetime
    observe_for: timedelta | None = None
    keys: tuple[KeyProgress, ...]

    def _table(self) -> Table:
        rows = [
            (
                k.key_id,
                k.stage.value,
                f"{k.since:%Y-%m-%d %H:%M}" if k.since else "",
                k.next_action,
                f"{k.next_at:%Y-%m-%d %H:%M}" if k.next_at else "",
                "; ".join(k.blockers),
            )
            for k in self.keys
        ]
        return Table(
            f"Root keys of account {self.account_id} at {self.at:%Y-%m-%d %H:%M} UTC",
            ("key", "stage", "since (UTC)", "next", "not before (UTC)", "blockers"),
            rows,
            empty="no root access keys, and none in the journal",
        )


def describe(
    identity: CallerIdentity,
    statuses: Mapping[str, KeyStatus],
    memory: Mapping[str, KeyMemory],
    now: datetime,
    observe_for: timedelta | None,
) -> RemovalStatus:
    """The status of every key IAM lists or the journal remembers."""
    keys: list[KeyProgress] = []
    for key_id, status in statuses.items():
        known = memory.get(key_id) or KeyMemory(key_id)
        first_seen = known.records[0].at if known.records else None
        blockers: tuple[str, ...] = ()
        if key_id == identity.signing_key_id:
            stage, since, action, at = Stage.BLOCKED, first_seen, "none", None
            blockers = (SELF_KEY_REASON,)
        elif status is KeyStatus.ACTIVE and known.hold:
            last = known.records[-1].at if known.records else None
            stage, since, action, at = Stage.ON_HOLD, last, "deactivate() to start over", None
            blockers = (known.hold,)
        elif status is KeyStatus.ACTIVE:
            stage, since, action, at = Stage.ACTIVE, first_seen, "deactivate", now
        elif known.rollback_pending:
            last = known.records[-1].at if known.records else None
            stage, since, action, at = Stage.ON_HOLD, last, "reactivate (finish the rollback)", now
            blockers = (known.hold or "",)
        else:
            since = known.window_start
            at = since + observe_for if since and observe_for is not None else None
            stage = Stage.READY if at is not None and at <= now else Stage.OBSERVING
            action = "delete, if every check passes"
        keys.append(
            KeyProgress(
                key_id=key_id,
                status=status,
                stage=stage,
                since=since,
                next_action=action,
                next_at=at,
                blockers=blockers,
            )
        )
    for key_id, known in memory.items():
        if key_id not in statuses and known.gone_at is not None:
            keys.append(
                KeyProgress(
                    key_id=key_id,
                    status=None,
                    stage=Stage.DELETED,
                    since=known.gone_at,
                    next_action="none",
                    next_at=None,
                )
            )
    return RemovalStatus(
        account_id=identity.account_id, at=now, observe_for=observe_for, keys=tuple(keys)
    )
