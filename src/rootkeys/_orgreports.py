"""What an organization's audit and removal report, account by account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._models import AccessKey, AccountId, CredentialKind
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular, clip, stamp
from rootkeys._reports import KeyOutcome, RemovalReport

__all__ = [
    "AccountAudit",
    "AccountOutcome",
    "AccountRemoval",
    "AuditStatus",
    "OrganizationReport",
    "QuarantineStatus",
    "account_result",
    "unreachable",
]


class AuditStatus(StrEnum):
    """How auditing one account went."""

    AUDITED = "audited"
    OUT_OF_REACH = "out of reach"
    SKIPPED = "skipped"
    FAILED = "failed"


class AccountAudit(Tabular, BaseModel):
    """One account's root keys, as an audit session saw them."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    name: str = ""
    status: AuditStatus
    keys: tuple[AccessKey, ...] = ()
    keys_present: bool | None = Field(
        default=None, description="AccountAccessKeysPresent: what CIS 1.4 judges."
    )
    reason: str = ""

    def _table(self, wide: bool = False) -> Table:
        rows = [(k.key_id, k.status.value, _last_used(k, wide)) for k in self.keys]
        title = f"Account {self.account_id} {self.name}: {self.status.value}".replace("  ", " ")
        after = [self.reason] if self.reason else []
        empty = "no root access keys" if self.status is AuditStatus.AUDITED else ""
        return Table(title, ("key", "status", "last used"), rows, after=after, empty=empty)


class AccountOutcome(StrEnum):
    """How an organization removal ended for one account."""

    DONE = "done"
    NOTHING_TO_DO = "nothing to do"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    ON_HOLD = "on hold"
    BLOCKED = "blocked"
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    OUT_OF_REACH = "out of reach"
    SKIPPED = "skipped"


class QuarantineStatus(StrEnum):
    """The quarantine SCP on an account once its pass is over."""

    NONE = "none"
    ATTACHED = "attached"
    """Still attached: keys are observing (or a rollback could not detach it)."""
    DETACHED = "detached"
    """Detached after every key was deleted (or by the rollback)."""
    KEPT = "kept"
    """Kept as a permanent guardrail, as asked (``keep_quarantine=True``)."""


class AccountRemoval(Tabular, BaseModel):
    """One member account's result in an organization removal."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    name: str = ""
    outcome: AccountOutcome
    reason: str = ""
    quarantine: QuarantineStatus = QuarantineStatus.NONE
    observing_until: datetime | None = Field(
        default=None, description="When the last observing key's window ends."
    )
    report: RemovalReport | None = Field(
        default=None, description="The account's removal report (its last pass)."
    )
    passes: int = Field(default=0, description="How many passes this run made over it.")
    hook_errors: tuple[str, ...] = Field(
        default=(),
        description="The hooks that raised in this account over the run (a notification "
        "that failed among them): the report's, and those told the account's outcome.",
    )

    def _table(self, wide: bool = False) -> Table:
        if self.report is not None:
            return self.report._table(wide)
        title = f"Account {self.account_id} {self.name}: {self.outcome.value}".replace("  ", " ")
        return Table(title, (), (), after=[self.reason] if self.reason else [], empty="")


class OrganizationReport(Tabular, BaseModel):
    """Every selected account's result in an organization removal."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    started_at: datetime
    finished_at: datetime
    accounts: tuple[AccountRemoval, ...]

    def with_outcome(self, outcome: AccountOutcome) -> tuple[AccountRemoval, ...]:
        """The accounts that ended with ``outcome``."""
        return tuple(a for a in self.accounts if a.outcome is outcome)

    @property
    def counts(self) -> dict[AccountOutcome, int]:
        """How many accounts ended with each outcome (those that occurred)."""
        found: dict[AccountOutcome, int] = {}
        for account in self.accounts:
            found[account.outcome] = found.get(account.outcome, 0) + 1
        return found

    def _table(self, wide: bool = False) -> Table:
        ordered = sorted(self.accounts, key=lambda a: a.account_id)
        rows: list[tuple[str, ...]]
        if wide:
            header: tuple[str, ...] = (
                "account", "name", "outcome", "deleted", "quarantine", "reason"
            )  # fmt: skip
            rows = [
                (
                    a.account_id,
                    a.name,
                    a.outcome.value,
                    str(len(a.report.deleted)) if a.report else "",
                    a.quarantine.value,
                    a.reason,
                )
                for a in ordered
            ]
        else:  # the reason says how many keys were deleted
            header = ("account", "name", "outcome", "quarantine", "reason")
            rows = [
                (a.account_id, clip(a.name, 20), a.outcome.value, a.quarantine.value, a.reason)
                for a in ordered
            ]
        summary = ", ".join(f"{n} {o.value}" for o, n in self.counts.items())
        after = [f"hook error in {a.account_id}: {e}" for a in ordered for e in a.hook_errors]
        return Table(
            f"Organization removal {stamp(self.started_at)}: " + (summary or "no accounts"),
            header,
            rows,
            after=after,
            empty="no accounts selected",
        )


def _last_used(key: AccessKey, wide: bool) -> str:
    if key.last_used is None:
        return "never"
    return stamp(key.last_used.at) if wide else f"{key.last_used.at:%Y-%m-%d}"


def account_result(
    account_id: str, name: str, report: RemovalReport, quarantine: QuarantineStatus
) -> AccountRemoval:
    outcome = AccountOutcome(report.outcome.value)
    until = max((k.observing_until for k in report.keys if k.observing_until), default=None)
    if report.check_failure is not None:
        reason = f"check {report.check_failure.check!r} failed: {report.check_failure.reason}"
    elif outcome is AccountOutcome.OBSERVING and until is not None:
        passing = "checks passing" if report.checks_run else "no checks ran"
        reason = f"keys unusable, {passing}; observing until {stamp(until)}"
    elif outcome is AccountOutcome.DONE:
        reason = _deleted(report.deleted)
    elif outcome is AccountOutcome.NOTHING_TO_DO:
        reason = "no root credential to remove" if not report.keys else "nothing left to remove"
    else:
        told: dict[tuple[str, str], list[str]] = {}  # one reason, told once for its keys
        for k in report.keys:
            if k.outcome not in (KeyOutcome.DELETED, KeyOutcome.OBSERVING):
                told.setdefault((k.outcome.value, k.reason), []).append(k.key_id)
        reason = "; ".join(f"{', '.join(ids)}: {o}: {r}" for (o, r), ids in told.items())
    return AccountRemoval(
        account_id=account_id,
        name=name,
        outcome=outcome,
        reason=reason,
        quarantine=quarantine,
        observing_until=until,
        report=report,
    )


def _deleted(ids: tuple[str, ...]) -> str:
    """What a finished account's removal deleted, by kind, and what the summary confirms."""
    kinds = [CredentialKind.of(i) for i in ids]
    if set(kinds) <= {CredentialKind.KEYS}:
        return f"{len(ids)} key(s) deleted; AccountAccessKeysPresent is 0"
    counts = [(kind, kinds.count(kind)) for kind in CredentialKind if kind in kinds]
    shown = [k.noun if k is CredentialKind.PASSWORD else f"{n} {k.noun}(s)" for k, n in counts]
    return ", ".join(shown) + " deleted; none remain"


def unreachable(account: dict[str, str], outcome: AccountOutcome, reason: str) -> AccountRemoval:
    """The result for an account no pass is made over (management, suspended)."""
    return AccountRemoval(
        account_id=account["Id"], name=account["Name"], outcome=outcome, reason=reason
    )


rehome(globals())
