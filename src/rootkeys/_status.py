"""Where each root key stands: `RootKeyManager.status` as a model that renders as a table.

Each row is a `PlannedKey`: the same decision a plan and a run make, so status, plan and
run tell one story.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._models import AccountId
from rootkeys._render import Table, Tabular
from rootkeys._reports import PlannedKey

__all__ = ["RemovalStatus"]


class RemovalStatus(Tabular, BaseModel):
    """Every root key of an account (and every one the journal saw deleted), where it stands."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    at: datetime
    keys: tuple[PlannedKey, ...]
    note: str = Field(default="", description="Why an account has no status (organizations).")

    def _table(self) -> Table:
        rows = [
            (
                k.key_id,
                k.state.value,
                k.next.value,
                f"{k.since:%Y-%m-%d %H:%M}" if k.since else "",
                f"{k.until:%Y-%m-%d %H:%M}" if k.until else "",
                k.reason if k.resume is None else f"{k.reason} (to resume: {k.resume})",
            )
            for k in self.keys
        ]
        return Table(
            f"Root keys of account {self.account_id} at {self.at:%Y-%m-%d %H:%M} UTC",
            ("key", "state", "next", "since (UTC)", "until (UTC)", "why"),
            rows,
            after=[self.note] if self.note else [],
            empty="no root access keys, and none in the journal",
        )
