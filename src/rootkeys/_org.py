"""`Organization`: every member account's root credentials, without signing in as root.

Built from a session of the management account (or the IAM delegated administrator). It
checks that centralized root access is on, lists the member accounts, and reaches each
member's root user through ``sts:AssumeRoot`` with a task policy: a fresh session per
account and step (they last at most 15 minutes), never one held across a window.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

import boto3

from rootkeys._clock import clock_or_default
from rootkeys._driver import combine, drive, fan_out
from rootkeys._engine import Settings, new_run_id
from rootkeys._errors import InputError
from rootkeys._iam import DEFAULT_REGION
from rootkeys._journal import open_journal
from rootkeys._lifecycle import validate_consistency_timeout
from rootkeys._management import MANAGEMENT_HOW, ManagementAccount
from rootkeys._member_keys import AUDIT, TASK_POLICY
from rootkeys._member_runs import MemberRunner, out_of_reach
from rootkeys._models import (
    KeyState,
    validate_account_id,
    validate_account_ids,
    validate_member_credentials,
    validate_ou,
)
from rootkeys._notebook import notebook_progress, validate_progress
from rootkeys._observe import callables
from rootkeys._org_reads import OrganizationReads
from rootkeys._orgreports import (
    AccountAudit,
    AccountOutcome,
    AccountRemoval,
    AuditStatus,
    OrganizationReport,
    unreachable,
)
from rootkeys._public import rehome
from rootkeys._retry import RetryPolicy, retry_or_default

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Iterator

    from rootkeys._clock import Clock
    from rootkeys._findings import RemovalPolicy
    from rootkeys._journal import Journal
    from rootkeys._models import CredentialKind, StepResult
    from rootkeys._observe import Check, Hook
    from rootkeys._reports import RemovalReport
    from rootkeys._root_access import RootAccess

__all__ = ["TASK_POLICY", "AccountAudit", "AuditStatus", "Organization"]

R = TypeVar("R")

log = logging.getLogger("rootkeys")


class Organization(OrganizationReads):
    """The root keys (and other root credentials) of an AWS Organization's member accounts.

    Args:
        session: a session of the management account (or the IAM delegated administrator).
        workers: how many accounts are worked on at once.
        region: the region of the STS endpoint for AssumeRoot (always a regional one).
        retry: the retry policy for every AWS call.
        clock: where time comes from.
        hooks: callables that receive an `Event` for every step in every account (called
            from worker threads: each event names its account).
        checks: callables that judge, during each account's observation window, whether
            anything broke (called from worker threads, so they must be thread-safe).
        journal: where every account's progress is recorded: a `Journal`, a path, or by
            default `default_journal_path` (the per-user journal; inside a
            `rootkeys.testing.Sandbox`, the sandbox's own). ``False`` (no journal) allows
            only the audit.
        consistency_timeout: how long to read IAM after a change until it shows.

    Raises:
        InputError: bad arguments, before any AWS call.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        workers: int = 16,
        region: str | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        hooks: Iterable[Hook] = (),
        checks: Iterable[Check] = (),
        journal: Journal | str | os.PathLike[str] | Literal[False] | None = None,
        consistency_timeout: timedelta = timedelta(seconds=60),
    ) -> None:
        count: object = workers
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 256:
            raise InputError(f"workers must be a whole number from 1 to 256, got {workers!r}")
        consistency_timeout = validate_consistency_timeout(consistency_timeout)
        self._retry = retry_or_default(retry)
        self._clock: Clock = clock_or_default(clock)
        self._journal = open_journal(journal)
        session = session or boto3.Session()
        self._workers = count
        self._management = ManagementAccount(
            session,
            region=region or session.region_name or DEFAULT_REGION,
            retry=self._retry,
            clock=self._clock,
        )
        self._runner = MemberRunner(
            self._management,
            journal=self._journal,
            hooks=callables("hooks", hooks),
            checks=callables("checks", checks),
            clock=self._clock,
            consistency_timeout=consistency_timeout,
        )

    # -- preflight and sessions -----------------------------------------------------------------

    def preflight(self) -> str:
        """Check that centralized root access can work; return the management account id.

        Raises:
            OrganizationSetupError: not an organization, not in all-features mode, or
                the root features are off; the message says what to enable and how.
        """
        return self._management.preflight()

    def root_session(self, account_id: str, task_policy: str = AUDIT) -> boto3.Session:
        """A fresh AssumeRoot session for a member account under ``task_policy``.

        For your own calls as the member's root user (15 minutes at most). A root task
        policy's ARN is sent in the organization's partition, whichever partition it names
        (`AUDIT` names ``aws``'s): in AWS GovCloud (US) it is
        ``arn:aws-us-gov:iam::aws:policy/root-task/...``.
        """
        return self._management.root_session(validate_account_id(account_id), task_policy)

    def root_access(self, *, root_sessions: bool = True) -> RootAccess:
        """What is on, the calls enabling would make, who may (works with the features off)."""
        return self._management.setup.read(root_sessions=root_sessions)

    def enable_root_access(self, *, root_sessions: bool = True) -> RootAccess:
        """Turn centralized root access on, making only the calls still needed (idempotent).

        Raises:
            NotManagementAccountError: not the management account; nothing was changed.
        """
        return self._management.setup.enable(root_sessions=root_sessions)

    # -- quarantine ---------------------------------------------------------------------------

    def quarantine_policy_id(self) -> str | None:
        """The quarantine SCP's id, or None while it does not exist (the first attach makes it)."""
        return self._management.quarantine_policy_id()

    def quarantine(self, account_id: str) -> tuple[StepResult, ...]:
        """Make a member account's Active root credentials unusable: attach the quarantine SCP.

        The organization's reversible "deactivate" (AssumeRoot's delete task policy
        cannot deactivate a key), recorded in the journal credential by credential (keys,
        certificates, the password, MFA devices: the SCP covers them all) like
        `RootKeyManager.deactivate`; it also lifts a hold left by a rollback. Inactive
        ones are already unusable: an account with nothing Active is left alone.

        Raises:
            QuarantineBlockedError: the account already has AWS's maximum of 5 SCPs.
        """
        return self._runner.step(self._member_id(account_id), KeyState.QUARANTINED)

    def release(self, account_id: str) -> tuple[StepResult, ...]:
        """Detach the quarantine SCP from a member account: the rollback of `quarantine`.

        Each quarantined key is recorded as released; the SCP is detached even when no
        key is left (a guardrail kept by ``keep_quarantine``).
        """
        return self._runner.step(self._member_id(account_id), KeyState.ACTIVE)

    def rollback(self, account_id: str) -> tuple[StepResult, ...]:
        """Undo a removal in progress in a member account: detach the quarantine SCP.

        Like `release`, and each key rootkeys quarantined is recorded as a failed window
        first, so it is put on hold: no run quarantines the account again until `resume`.
        Keys already deleted cannot come back; Inactive keys stay Inactive.
        """
        return self._runner.rollback(self._member_id(account_id))

    def resume(self, account_id: str) -> tuple[str, ...]:
        """Lift the holds in a member account: the next run quarantines its keys again.

        Journal only (no AWS change); returns the ids of the keys resumed.
        """
        return self._runner.resume(self._member_id(account_id))

    def _member_id(self, account_id: str) -> str:
        account_id = validate_account_id(account_id)
        if self._journal.in_memory:
            raise InputError(
                "this Organization has no journal (journal=False): it only reads (audit, "
                "plan, status, verify)"
            )
        if account_id == (self._management.account_id):
            raise InputError(f"{account_id} is the management account: {MANAGEMENT_HOW}")
        return account_id

    def is_quarantined(self, account_id: str) -> bool:
        """Whether the quarantine SCP is attached to the account itself (creates nothing)."""
        return self._management.is_quarantined(validate_account_id(account_id))

    # -- audit ------------------------------------------------------------------------------

    def audit(
        self, account_ids: Iterable[str] | None = None, *, ou: str | None = None
    ) -> Iterator[AccountAudit]:
        """Each account's root keys and ``AccountAccessKeysPresent``, as they come.

        Results stream (at most ``workers`` accounts in flight), so an organization of
        10,000 accounts never sits in memory at once. The management account cannot be
        an AssumeRoot target: it is reported out of reach, with what to do instead.
        Suspended accounts are skipped. One account's failure never stops the others.
        """
        wanted, ou = validate_account_ids(account_ids), validate_ou(ou)
        return self._audit(wanted, ou)

    def _audit(self, wanted: list[str] | None, ou: str | None) -> Iterator[AccountAudit]:
        management = self._management.account_id
        yield from fan_out(
            self._management.accounts(wanted, ou=ou),
            self._runner.audit,
            lambda account: out_of_reach(account, management),
            self._workers,
        )

    # -- removal ----------------------------------------------------------------------------

    def remove_all(
        self,
        observe_for: timedelta | RemovalPolicy,
        check_interval: timedelta | None = None,
        *,
        wait: bool = True,
        account_ids: Iterable[str] | None = None,
        ou: str | None = None,
        keep_quarantine: bool = False,
        progress: bool = True,
        credentials: Iterable[CredentialKind | str] | None = None,
        start_after: str | None = None,
        stop_when: Callable[[], bool] | None = None,
    ) -> OrganizationReport:
        """Remove the root credentials of every selected member account, safely; one report.

        Collects `removals` (see there) into an `OrganizationReport`. ``progress``: in a
        Jupyter notebook, a table of every key updated in place (``False``: none).
        """
        shown = validate_progress(progress)  # before any AWS call, as every input
        results = self.removals(
            observe_for,
            check_interval,
            wait=wait,
            account_ids=account_ids,
            ou=ou,
            keep_quarantine=keep_quarantine,
            credentials=credentials,
            start_after=start_after,
            stop_when=stop_when,
        )
        started = self._clock.now()
        with notebook_progress(shown) as view, self._runner.also(view):
            accounts = tuple(results)
        return OrganizationReport(
            started_at=started, finished_at=self._clock.now(), accounts=accounts
        )

    def removals(
        self,
        observe_for: timedelta | RemovalPolicy,
        check_interval: timedelta | None = None,
        *,
        wait: bool = True,
        account_ids: Iterable[str] | None = None,
        ou: str | None = None,
        keep_quarantine: bool = False,
        credentials: Iterable[CredentialKind | str] | None = None,
        start_after: str | None = None,
        stop_when: Callable[[], bool] | None = None,
    ) -> Iterator[AccountRemoval]:
        """Remove the root credentials of every selected member account; results as they come.

        Per account, the single-account lifecycle through AssumeRoot: a key already
        Inactive goes straight into its window; Active keys are made unusable by the
        quarantine SCP (the rollback detaches it); every check runs each
        ``check_interval``; after a key's whole window with every check passing it is
        deleted in an ``IAMDeleteRootUserCredentials`` session; once no key is left the
        quarantine is detached (or kept, with ``keep_quarantine``) and
        ``AccountAccessKeysPresent`` is confirmed 0 in an audit session. A failing check
        rolls that account back (quarantine detached, keys untouched, put on hold); the
        other accounts go on. Every step is in the journal, per account.

        ``credentials``: the kinds removed, ``{"keys", "certificates"}`` by default.
        Signing certificates follow keys (the quarantine makes them unusable, then
        ``DeleteSigningCertificate``). The root password (``"password"``:
        ``DeleteLoginProfile``) and MFA devices (``"mfa"``: ``DeactivateMFADevice``, and
        ``DeleteVirtualMFADevice`` for a virtual one) only when asked, MFA only with the
        password, each after its window like a key: a password's window follows its last
        sign-in (and its MFA devices share it), and a policy's ``sign_in_blocks`` blocks
        an account whose root user signed in recently. `allow_password_recovery` is the
        way back for a deleted password.

        ``wait=True`` comes back to the accounts still observing, one check interval
        apart, until every window has ended. ``wait=False`` makes one pass and reports
        those accounts as observing: run it again (say, daily) and it converges.

        ``stop_when``: a callable asked before each account's pass starts (say, whether
        time runs out); once it answers True, no account is started, the passes running
        finish and the results end, so every account is either passed over or untouched.
        With ``wait=True`` it is also asked before each wait. ``start_after``: only the
        accounts whose id comes after this one. With either, accounts are passed over in
        order of their id (the listing is read whole first), so the last id a stopped
        run reported is where the next one starts after; without, in the listing's order.

        Arguments are checked before any AWS call; the work starts when the iterator is
        read. The management account is reported out of reach, suspended accounts skipped.
        """
        settings = Settings.of(observe_for, check_interval)
        if stop_when is not None and not callable(stop_when):
            raise InputError(
                f"stop_when must be a callable answering True to stop, not {stop_when!r}"
            )
        after = None if start_after is None else validate_account_id(start_after)
        for name, flag in (("wait", wait), ("keep_quarantine", keep_quarantine)):
            if not isinstance(flag, bool):
                raise InputError(f"{name} must be True or False, not {flag!r}")
        if self._journal.in_memory:
            raise InputError(
                "an organization removal needs a journal (each account's windows and holds "
                "live there); this Organization was made with journal=False"
            )
        wanted, ou = validate_account_ids(account_ids), validate_ou(ou)
        kinds = validate_member_credentials(credentials)
        chosen = _Selection(wanted, ou, after, stop_when is not None or after is not None)
        return self._removals(settings, wait, chosen, keep_quarantine, kinds, stop_when)

    def _in_order(self, chosen: _Selection) -> Iterator[dict[str, str]]:
        """The selected accounts (in order of id when asked), after ``chosen.after``."""
        listed = self._management.accounts(chosen.wanted, ou=chosen.ou)
        if chosen.in_order:
            listed = iter(sorted(listed, key=_id))
        yield from (a for a in listed if chosen.after is None or a["Id"] > chosen.after)

    def _removals(
        self,
        settings: Settings,
        wait: bool,
        chosen: _Selection,
        keep_quarantine: bool,
        kinds: frozenset[CredentialKind],
        stop_when: Callable[[], bool] | None,
    ) -> Iterator[AccountRemoval]:
        management = self._management.account_id
        passes: dict[str, int] = {}
        reports: dict[str, RemovalReport] = {}
        run_id = new_run_id()

        def one(account: dict[str, str]) -> AccountRemoval:
            account_id = account["Id"]
            passes[account_id] = passes.get(account_id, 0) + 1
            result, latest = self._runner.remove(
                account_id,
                account["Name"],
                settings,
                keep_quarantine=keep_quarantine,
                run_id=run_id,
                earlier=reports.get(account_id),
                combine=combine,
                kinds=kinds,
            )
            if latest is not None:
                reports[account_id] = combine(reports.get(account_id), latest)
            return result.model_copy(update={"passes": passes[account_id]})

        return drive(
            self._in_order(chosen),
            one,
            wait=wait,
            interval=settings.interval,
            clock=self._clock,
            workers=self._workers,
            due=lambda r: r.observing_until,
            again=lambda r: {"Id": r.account_id, "Name": r.name, "Status": "ACTIVE"},
            immediate=lambda account: self._unreachable(account, management),
            on_wait=self._runner.waiting,
            stop_when=stop_when,
        )

    def _unreachable(self, account: dict[str, str], management: str) -> AccountRemoval | None:
        if (audit := out_of_reach(account, management)) is None:
            return None
        return unreachable(account, AccountOutcome(audit.status.value), audit.reason)


class _Selection(NamedTuple):
    """The accounts a removal is asked for: ids, an OU, where to start after, in order."""

    wanted: list[str] | None
    ou: str | None
    after: str | None
    in_order: bool


def _id(account: dict[str, str]) -> str:
    return account["Id"]


rehome(globals())
