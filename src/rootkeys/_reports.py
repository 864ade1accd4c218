"""What a removal will do (`Plan`) and what it did (`RemovalReport`), key by key."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._findings import (
    CredentialReportRow,
    KeyEvidence,
    Preflight,
    RemovalPolicy,
    Risk,
    when,
)
from rootkeys._models import AccessKey, AccessKeyId, AccountId, KeyState, KeyStatus, Step
from rootkeys._render import Table, Tabular

__all__ = [
    "CheckFailure",
    "KeyOutcome",
    "KeyReport",
    "Plan",
    "PlannedAction",
    "PlannedKey",
    "RemovalReport",
    "RunOutcome",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class PlannedAction(StrEnum):
    """What `RootKeyManager.remove_all` will do with a key."""

    DEACTIVATE_OBSERVE_DELETE = "deactivate, observe, delete"
    QUARANTINE_OBSERVE_DELETE = "quarantine, observe, delete"
    """An Active key in an organization's member account: made unusable by SCP."""
    OBSERVE_DELETE = "observe, delete"
    BLOCKED = "blocked"


class PlannedKey(BaseModel):
    """One key in a plan: what will happen to it, and why."""

    model_config = _FROZEN

    key: AccessKey
    action: PlannedAction
    reason: str
    evidence: KeyEvidence | None = Field(default=None, description="Who has used the key.")
    risk: Risk | None = Field(default=None, description="From the evidence, with a policy.")
    window: timedelta | None = Field(default=None, description="The window the key will get.")
    window_reason: str = ""


class Plan(Tabular, BaseModel):
    """What a removal run will do in one account, computed before any change."""

    model_config = _FROZEN

    account_id: AccountId
    caller_arn: str
    created_at: datetime
    observe_for: timedelta | None = Field(
        default=None, description="The observation window, when one was given."
    )
    keys: tuple[PlannedKey, ...]
    preflight: Preflight | None = None
    credential_report: CredentialReportRow | None = None
    credential_report_unavailable: str | None = None
    policy: RemovalPolicy | None = Field(
        default=None, description="The policy that chose each key's window, if one did."
    )

    @property
    def removable(self) -> tuple[PlannedKey, ...]:
        """The keys the run will take through the lifecycle."""
        return tuple(k for k in self.keys if k.action is not PlannedAction.BLOCKED)

    @property
    def blocked(self) -> tuple[PlannedKey, ...]:
        """The keys the run will not touch, each with its reason."""
        return tuple(k for k in self.keys if k.action is PlannedAction.BLOCKED)

    def _table(self) -> Table:
        rows = [
            (
                k.key.key_id,
                k.key.status.value,
                when(k.key.last_used.at) if k.key.last_used else "never",
                k.risk.value if k.risk else "",
                str(k.window) if k.window is not None else "",
                k.action.value,
                k.reason,
            )
            for k in self.keys
        ]
        title = f"Plan for account {self.account_id} (caller {self.caller_arn})"
        if self.observe_for is not None:
            title += f", observation window {self.observe_for}"
        before = []
        if self.preflight:
            before += [f"WARNING: {w}" for w in self.preflight.warnings]
            before += [f"(not checked: {u})" for u in self.preflight.unavailable]
        after = [
            f"evidence {k.key.key_id}: {k.evidence.summary()}" for k in self.keys if k.evidence
        ]
        after += [f"window {k.key.key_id}: {k.window_reason}" for k in self.keys if k.window_reason]
        if self.credential_report is not None:
            report = self.credential_report
            active = sum(k.key.status is KeyStatus.ACTIVE for k in self.keys)
            note = (
                "agrees"
                if report.active_keys == active
                else f"shows {report.active_keys} active key(s), IAM lists {active} (the report "
                "may predate recent changes)"
            )
            after.append(f"credential report of {when(report.generated_at)}: {note}")
        elif self.credential_report_unavailable:
            after.append(f"credential report unavailable: {self.credential_report_unavailable}")
        return Table(
            title,
            ("key", "status", "last used", "risk", "window", "action", "why"),
            rows,
            before,
            after,
            "the root user has no access keys: nothing to do",
        )


class KeyOutcome(StrEnum):
    """How a removal run ended for one key."""

    DELETED = "deleted"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    KEPT = "kept"
    BLOCKED = "blocked"
    UNVERIFIED = "unverified"
    FAILED = "failed"


class CheckFailure(BaseModel):
    """The observation check that failed, and why."""

    model_config = _FROZEN

    check: str
    key_id: AccessKeyId
    reason: str
    at: datetime


class KeyReport(BaseModel):
    """What a removal run did to one key."""

    model_config = _FROZEN

    key_id: AccessKeyId
    initial_status: KeyStatus
    final_state: KeyState | None = Field(description="None when it could not be confirmed.")
    outcome: KeyOutcome
    reason: str
    steps: tuple[Step, ...] = ()
    observing_until: datetime | None = Field(
        default=None, description="For a key still observing: when its window ends."
    )
    window: timedelta | None = Field(default=None, description="The key's observation window.")


class RunOutcome(StrEnum):
    """How a removal run ended for the account as a whole."""

    DONE = "done"
    NOTHING_TO_DO = "nothing to do"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    BLOCKED = "blocked"
    INCOMPLETE = "incomplete"


class RemovalReport(Tabular, BaseModel):
    """What `RootKeyManager.remove_all` did, key by key, and how it ended."""

    model_config = _FROZEN

    run_id: str
    account_id: AccountId
    started_at: datetime
    finished_at: datetime
    observe_for: timedelta
    outcome: RunOutcome
    keys: tuple[KeyReport, ...]
    check_failure: CheckFailure | None = None
    checks_run: int = 0
    keys_present: bool | None = Field(
        default=None,
        description="AccountAccessKeysPresent after the run; None if it was not read.",
    )
    hook_errors: tuple[str, ...] = ()

    def _with(self, outcome: KeyOutcome) -> tuple[str, ...]:
        return tuple(k.key_id for k in self.keys if k.outcome is outcome)

    @property
    def deleted(self) -> tuple[str, ...]:
        """Ids of the keys this run deleted."""
        return self._with(KeyOutcome.DELETED)

    @property
    def rolled_back(self) -> tuple[str, ...]:
        """Ids of the keys this run deactivated and then reactivated."""
        return self._with(KeyOutcome.ROLLED_BACK)

    @property
    def blocked(self) -> tuple[str, ...]:
        """Ids of the keys this run would not touch."""
        return self._with(KeyOutcome.BLOCKED)

    def _table(self) -> Table:
        title = (
            f"Run {self.run_id} in account {self.account_id}: {self.outcome.value} "
            f"({self.checks_run} checks run, window {self.observe_for})"
        )
        before = []
        if self.check_failure:
            f = self.check_failure
            before.append(f"check {f.check!r} failed for {f.key_id}: {f.reason}")
        rows = [
            (
                k.key_id,
                k.initial_status.value,
                k.final_state.value if k.final_state else "unknown",
                k.outcome.value,
                k.reason,
            )
            for k in self.keys
        ]
        after = []
        if self.keys_present is not None:
            present = "1 (root keys remain)" if self.keys_present else "0"
            after.append(f"AccountAccessKeysPresent: {present}")
        after += [f"hook error: {e}" for e in self.hook_errors]
        return Table(
            title,
            ("key", "was", "now", "outcome", "why"),
            rows,
            before,
            after,
            "no root access keys",
        )
