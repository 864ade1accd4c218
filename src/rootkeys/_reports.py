"""Plans, statuses and removal reports: what will happen, where it stands, what happened.

`Plan` says what the next run will do, `RemovalStatus` where each key stands, and
`RemovalReport` what a run did, key by key. A plan's and a status's rows are the same
`PlannedKey`: the one decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._decide import Next
from rootkeys._findings import (
    CredentialReportRow,
    KeyEvidence,
    Preflight,
    RemovalPolicy,
    Risk,
    when,
)
from rootkeys._models import (
    AccessKey,
    AccountId,
    CredentialId,
    CredentialKind,
    KeyState,
    KeyStatus,
    Step,
)
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular, clip, span, stamp

__all__ = [
    "CheckFailure",
    "KeyOutcome",
    "KeyReport",
    "Plan",
    "PlannedKey",
    "RemovalReport",
    "RemovalStatus",
    "RunOutcome",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class PlannedKey(BaseModel):
    """One key: what happens to it next, and why (a plan's and a status's row).

    The one decision a plan, a status and a run make for the key (see `Next`), with what
    IAM and the evidence say of it.
    """

    model_config = _FROZEN

    key_id: CredentialId
    state: KeyState = Field(description="Its lifecycle state now (Deleted once gone).")
    next: Next = Field(description="What happens to it next.")
    reason: str
    window: timedelta | None = Field(
        default=None, description="Its observation window: remembered, or what the next run gives."
    )
    window_reason: str = ""
    since: datetime | None = Field(default=None, description="When its window or hold began.")
    until: datetime | None = Field(
        default=None, description="When its window ends: the earliest it may be deleted."
    )
    resume: str | None = Field(
        default=None, description="For a key that needs a person: the call that moves it on."
    )
    key: AccessKey | None = Field(default=None, description="IAM's description; None once gone.")
    evidence: KeyEvidence | None = Field(default=None, description="Who has used the key.")
    risk: Risk | None = Field(default=None, description="From the evidence, with a policy.")
    unusable: KeyState = Field(
        default=KeyState.INACTIVE,
        description="How the account makes a key unusable: Inactive, or Quarantined (a "
        "member account's quarantine SCP).",
    )

    @property
    def steps(self) -> str:
        """What the next run does, in words (``deactivate, observe 7d, delete``)."""
        window = "observe" if self.window is None else f"observe {span(self.window)}"
        if self.next is Next.MAKE_UNUSABLE:
            first = "quarantine" if self.unusable is KeyState.QUARANTINED else "deactivate"
            return f"{first}, {window}, delete"
        if self.next is Next.OBSERVE:
            return f"{window}, then delete"
        if self.next is Next.DELETE:
            return "delete, if every check passes"
        if self.next is Next.ROLL_BACK:
            return "make usable again (finish a rollback)"
        return "none"


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
    note: str = Field(default="", description="Why an account has no plan (organizations).")

    @property
    def removable(self) -> tuple[PlannedKey, ...]:
        """The keys the next run takes on towards deletion (made unusable, observed, deleted)."""
        return tuple(k for k in self.keys if k.next.removes)

    @property
    def blocked(self) -> tuple[PlannedKey, ...]:
        """The keys the next run will not touch (protected, on hold, blocked), with why."""
        return tuple(k for k in self.keys if k.next in _UNTOUCHED)

    @property
    def waiting(self) -> tuple[PlannedKey, ...]:
        """The keys that wait for a person (on hold, blocked), each with why.

        A held key carries the call that resumes it; ``blocked`` adds the protected key.
        """
        return tuple(k for k in self.keys if k.next.needs_a_person)

    def _table(self, wide: bool = False) -> Table:
        rows = [_plan_row(k, wide) for k in self.keys]
        header: tuple[str, ...] = ("key", "state", "last used", "next", "what / why")
        if wide:
            header = ("key", "state", "last used", "risk", "window", "next", "what / why")
        header, rows = kinded(header, rows, [k.key_id for k in self.keys])
        title = f"Plan for account {self.account_id}" + (
            f" (caller {self.caller_arn})" if self.caller_arn else ""
        )
        if self.observe_for is not None:
            title += f", window asked for {span(self.observe_for)}"
        before = []
        if self.preflight:
            before += [f"WARNING: {w}" for w in self.preflight.warnings]
            before += [f"(not checked: {u})" for u in self.preflight.unavailable]
        limit = None if wide else 240
        after = [
            f"evidence {k.key_id}: {clip(k.evidence.summary(), limit)}"
            for k in self.keys
            if k.evidence
        ]
        after += [f"window {k.key_id}: {k.window_reason}" for k in self.keys if k.window_reason]
        after += [f"to resume {k.key_id}: {k.resume}" for k in self.keys if k.resume]
        if self.credential_report is not None:
            report = self.credential_report
            active = sum(
                k.key is not None
                and k.key.kind is CredentialKind.KEYS
                and k.key.status is KeyStatus.ACTIVE
                for k in self.keys
            )
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
            header,
            rows,
            before,
            after,
            self.note or "the root user has no credential of the kinds asked: nothing to do",
        )


def _plan_row(k: PlannedKey, wide: bool) -> tuple[str, ...]:
    """A plan's row: compact (the window shows in the steps), or every column (``wide``)."""
    used = k.key.last_used if k.key else None
    what = k.steps if k.next.removes else k.reason
    if not wide:
        return (
            k.key_id,
            k.state.value,
            f"{used.at:%Y-%m-%d}" if used else "never",
            k.next.value,
            what,
        )
    window = span(k.window) if k.window is not None else ""
    risk = k.risk.value if k.risk else ""
    last = when(used.at) if used else "never"
    return (k.key_id, k.state.value, last, risk, window, k.next.value, what)


class RemovalStatus(Tabular, BaseModel):
    """Every root key of an account (and every one the journal saw deleted), where it stands."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    at: datetime
    keys: tuple[PlannedKey, ...]
    note: str = Field(default="", description="Why an account has no status (organizations).")

    def _table(self, wide: bool = False) -> Table:
        rows: list[tuple[str, ...]]
        if wide:
            header: tuple[str, ...] = ("key", "state", "next", "since", "until", "why")
            rows = [
                (k.key_id, k.state.value, k.next.value, _at(k.since), _at(k.until), k.reason)
                for k in self.keys
            ]
        else:
            header = ("key", "state", "next", "until", "why")
            rows = [
                (
                    k.key_id,
                    k.state.value,
                    k.next.value,
                    stamp(k.until, near=k.since) if k.until else "",
                    k.reason,
                )
                for k in self.keys
            ]
        header, rows = kinded(header, rows, [k.key_id for k in self.keys])
        return Table(
            f"Root credentials of account {self.account_id} at {stamp(self.at)}",
            header,
            rows,
            after=[f"to resume {k.key_id}: {k.resume}" for k in self.keys if k.resume],
            empty=self.note or "no root access keys, and none in the journal",
        )


def kinded(
    header: tuple[str, ...], rows: list[tuple[str, ...]], ids: list[str]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """A table's rows led by their kind (``key``, ``cert``, ``password``, ``mfa``).

    Only when a kind other than access keys is among them: a table of access keys alone
    stays as it was.
    """
    kinds = [CredentialKind.of(i) for i in ids]
    if set(kinds) <= {CredentialKind.KEYS}:
        return header, rows
    return ("kind", *header), [(kind.short, *row) for kind, row in zip(kinds, rows, strict=True)]


def _at(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}Z" if at else ""


_UNTOUCHED = (Next.PROTECTED, Next.ON_HOLD, Next.BLOCKED)


class KeyOutcome(StrEnum):
    """How a removal run ended for one key.

    A key the run did not touch ends as its decision said: protected, on hold, blocked.
    """

    DELETED = "deleted"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    KEPT = "kept"
    ON_HOLD = "on hold"
    PROTECTED = "protected"
    BLOCKED = "blocked"
    UNVERIFIED = "unverified"
    FAILED = "failed"


class CheckFailure(BaseModel):
    """The observation check that failed, and why."""

    model_config = _FROZEN

    check: str
    key_id: CredentialId
    reason: str
    at: datetime


class KeyReport(BaseModel):
    """What a removal run did to one key."""

    model_config = _FROZEN

    key_id: CredentialId
    initial_status: KeyStatus
    final_state: KeyState | None = Field(description="None when it could not be confirmed.")
    outcome: KeyOutcome
    reason: str
    steps: tuple[Step, ...] = ()
    decision: Next | None = Field(
        default=None, description="What the run's last pass decided for the key (see `Next`)."
    )
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
    ON_HOLD = "on hold"
    """Every key left waits for a person to resume it (see `Plan.waiting`)."""
    BLOCKED = "blocked"
    """The keys left are protected, or cannot be made unusable now."""
    INCOMPLETE = "incomplete"


class RemovalReport(Tabular, BaseModel):
    """What `RootKeyManager.remove_all` did, key by key, and how it ended."""

    model_config = _FROZEN

    run_id: str
    account_id: AccountId
    started_at: datetime
    finished_at: datetime
    observe_for: timedelta = Field(
        description="The longest observation window of the run's keys (as remembered: a "
        "later run never shortens a window)."
    )
    outcome: RunOutcome
    keys: tuple[KeyReport, ...]
    check_failure: CheckFailure | None = None
    checks_run: int = Field(
        default=0,
        description="How many times the run called your checks: one call of one check for "
        "one key is one run, passed or failed, over every pass. Each is one `CHECK_PASSED` "
        "or `CHECK_FAILED` event. rootkeys' own reading that the keys are still unusable, "
        "before each round, is not counted (it is no check of yours).",
    )
    keys_present: bool | None = Field(
        default=None,
        description="Whether a credential of the kinds the run covers is present after it, "
        "as `present_fields` read it; None if it was not read.",
    )
    present_fields: str = Field(
        default="AccountAccessKeysPresent",
        description="What `keys_present` read: the account summary's field for each kind "
        "the run covers (LoginProfile for the password), joined by '/'.",
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
        """Ids of the keys this run would not touch (protected, on hold, blocked)."""
        untouched = (KeyOutcome.PROTECTED, KeyOutcome.ON_HOLD, KeyOutcome.BLOCKED)
        return tuple(k.key_id for k in self.keys if k.outcome in untouched)

    def _table(self, wide: bool = False) -> Table:
        title = (
            f"Run {self.run_id} in account {self.account_id}: {self.outcome.value} "
            f"({self.checks_run} check{'' if self.checks_run == 1 else 's'} run, "
            f"window {span(self.observe_for)})"
        )
        before = []
        if self.check_failure:
            f = self.check_failure
            before.append(f"check {f.check!r} failed for {f.key_id}: {f.reason}")
        rows: list[tuple[str, ...]] = [
            (
                k.key_id,
                k.initial_status.value,
                k.final_state.value if k.final_state else "unknown",
                k.outcome.value,
                k.reason,
            )
            for k in self.keys
        ]
        header, rows = kinded(
            ("key", "was", "now", "outcome", "why"), rows, [k.key_id for k in self.keys]
        )
        after = []
        if self.keys_present is not None:
            keys_only = self.present_fields == "AccountAccessKeysPresent"
            remain = "root keys" if keys_only else "root credentials"
            present = f"1 ({remain} remain)" if self.keys_present else "0"
            after.append(f"{self.present_fields.replace('/', ' or ')}: {present}")
        after += [f"hook error: {e}" for e in self.hook_errors]
        return Table(
            title,
            header,
            rows,
            before,
            after,
            "no root access keys",
        )


rehome(globals())
