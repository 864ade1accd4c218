"""The sandbox's ledger of root credentials: every change of status, deletion and quarantine.

It follows the root user's access keys and X.509 signing certificates alike (both have an
Active/Inactive status). Tests (and the fault campaign) judge rootkeys' promises from it:
a credential may only be deleted while unusable, and only after a whole window of being
unusable. It is kept from the sandbox's own state, so it sees what really happened,
whatever the journal says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from rootkeys._models import KeyStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["KeyChange", "Ledger"]


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One root key's or signing certificate's state changing, as the sandbox saw it (no secret).

    Attributes:
        at: when, on the sandbox's clock.
        account_id: the credential's account.
        key_id: the access key id, or the signing certificate's id (see `kind`).
        status: its IAM status after the change; None once deleted.
        quarantined: whether the account's quarantine SCP denied the root user after it.
        by: who made the change: ``root``, ``assumed-root``, ``admin``, ``user`` or
            ``sandbox`` (a test's own hand, e.g. `Sandbox.set_root_key_status`).
        was_usable: whether the key could sign requests just before the change.
    """

    at: datetime
    account_id: str
    key_id: str
    status: KeyStatus | None
    quarantined: bool
    by: str
    was_usable: bool

    @property
    def kind(self) -> Literal["key", "certificate"]:
        """Which credential changed, told by its id.

        An access key id is ``AKIA`` (or ``ASIA``) and 16 characters; a signing
        certificate id is 24 to 128 characters.
        """
        is_key = len(self.key_id) == 20 and self.key_id.startswith(("AKIA", "ASIA"))
        return "key" if is_key else "certificate"

    @property
    def usable(self) -> bool:
        """Whether the key can sign requests after the change."""
        return self.status is KeyStatus.ACTIVE and not self.quarantined

    @property
    def deleted(self) -> bool:
        """Whether this change is the key's deletion."""
        return self.status is None


@dataclass
class Ledger:
    """Compares each account's credentials with what it saw last; records the differences."""

    changes: list[KeyChange] = field(default_factory=list)
    _seen: dict[str, dict[str, tuple[KeyStatus, bool]]] = field(default_factory=dict)

    def observe(
        self,
        account_id: str,
        keys: Mapping[str, KeyStatus],
        *,
        quarantined: bool,
        at: datetime,
        by: str,
    ) -> None:
        """Record every credential whose status or quarantine differs from before.

        Args:
            account_id: the account.
            keys: every root access key and signing certificate of the account, by id.
            quarantined: whether the account's quarantine SCP denies the root user.
            at: now, on the sandbox's clock.
            by: who made the change (see `KeyChange.by`).
        """
        before = self._seen.get(account_id, {})
        now = {key_id: (status, quarantined) for key_id, status in keys.items()}
        for key_id in sorted(before.keys() | now.keys()):
            old, new = before.get(key_id), now.get(key_id)
            if old == new:
                continue
            self.changes.append(
                KeyChange(
                    at=at,
                    account_id=account_id,
                    key_id=key_id,
                    status=new[0] if new else None,
                    quarantined=new[1] if new else old[1] if old else False,
                    by=by,
                    was_usable=old is not None and old[0] is KeyStatus.ACTIVE and not old[1],
                )
            )
        self._seen[account_id] = now
