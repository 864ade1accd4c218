"""Member accounts for the engine: the organization's `Account` adapter and its passes.

A member account is reached as its root user through AssumeRoot (`MemberGateway`); an
Active key is made unusable by the account's quarantine SCP, which is account-wide and
limited by AWS's 5 SCPs per target (`AccountRules`). A pass over it is the engine's
`run_pass`, followed (inside the lock) by settling the quarantine: once no key is left,
the SCP rootkeys attached is detached (or kept as a guardrail).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from rootkeys._change import Stepper
from rootkeys._decide import AccountRules
from rootkeys._engine import (
    Settings,
    new_run_id,
    read_plan,
    reconciled,
    resume,
    roll_back,
    run_pass,
    step_result,
)
from rootkeys._errors import RootKeysError
from rootkeys._management import MANAGEMENT_HOW, NOT_A_MEMBER
from rootkeys._member_holds import hold_the_others, others_observed
from rootkeys._member_keys import AUDIT, MemberGateway
from rootkeys._models import (
    ALL_KINDS,
    DEFAULT_KINDS,
    Action,
    CredentialKind,
    KeyState,
    StepResult,
)
from rootkeys._observe import Emitter, EventKind
from rootkeys._orgreports import (
    AccountAudit,
    AccountOutcome,
    AccountRemoval,
    AuditStatus,
    QuarantineStatus,
    account_result,
)
from rootkeys._quarantine import MAX_SCPS_PER_TARGET
from rootkeys._reports import Plan, RemovalStatus, RunOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from datetime import datetime, timedelta

    from rootkeys._clock import Clock
    from rootkeys._journal import Journal
    from rootkeys._member_keys import QuarantineControl
    from rootkeys._models import CallerIdentity
    from rootkeys._observe import Check, Hook
    from rootkeys._reconcile import KeyMemory
    from rootkeys._reports import PlannedKey, RemovalReport

__all__ = ["MemberAccount", "MemberRunner", "out_of_reach"]

log = logging.getLogger("rootkeys")

RESUME = "rootkeys resume --org --accounts {account_id}, or organization.resume('{account_id}')"
_TOO_MANY_SCPS = (
    "the account already has {n} SCPs attached (AWS's maximum is 5), so the quarantine "
    "cannot be attached: detach one, or remove this account's keys by hand"
)


class MemberAccount:
    """A member account for the engine: unusable means quarantined by the SCP."""

    def __init__(self, gateway: MemberGateway, organization: QuarantineControl) -> None:
        self._gateway = gateway
        self._org = organization

    @property
    def account_id(self) -> str:
        return self._gateway.account_id

    @property
    def gateway(self) -> MemberGateway:
        return self._gateway

    def prove_root(self) -> CallerIdentity:
        return self._gateway.caller_identity()

    def last_sign_in(self) -> datetime | None:
        """The root password's last use, if the root user has a password (audit session)."""
        return self._gateway.last_sign_in()

    def rules(self, states: Mapping[str, KeyState]) -> AccountRules:
        """Quarantine rules; the SCP limit (read only when an Active key would need it)."""
        if KeyState.ACTIVE not in states.values():
            return AccountRules(unusable=KeyState.QUARANTINED, resume=RESUME)
        attached = self._gateway.attached_scps()
        full = len(attached) >= MAX_SCPS_PER_TARGET and not self._gateway.is_quarantined()
        return AccountRules(
            unusable=KeyState.QUARANTINED,
            cannot_make_unusable=_TOO_MANY_SCPS.format(n=len(attached)) if full else None,
            resume=RESUME,
        )


class MemberRunner:
    """Passes, plans and explicit steps over one member account at a time."""

    def __init__(
        self,
        organization: QuarantineControl,
        *,
        journal: Journal,
        hooks: Sequence[Hook],
        checks: Sequence[Check],
        clock: Clock,
        consistency_timeout: timedelta,
    ) -> None:
        self._org = organization
        self._journal = journal
        self._hooks = tuple(hooks)
        self._checks = tuple(checks)
        self._clock = clock
        self._timeout = consistency_timeout

    @contextlib.contextmanager
    def also(self, hook: Hook | None) -> Iterator[None]:
        """Tell ``hook`` too, in every account, for the duration of the block."""
        before = self._hooks
        self._hooks = before if hook is None else (*before, hook)
        try:
            yield
        finally:
            self._hooks = before

    def waiting(self, until: datetime, accounts: int) -> None:
        """Tell the hooks the run sleeps until its next pass (no account: it is the run's)."""
        Emitter(self._hooks, self._clock).waiting(until, accounts)

    def _member(
        self, account_id: str, kinds: frozenset[CredentialKind] = ALL_KINDS
    ) -> tuple[MemberAccount, Emitter, Stepper]:
        """The account over credentials of ``kinds`` (by default every kind).

        Every kind by default, since the quarantine that an explicit step attaches or
        detaches covers every credential.
        """
        emit = Emitter(self._hooks, self._clock)
        emit.account_id = account_id
        gateway = MemberGateway(
            self._org, account_id, clock=self._clock, on_retry=emit.retrying, kinds=kinds
        )
        stepper = Stepper(
            gateway,
            clock=self._clock,
            emit=emit,
            consistency_timeout=self._timeout,
            journal=self._journal,
        )
        return MemberAccount(gateway, self._org), emit, stepper

    # -- reading -----------------------------------------------------------------------------

    def read(
        self,
        account_id: str,
        settings: Settings | None,
        *,
        deleted: bool,
        kinds: frozenset[CredentialKind] = DEFAULT_KINDS,
    ) -> tuple[CallerIdentity, tuple[PlannedKey, ...]]:
        """Each credential's decision in the account, read-only (a plan or a status)."""
        account, _, _ = self._member(account_id, kinds)
        return read_plan(
            account,
            journal=self._journal,
            settings=settings,
            now=self._clock.now,
            deleted=deleted,
            last_used=not deleted,  # a plan shows each key's last use; a status need not
        )

    # -- a removal pass --------------------------------------------------------------------

    def remove(
        self,
        account_id: str,
        name: str,
        settings: Settings,
        *,
        keep_quarantine: bool,
        run_id: str | None = None,
        earlier: RemovalReport | None = None,
        combine: Callable[[RemovalReport | None, RemovalReport], RemovalReport] | None = None,
        kinds: frozenset[CredentialKind] = DEFAULT_KINDS,
    ) -> tuple[AccountRemoval, RemovalReport | None]:
        """One pass over the account's credentials of ``kinds``; never raises for AWS.

        An AWS failure is reported instead.

        Returns the account's result (over this run's passes, with ``combine``) and the
        pass's report (None when it failed).
        """
        account, emit, stepper = self._member(account_id, kinds)
        quarantine = QuarantineStatus.NONE

        def settle(report: RemovalReport, memory: Mapping[str, KeyMemory]) -> None:
            nonlocal quarantine
            hold_the_others(self._journal, self._clock, account.gateway, report)
            quarantine = self._settle_quarantine(account.gateway, report, memory, keep_quarantine)

        try:
            report = run_pass(
                account,
                settings,
                journal=self._journal,
                stepper=stepper,
                emit=emit,
                clock=self._clock,
                checks=self._checks,
                after=settle,
                run_id=run_id,
            )
        except RootKeysError as exc:
            log.warning("account %s failed: %s", account_id, exc)
            result = AccountRemoval(
                account_id=account_id, name=name, outcome=AccountOutcome.FAILED, reason=str(exc)
            )
            latest = None
        else:
            latest = report
            whole = combine(earlier, report) if combine is not None else report
            result = account_result(account_id, name, whole, quarantine)
        return self._finished(emit, result, latest, earlier)

    @staticmethod
    def _finished(
        emit: Emitter,
        result: AccountRemoval,
        latest: RemovalReport | None,
        earlier: RemovalReport | None,
    ) -> tuple[AccountRemoval, RemovalReport | None]:
        """Tell the hooks the account's outcome; a hook that raised is in the result too.

        The result is built before it is told, so the errors of the hooks told it (a
        notification that failed) are added after: to the pass's report (which the next
        pass's report combines) and to the account's.
        """
        before = len(emit.errors)
        emit(
            EventKind.ACCOUNT_FINISHED,
            message=f"{result.outcome.value}: {result.reason}",
            result=result,
        )
        told = tuple(emit.errors[before:])
        if result.report is not None:
            errors = result.report.hook_errors + told
        else:  # the pass failed: its report is its hooks' errors, after the earlier passes'
            errors = (earlier.hook_errors if earlier is not None else ()) + tuple(emit.errors)
        if told and latest is not None:
            latest = latest.model_copy(update={"hook_errors": latest.hook_errors + told})
        if told and result.report is not None:
            result = result.model_copy(
                update={"report": result.report.model_copy(update={"hook_errors": errors})}
            )
        return result.model_copy(update={"hook_errors": errors}), latest

    def _settle_quarantine(
        self,
        member: MemberGateway,
        report: RemovalReport,
        memory: Mapping[str, KeyMemory],
        keep: bool,
    ) -> QuarantineStatus:
        """Once every key is gone, detach the quarantine rootkeys attached (unless kept)."""
        if not member.is_quarantined():
            return QuarantineStatus.NONE
        finished = report.outcome in (RunOutcome.DONE, RunOutcome.NOTHING_TO_DO)
        ours = any(_quarantined_by_rootkeys(m) for m in memory.values()) or any(
            s.action is Action.QUARANTINE for k in report.keys for s in k.steps
        )
        if not (finished and ours) or others_observed(self._journal, member):
            return QuarantineStatus.ATTACHED
        if keep:
            return QuarantineStatus.KEPT
        member.detach_quarantine()
        return QuarantineStatus.DETACHED

    # -- explicit steps --------------------------------------------------------------------

    def step(self, account_id: str, target: KeyState) -> tuple[StepResult, ...]:
        """Quarantine (target Quarantined) or release (target Active) every Active key."""
        # quarantine: the credentials a run covers by default (a password or MFA device joins
        # the lifecycle only when a run asks for it); release: every kind the SCP covered
        kinds = DEFAULT_KINDS if target is KeyState.QUARANTINED else ALL_KINDS
        account, emit, stepper = self._member(account_id, kinds)
        member = account.gateway
        member.caller_identity()  # proven root of this account, before any change
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
            kinds=member.kinds,
        ):
            for key_id, current in member.key_states().items():
                if current in moved:
                    step = stepper.change(key_id, current, target, [], run_id=run_id)
                    results.append(step_result(account_id, key_id, current, target, step))
            if target is KeyState.ACTIVE:  # no key left to release: a guardrail kept earlier
                member.detach_quarantine()
        return tuple(results)

    def rollback(self, account_id: str) -> tuple[StepResult, ...]:
        """The engine's rollback in a member account, then the quarantine detached."""
        account, emit, stepper = self._member(account_id)
        return roll_back(
            account,
            journal=self._journal,
            stepper=stepper,
            clock=self._clock,
            emit=emit,
            finally_=account.gateway.detach_quarantine,  # a guardrail kept earlier goes too
        )

    def resume(self, account_id: str) -> tuple[str, ...]:
        """The engine's resume in a member account (journal only)."""
        account, emit, _ = self._member(account_id)
        return resume(account, journal=self._journal, clock=self._clock, emit=emit)

    def plan(
        self,
        account: dict[str, str],
        settings: Settings | None,
        kinds: frozenset[CredentialKind] = DEFAULT_KINDS,
    ) -> Plan:
        """One account's plan, read-only; a plan with a ``note`` when it cannot be read."""
        now = self._clock.now()
        identity, keys, note = self._read_or_note(account, settings, kinds, deleted=False)
        if identity is None:
            return Plan(account_id=account["Id"], caller_arn="", created_at=now, keys=(), note=note)
        return Plan(
            account_id=account["Id"],
            caller_arn=identity.arn,
            created_at=now,
            observe_for=settings.window if settings else None,
            keys=keys,
            policy=settings.policy if settings else None,
        )

    def status(
        self,
        account: dict[str, str],
        settings: Settings | None,
        kinds: frozenset[CredentialKind] = DEFAULT_KINDS,
    ) -> RemovalStatus:
        """One account's status, read-only; with a ``note`` when it cannot be read."""
        _, keys, note = self._read_or_note(account, settings, kinds, deleted=True)
        return RemovalStatus(account_id=account["Id"], at=self._clock.now(), keys=keys, note=note)

    def _read_or_note(
        self,
        account: dict[str, str],
        settings: Settings | None,
        kinds: frozenset[CredentialKind],
        *,
        deleted: bool,
    ) -> tuple[CallerIdentity | None, tuple[PlannedKey, ...], str]:
        """The account's decisions, or why there are none (out of reach, an AWS error)."""
        note = account.get("Note")
        if note is not None:
            return None, (), note
        try:
            identity, keys = self.read(account["Id"], settings, deleted=deleted, kinds=kinds)
        except RootKeysError as exc:
            return None, (), f"could not be read: {exc}"
        return identity, keys, ""

    def audit(self, account: dict[str, str]) -> AccountAudit:
        """One account's root keys and ``AccountAccessKeysPresent``, in an audit session."""
        try:
            gateway = self._org.root_gateway(account["Id"], AUDIT)
            keys = gateway.access_keys()
            present = bool(gateway.account_summary().get("AccountAccessKeysPresent", 0))
        except RootKeysError as exc:
            return AccountAudit(
                account_id=account["Id"],
                name=account["Name"],
                status=AuditStatus.FAILED,
                reason=str(exc),
            )
        return AccountAudit(
            account_id=account["Id"],
            name=account["Name"],
            status=AuditStatus.AUDITED,
            keys=tuple(keys),
            keys_present=present,
        )


def out_of_reach(account: dict[str, str], management: str) -> AccountAudit | None:
    """The audit of an account no session can reach (management, suspended), or None."""
    if account["Id"] == management:
        return AccountAudit(
            account_id=account["Id"],
            name=account["Name"],
            status=AuditStatus.OUT_OF_REACH,
            reason=f"the management account cannot be an AssumeRoot target: {MANAGEMENT_HOW}",
        )
    if account["Status"] == NOT_A_MEMBER:
        return AccountAudit(
            account_id=account["Id"],
            name="",
            status=AuditStatus.SKIPPED,
            reason="not an account of this organization: check the id",
        )
    if account["Status"] != "ACTIVE":
        return AccountAudit(
            account_id=account["Id"],
            name=account["Name"],
            status=AuditStatus.SKIPPED,
            reason=f"account is {account['Status'] or 'not active'}",
        )
    return None


def _quarantined_by_rootkeys(memory: KeyMemory) -> bool:
    return any(
        r.action is Action.QUARANTINE and r.to_state is KeyState.QUARANTINED for r in memory.records
    )
