"""An organization removal: the single-account lifecycle, once per member account.

Each pass over a member account is a staged (``wait=False``) `RemovalRun` through a
`MemberGateway`: reconcile the journal under the account's lock, quarantine the Active
keys, run the checks once, delete the keys whose windows have passed (or roll back),
and confirm ``AccountAccessKeysPresent`` in an audit session. A blocking organization
run (``wait=True``) repeats passes over the accounts still observing, one check
interval apart, so no worker sits idle through a window and no AssumeRoot session is
held across one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from rootkeys._errors import RootKeysError
from rootkeys._findings import RemovalPolicy
from rootkeys._member import MemberGateway
from rootkeys._models import AccessKey, AccountId, Action, KeyState, StepResult, StepStatus
from rootkeys._observe import Emitter, EventKind
from rootkeys._plan import make_plan
from rootkeys._render import Table, Tabular
from rootkeys._reports import KeyOutcome, RemovalReport, RunOutcome
from rootkeys._run import RemovalRun, new_run_id, reconciled
from rootkeys._steps import Stepper

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rootkeys._clock import Clock
    from rootkeys._journal import Journal
    from rootkeys._memory import KeyMemory
    from rootkeys._observe import Check, Hook
    from rootkeys._org import Organization
    from rootkeys._retry import RetryPolicy

__all__ = [
    "AccountAudit",
    "AccountOutcome",
    "AccountRemoval",
    "AuditStatus",
    "MemberRunner",
    "OrganizationReport",
    "QuarantineStatus",
    "RemovalSettings",
    "merged",
]

log = logging.getLogger("rootkeys")


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

    def _table(self) -> Table:
        rows = [
            (k.key_id, k.status.value, f"{k.last_used.at:%Y-%m-%d}" if k.last_used else "never")
            for k in self.keys
        ]
        title = f"Account {self.account_id} {self.name}: {self.status.value}".replace("  ", " ")
        after = [self.reason] if self.reason else []
        return Table(
            title, ("key", "status", "last used"), rows, after=after, empty="no root access keys"
        )


class AccountOutcome(StrEnum):
    """How an organization removal ended for one account."""

    DONE = "done"
    NOTHING_TO_DO = "nothing to do"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
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

    def _table(self) -> Table:
        if self.report is not None:
            return self.report._table()
        title = f"Account {self.account_id} {self.name}: {self.outcome.value}".replace("  ", " ")
        return Table(title, ("reason",), [(self.reason,)], empty="")


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

    def _table(self) -> Table:
        rows = [
            (
                a.account_id,
                a.name,
                a.outcome.value,
                str(len(a.report.deleted)) if a.report else "",
                a.quarantine.value,
                a.reason,
            )
            for a in sorted(self.accounts, key=lambda a: a.account_id)
        ]
        summary = ", ".join(f"{n} {o.value}" for o, n in self.counts.items())
        return Table(
            f"Organization removal {self.started_at:%Y-%m-%d %H:%M} UTC: "
            + (summary or "no accounts"),
            ("account", "name", "outcome", "deleted", "quarantine", "reason"),
            rows,
            empty="no accounts selected",
        )


@dataclass(frozen=True)
class RemovalSettings:
    """What one organization removal asks of every account (validated before any call)."""

    window: timedelta | None
    policy: RemovalPolicy | None
    interval: timedelta
    keep_quarantine: bool


_RUN_TO_ACCOUNT = {o: AccountOutcome(o.value) for o in RunOutcome}
_TOO_MANY_SCPS = (
    "the account already has {n} SCPs attached (AWS's maximum is 5), so the quarantine "
    "cannot be attached: detach one, or remove this account's keys by hand"
)


class MemberRunner:
    """Takes one member account through a pass; also its explicit quarantine and release."""

    def __init__(
        self,
        organization: Organization,
        *,
        journal: Journal | None,
        hooks: Sequence[Hook],
        checks: Sequence[Check],
        clock: Clock,
        retry: RetryPolicy,
        consistency_timeout: timedelta,
    ) -> None:
        self._org = organization
        self._journal = journal
        self._hooks = tuple(hooks)
        self._checks = tuple(checks)
        self._clock = clock
        self._retry = retry
        self._timeout = consistency_timeout

    def _member(self, account_id: str) -> tuple[MemberGateway, Emitter, Stepper]:
        emit = Emitter(self._hooks, self._clock)
        emit.account_id = account_id

        member = MemberGateway(self._org, account_id, clock=self._clock, on_retry=emit.retrying)
        stepper = Stepper(
            member,
            clock=self._clock,
            emit=emit,
            consistency_timeout=self._timeout,
            journal=self._journal,
        )
        return member, emit, stepper

    # -- a removal pass --------------------------------------------------------------------

    def remove(self, account_id: str, name: str, settings: RemovalSettings) -> AccountRemoval:
        """One pass over the account; never raises for an AWS failure (reported instead)."""
        member, emit, stepper = self._member(account_id)
        run_id = new_run_id()
        try:
            identity = member.caller_identity()  # proven root of this account, before any change
            with reconciled(
                self._journal,
                account_id,
                member.key_states,
                clock=self._clock,
                emit=emit,
                run_id=run_id,
            ) as memory:
                keys = member.list_keys()
                plan = make_plan(
                    account_id=account_id,
                    caller_arn=identity.arn,
                    keys=keys,
                    now=self._clock.now(),
                    observe_for=settings.window,
                    policy=settings.policy,
                    unusable=KeyState.QUARANTINED,
                    blocked=self._blocked(member, keys, memory),
                )
                report = RemovalRun(
                    plan,
                    gateway=member,
                    stepper=stepper,
                    emit=emit,
                    clock=self._clock,
                    checks=self._checks,
                    interval=settings.interval,
                    wait=False,
                    journal=self._journal,
                    memory=memory,
                    run_id=run_id,
                    unusable=KeyState.QUARANTINED,
                ).execute()
                quarantine = self._settle_quarantine(member, report, memory, settings)
        except RootKeysError as exc:
            log.warning("account %s failed: %s", account_id, exc)
            result = AccountRemoval(
                account_id=account_id, name=name, outcome=AccountOutcome.FAILED, reason=str(exc)
            )
        else:
            result = _result(account_id, name, report, quarantine)
        emit(EventKind.ACCOUNT_FINISHED, message=f"{result.outcome.value}: {result.reason}")
        return result

    def _blocked(
        self, member: MemberGateway, keys: Sequence[AccessKey], memory: dict[str, KeyMemory]
    ) -> dict[str, str]:
        """Active keys the quarantine must not reach, and why.

        The quarantine is account-wide: while one Active key is on hold (a check failed
        when it was unusable), quarantining any other would make it unusable again, so
        none is. And an account at AWS's limit of 5 SCPs cannot take one more.
        """

        def on_hold(key: AccessKey) -> str | None:
            known = memory.get(key.key_id)
            return known.hold if known is not None else None

        active = [k for k in keys if k.state is KeyState.ACTIVE]
        waiting = [k.key_id for k in active if not on_hold(k)]
        if not waiting:
            return {}
        held = [k for k in active if on_hold(k)]
        if held:
            reason = (
                f"another root key of this account is on hold ({held[0].key_id}: "
                f"{on_hold(held[0])}); the account-wide quarantine would make it unusable "
                "again. Fix what broke, then Organization.quarantine() starts over"
            )
            return dict.fromkeys(waiting, reason)
        attached = member.attached_scps()
        if self._org.quarantine_policy_id() in attached or len(attached) < 5:
            return {}
        reason = _TOO_MANY_SCPS.format(n=len(attached))
        return dict.fromkeys(waiting, reason)

    def _settle_quarantine(
        self,
        member: MemberGateway,
        report: RemovalReport,
        memory: dict[str, KeyMemory],
        settings: RemovalSettings,
    ) -> QuarantineStatus:
        """Once every key is gone, detach the quarantine rootkeys attached (unless kept)."""
        if not member.is_quarantined():
            return QuarantineStatus.NONE
        finished = report.outcome in (RunOutcome.DONE, RunOutcome.NOTHING_TO_DO)
        ours = any(_quarantined_by_rootkeys(m) for m in memory.values()) or any(
            s.action is Action.QUARANTINE for k in report.keys for s in k.steps
        )
        if not (finished and ours):
            return QuarantineStatus.ATTACHED
        if settings.keep_quarantine:
            return QuarantineStatus.KEPT
        member.detach_quarantine()
        return QuarantineStatus.DETACHED

    # -- explicit steps --------------------------------------------------------------------

    def step(self, account_id: str, target: KeyState) -> tuple[StepResult, ...]:
        """Quarantine (target Quarantined) or release (target Active) every Active key."""
        member, emit, stepper = self._member(account_id)
        member.caller_identity()
        run_id = new_run_id()
        moved = {
            KeyState.QUARANTINED: (KeyState.ACTIVE, KeyState.QUARANTINED),
            KeyState.ACTIVE: (KeyState.QUARANTINED, KeyState.ACTIVE),
        }[target]
        results: list[StepResult] = []
        with reconciled(
            self._journal,
            account_id,
            member.key_states,
            clock=self._clock,
            emit=emit,
            run_id=run_id,
        ):
            for key_id, current in member.key_states().items():
                if current not in moved:
                    continue
                step = stepper.change(key_id, current, target, [], run_id=run_id)
                results.append(
                    StepResult(
                        account_id=account_id,
                        key_id=key_id,
                        action=step.action,
                        from_state=current,
                        to_state=current if step.status is StepStatus.UNVERIFIED else target,
                        step=step,
                    )
                )
            if target is KeyState.ACTIVE:  # no key left to release: a guardrail kept earlier
                self._org.detach_quarantine(account_id)
        return tuple(results)


def _quarantined_by_rootkeys(memory: KeyMemory) -> bool:
    return any(
        r.action is Action.QUARANTINE and r.to_state is KeyState.QUARANTINED for r in memory.records
    )


def _result(
    account_id: str, name: str, report: RemovalReport, quarantine: QuarantineStatus
) -> AccountRemoval:
    outcome = _RUN_TO_ACCOUNT[report.outcome]
    until = max((k.observing_until for k in report.keys if k.observing_until), default=None)
    if report.check_failure is not None:
        reason = f"check {report.check_failure.check!r} failed: {report.check_failure.reason}"
    elif outcome is AccountOutcome.OBSERVING and until is not None:
        reason = f"keys unusable, checks passing; observing until {until:%Y-%m-%d %H:%M} UTC"
    elif outcome is AccountOutcome.DONE:
        reason = f"{len(report.deleted)} key(s) deleted; AccountAccessKeysPresent is 0"
    elif outcome is AccountOutcome.NOTHING_TO_DO:
        reason = "no root access keys"
    else:
        reason = "; ".join(
            f"{k.key_id}: {k.reason}"
            for k in report.keys
            if k.outcome not in (KeyOutcome.DELETED, KeyOutcome.OBSERVING)
        )
    return AccountRemoval(
        account_id=account_id,
        name=name,
        outcome=outcome,
        reason=reason,
        quarantine=quarantine,
        observing_until=until,
        report=report,
    )


def unreachable(account: dict[str, str], outcome: AccountOutcome, reason: str) -> AccountRemoval:
    """The result for an account no pass is made over (management, suspended)."""
    return AccountRemoval(
        account_id=account["Id"], name=account["Name"], outcome=outcome, reason=reason
    )


def soonest(results: Iterable[AccountRemoval], default: datetime) -> datetime:
    """When the first of ``results``' windows ends."""
    return min((r.observing_until for r in results if r.observing_until), default=default)


def merged(earlier: AccountRemoval | None, latest: AccountRemoval) -> AccountRemoval:
    """One account's result over a run's passes: a rollback in any pass stays reported.

    The latest pass gives the report (what was deleted, what still observes); an earlier
    rollback gives the outcome, unless the latest pass ended worse (failed, incomplete).
    """
    worse = (AccountOutcome.FAILED, AccountOutcome.INCOMPLETE, AccountOutcome.ROLLED_BACK)
    if earlier is None or earlier is latest or latest.outcome in worse:
        return latest
    reason = earlier.reason if not latest.reason else f"{earlier.reason}; then {latest.reason}"
    return latest.model_copy(update={"outcome": AccountOutcome.ROLLED_BACK, "reason": reason})
