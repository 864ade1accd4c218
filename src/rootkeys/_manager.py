"""`RootKeyManager`: one account's root access keys, removed safely.

The manager asks the lifecycle what may happen, records the intent, calls the gateway,
reads IAM until the change shows, records the outcome, then tells the hooks. Nothing
mutates before the caller is proven to be the account's root user, and the key that
signs the session is never touched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import boto3
import botocore.exceptions
from boto3.session import Session

from rootkeys._change import Stepper, state_of
from rootkeys._clock import Clock, clock_or_default
from rootkeys._compliance import ControlConfirmation, confirm_root_key_rule, validate_waits
from rootkeys._credential_report import root_report_row
from rootkeys._decide import AccountRules
from rootkeys._driver import combine, drive, next_due
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
from rootkeys._errors import (
    AccountMismatchError,
    InputError,
    KeyNotFoundError,
    NotRootError,
    ProtectedKeyError,
)
from rootkeys._evidence import EvidenceSource, validate_regions
from rootkeys._iam import DEFAULT_REGION, IamGateway
from rootkeys._journal import Journal, open_journal
from rootkeys._lifecycle import validate_consistency_timeout
from rootkeys._models import (
    AccessKey,
    CallerIdentity,
    CredentialKind,
    KeyState,
    StepResult,
    validate_account_credential_id,
    validate_account_credentials,
    validate_account_id,
    validate_credential_id,
    validate_credentials,
)
from rootkeys._notebook import notebook_progress, validate_progress
from rootkeys._observe import Check, Emitter, EventKind, Hook, callables
from rootkeys._orgreports import QuarantineStatus, account_result
from rootkeys._preflight import check_preflight
from rootkeys._public import rehome
from rootkeys._records import KeyHistory
from rootkeys._reports import Plan, RemovalStatus
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, retry_or_default

if TYPE_CHECKING:
    import contextlib
    import os
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from botocore.config import Config
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_sts.client import STSClient

    from rootkeys._credentials import RootCredentials
    from rootkeys._findings import KeyEvidence, RemovalPolicy
    from rootkeys._reconcile import KeyMemory
    from rootkeys._reports import RemovalReport

__all__ = ["RootKeyManager"]

log = logging.getLogger("rootkeys")


class RootKeyManager:
    """Removes the root user's access keys of one AWS account, safely.

    Args:
        session: a `boto3.Session` signed by the account's root user (or an AssumeRoot
            session). Defaults to ``boto3.Session()``, i.e. the environment's
            credentials.
        account_id: the account you intend to change. When given, credentials of any
            other account are refused before any change.
        iam_client: a ready IAM client to use instead of a session (with ``sts_client``).
        sts_client: a ready STS client to use instead of a session (with ``iam_client``).
        hooks: callables that receive an `Event` for every step.
        checks: callables that judge, during the observation window, whether
            anything broke (see `Check`).
        retry: how hard to retry throttling, 5xx and connection errors.
        consistency_timeout: how long to read IAM after a change until it shows;
            a change that does not show in time is reported as unverified.
        clock: where time comes from (tests pass a fake one).
        journal: where to record every change: a `Journal`, or a path to one. By
            default `default_journal_path`: the per-user journal (``$ROOTKEYS_JOURNAL``
            when set), or inside a `rootkeys.testing.Sandbox` the sandbox's own, so
            sandbox runs never touch a real journal. ``False``: no journal,
            so no staged runs (``wait=False``), no `history`, and nothing survives the
            process.
        boto_config: extra botocore settings for the clients built from ``session``
            (rootkeys always turns botocore's own retries off).

    Raises:
        InputError: for bad arguments, before any AWS call.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        account_id: str | None = None,
        iam_client: IAMClient | None = None,
        sts_client: STSClient | None = None,
        hooks: Iterable[Hook] = (),
        checks: Iterable[Check] = (),
        retry: RetryPolicy | None = None,
        consistency_timeout: timedelta = timedelta(seconds=60),
        clock: Clock | None = None,
        boto_config: Config | None = None,
        journal: Journal | str | os.PathLike[str] | Literal[False] | None = None,
    ) -> None:
        self._expected_account = None if account_id is None else validate_account_id(account_id)
        hooks = callables("hooks", hooks)
        self._checks: tuple[Check, ...] = callables("checks", checks)
        consistency_timeout = validate_consistency_timeout(consistency_timeout)
        self._consistency_timeout = consistency_timeout
        policy = self._policy = retry_or_default(retry)
        self._clock: Clock = clock_or_default(clock)
        self._emit = Emitter(hooks, self._clock)
        self._session: boto3.Session | None = None
        if iam_client is not None or sts_client is not None:
            if session is not None or iam_client is None or sts_client is None:
                raise InputError("pass either a session, or both iam_client and sts_client")
            self._gateway = IamGateway.from_clients(
                iam_client,
                sts_client,
                policy=policy,
                sleep=self._clock.sleep,
                on_retry=self._emit.retrying,
            )
        else:
            if session is not None and not isinstance(session, Session):
                raise InputError(f"session must be a boto3.Session, not {type(session).__name__}")
            session = session or boto3.Session()
            self._session = session
            self._gateway = IamGateway.from_session(
                session,
                policy=policy,
                sleep=self._clock.sleep,
                on_retry=self._emit.retrying,
                boto_config=boto_config,
            )
        self._evidence = EvidenceSource(
            session,
            region=(session.region_name if session else None) or DEFAULT_REGION,
            clock=self._clock,
            policy=policy,
        )
        self._journal = open_journal(journal)
        self._stepper = Stepper(
            self._gateway,
            clock=self._clock,
            emit=self._emit,
            consistency_timeout=consistency_timeout,
            journal=self._journal,
        )
        self._identity: CallerIdentity | None = None

    @classmethod
    def from_profile(
        cls, profile_name: str, *, region_name: str | None = None, **kwargs: Any
    ) -> RootKeyManager:
        """A manager for the credentials of a named AWS CLI profile.

        Raises:
            InputError: when the profile does not exist (before any AWS call).
        """
        name: object = profile_name
        if not isinstance(name, str) or not name:
            raise InputError("profile_name must be a non-empty string")
        try:
            session = boto3.Session(profile_name=profile_name, region_name=region_name)
        except botocore.exceptions.ProfileNotFound as exc:
            raise InputError(f"no AWS profile named {profile_name!r} is configured") from exc
        return cls(session, **kwargs)

    # -- identity ---------------------------------------------------------------------

    def caller(self) -> CallerIdentity:
        """Who signs this manager's requests (asked of STS once, then remembered)."""
        if self._identity is None:
            self._identity = self._gateway.caller_identity()
        return self._identity

    @property
    def account_id(self) -> str:
        """The account the credentials belong to."""
        return self.caller().account_id

    def _require_root(self) -> CallerIdentity:
        identity = self.caller()
        if self._expected_account and identity.account_id != self._expected_account:
            raise AccountMismatchError(identity.arn, self._expected_account, identity.account_id)
        if not identity.is_root:
            raise NotRootError(identity.arn)
        self._emit.account_id = identity.account_id
        return identity

    # -- reading ----------------------------------------------------------------------

    def list_keys(self) -> list[AccessKey]:
        """The root user's access keys with their last use, oldest first.

        Raises:
            NotRootError: the caller is not the root user (an IAM user would see its own
                keys here, not the root user's).
        """
        self._require_root()
        return self._gateway.access_keys()

    def credentials(self) -> RootCredentials:
        """Every root credential and its findings: keys, certificates, password, MFA.

        A read (it changes nothing): the calls are those of AWS's
        ``IAMAuditRootUserCredentials`` task policy. Each finding names the controls it
        maps to (Security Hub IAM.4/IAM.6/IAM.9, CIS 1.4/1.5/1.6); export them with
        ``to_ocsf()``, ``to_csv()``, ``model_dump()`` or ``table()``.

        Raises:
            NotRootError: the caller is not the root user.
        """
        from rootkeys._credentials import read_root_credentials

        identity = self._require_root()
        return read_root_credentials(
            self._gateway,
            identity.account_id,
            now=self._clock.now(),
            partition=identity.partition,
        )

    def plan(
        self,
        observe_for: timedelta | RemovalPolicy | None = None,
        *,
        evidence: bool = True,
        regions: Sequence[str] | None = None,
        evidence_budget: timedelta = timedelta(minutes=2),
        preflight: bool = True,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> Plan:
        """What the next `remove_all` does to each key, and why, changing nothing.

        Each key's `PlannedKey` is the decision the run itself makes (same journal, same
        window rules, same holds): make unusable, observe until a time, delete, finish a
        rollback, or nothing (on hold, with the call that resumes it; protected). Nothing
        is written, in AWS or in the journal. ``observe_for`` is the window the run would
        be given: a key that already has a longer remembered window keeps it.

        With ``evidence`` (the default), each key carries who has been using it: IAM's
        last use and a summary of its CloudTrail events over the last 90 days in
        ``regions`` (default: the account's enabled regions, from EC2
        ``DescribeRegions``), within ``evidence_budget``. Missing CloudTrail permissions
        make the evidence "unavailable", with the reason, never an error.

        With ``preflight`` (the default), the plan also checks the prerequisites and
        warns prominently when no other administrator (an IAM user or role with
        ``AdministratorAccess`` or ``*:*``) is found, or when root has no MFA.

        ``credentials``: the kinds of root credential planned for, ``{"keys",
        "certificates"}`` by default (``{"keys"}``: access keys alone, as `remove_all`
        with the same argument). A signing certificate has no evidence of use.
        """
        kinds = validate_account_credentials(credentials)
        settings = None if observe_for is None else Settings.of(observe_for)
        wanted = None if regions is None else validate_regions(regions)
        budget: object = evidence_budget
        if not isinstance(budget, timedelta) or budget <= timedelta(0):
            raise InputError(f"evidence_budget must be a positive timedelta, got {budget!r}")
        identity, keys = read_plan(
            self._account(kinds),
            journal=self._journal,
            settings=settings,
            now=self._clock.now,
            evidence=self._evidence_for(wanted, evidence_budget) if evidence else None,
        )
        plan = Plan(
            account_id=identity.account_id,
            caller_arn=identity.arn,
            created_at=self._clock.now(),
            observe_for=settings.window if settings else None,
            keys=keys,
            policy=settings.policy if settings else None,
        )
        if evidence:
            row, why = root_report_row(self._gateway, self._clock, evidence_budget)
            plan = plan.model_copy(
                update={"credential_report": row, "credential_report_unavailable": why}
            )
        if not preflight:
            return plan
        partition = identity.partition
        return plan.model_copy(update={"preflight": check_preflight(self._gateway, partition)})

    def _evidence_for(
        self, regions: tuple[str, ...] | None, budget: timedelta
    ) -> Callable[[Sequence[AccessKey]], Mapping[str, KeyEvidence]]:
        def gather(keys: Sequence[AccessKey]) -> Mapping[str, KeyEvidence]:
            partition = self.caller().partition
            access_keys = [k for k in keys if k.kind is CredentialKind.KEYS]
            if not access_keys:  # a certificate's use is recorded nowhere
                return {}
            return self._evidence.for_keys(
                self.account_id, access_keys, regions, budget, partition=partition
            )

        return gather

    def _account(self, kinds: frozenset[CredentialKind] | None = None) -> _OneAccount:
        """The engine's account, its lifecycle over ``kinds`` (default: keys, certificates)."""
        return _OneAccount(self, self._gateway if kinds is None else self._gateway.scoped(kinds))

    def _stepper_for(self, gateway: IamGateway) -> Stepper:
        """The stepper over ``gateway`` (its own, unless scoped to fewer kinds)."""
        if gateway is self._gateway:
            return self._stepper
        return Stepper(
            gateway,
            clock=self._clock,
            emit=self._emit,
            consistency_timeout=self._consistency_timeout,
            journal=self._journal,
        )

    # -- evidence ---------------------------------------------------------------------------

    def enabled_regions(self) -> tuple[str, ...]:
        """The account's enabled regions (EC2 ``DescribeRegions``); on error, the session's.

        Only regions of the caller's partition (that of the session's region, the same
        as in the caller's ARN): a commercial account's never include ``cn-*`` or
        ``us-gov-*``.
        """
        return self._evidence.enabled_regions()

    def verify(self, *, credentials: Iterable[CredentialKind | str] | None = None) -> bool:
        """Whether no root access key or signing certificate remains (or what is asked).

        Checks the listed keys and certificates and ``GetAccountSummary``'s
        ``AccountAccessKeysPresent`` and ``AccountSigningCertificatesPresent``
        (``credentials={"keys"}``: access keys alone, as before certificates were covered;
        ``"password"``: no login profile; ``"mfa"``: no MFA device, ``AccountMFAEnabled`` 0).

        Both change as soon as the keys are deleted. Scanners that read the IAM credential
        report (Prowler, Cloud Custodian) may flag deleted keys for 4 hours or more, since
        AWS reuses a report for 4 hours, and Security Hub IAM.4 follows at AWS Config's next
        periodic evaluation (`confirm_control` asks for one now; the FAQ says more).
        """
        gateway = self._gateway.scoped(validate_credentials(credentials))
        self._require_root()
        return not gateway.key_states() and not gateway.keys_present()

    def confirm_control(
        self,
        *,
        region: str | None = None,
        timeout: timedelta = timedelta(minutes=10),
        poll: timedelta = timedelta(seconds=15),
    ) -> ControlConfirmation:
        """AWS Config's verdict on the root-key rule (Security Hub IAM.4, CIS 1.4), now.

        Asks Config to evaluate the rule, and waits until the evaluation settles (or
        ``timeout`` passes).

        The one call here that writes, to AWS Config (``StartConfigRulesEvaluation``), never
        to a credential; the caller is proven root first. ``region``: where Config records
        global resources (default: the session's). No such rule there: a note says so.
        """
        validate_waits(timeout, poll)
        (chosen,) = validate_regions([region or self._evidence.region])
        if self._session is None:
            raise InputError("confirm_control needs a manager built from a boto3 session")
        identity = self._require_root()
        client = self._session.client("config", region_name=chosen, config=BOTO_CONFIG)
        return confirm_root_key_rule(
            client,
            account_id=identity.account_id,
            region=chosen,
            clock=self._clock,
            timeout=timeout,
            poll=poll,
            policy=self._policy,
        )

    # -- explicit steps -----------------------------------------------------------------

    def deactivate(self, key_id: str) -> StepResult:
        """Make an Active key Inactive (reversible with `reactivate`); lifts a hold.

        ``key_id`` may be an access key id or a signing certificate id: every explicit step
        (`reactivate`, `delete`, `resume`, `rollback`, `history`) takes either.
        """
        return self._step(key_id, KeyState.INACTIVE)

    def reactivate(self, key_id: str) -> StepResult:
        """Make an Inactive key Active again: the rollback of `deactivate`."""
        return self._step(key_id, KeyState.ACTIVE)

    def delete(self, key_id: str) -> StepResult:
        """Delete an Inactive or Expired key. An Active key is refused; a missing key is done.

        The observation window is the caller's call here; `remove_all` enforces one.
        """
        return self._step(key_id, KeyState.DELETED)

    def _step(self, key_id: str, target: KeyState) -> StepResult:
        key_id = validate_account_credential_id(key_id)
        identity = self._require_root()
        if key_id == identity.signing_key_id:
            raise ProtectedKeyError(key_id)
        run_id = new_run_id()
        with self._reconciled(identity.account_id, run_id):
            states = self._gateway.key_states()
            if key_id not in states and target is not KeyState.DELETED:
                raise KeyNotFoundError(key_id, identity.account_id)
            current = state_of(states, key_id)
            step = self._stepper.change(key_id, current, target, [], run_id=run_id)
        return step_result(identity.account_id, key_id, current, target, step)

    def resume(self, key_id: str | None = None) -> tuple[str, ...]:
        """Lift the hold on a key (or on every held key): the next run starts it over.

        A key goes on hold when a check failed during its window (rootkeys made it usable
        again) or someone made it usable again during its window; no run makes it
        unusable again until a person resumes it. This only writes the journal: the next
        `remove_all` (and `plan`) then makes the key unusable with a new, whole window.
        Returns the ids of the keys resumed (none when nothing was on hold).

        Raises:
            KeyNotFoundError: ``key_id`` is not a root key of the account.
        """
        wanted = None if key_id is None else validate_account_credential_id(key_id)
        return resume(
            self._account(),
            journal=self._journal,
            clock=self._clock,
            emit=self._emit,
            key_id=wanted,
        )

    def rollback(self, key_id: str | None = None) -> tuple[StepResult, ...]:
        """Undo a removal in progress: make usable again what rootkeys made unusable.

        Every key (or ``key_id``) that is unusable because rootkeys made it so and not
        yet deleted is made Active again, recorded as a failed window first, and put on
        hold: no run makes it unusable again until `resume`. Keys found unusable are left
        as they are. Deleted keys cannot come back.
        """
        wanted = None if key_id is None else validate_account_credential_id(key_id)
        return roll_back(
            self._account(),
            journal=self._journal,
            stepper=self._stepper,
            clock=self._clock,
            emit=self._emit,
            key_id=wanted,
        )

    # -- the whole job --------------------------------------------------------------------

    def remove_all(
        self,
        observe_for: timedelta | RemovalPolicy,
        check_interval: timedelta | None = None,
        *,
        wait: bool = True,
        regions: Sequence[str] | None = None,
        evidence_budget: timedelta = timedelta(minutes=2),
        progress: bool = True,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> RemovalReport:
        """Deactivate, observe, then delete every root access key (and signing certificate).

        Each pass does to every key what `plan` says: Active keys are deactivated; every
        unusable key (those found Inactive or Expired too) is observed for its window,
        the checks running once per pass; a key unusable for its whole window with every
        check passing is deleted, and ``AccountAccessKeysPresent`` is confirmed to be 0.
        If any check fails, every key rootkeys deactivated is reactivated, nothing is
        deleted, and those keys are put on hold (`resume` starts them over). The key
        that signs the session is never touched.

        A key's window is remembered in the journal when it starts. A later call may
        lengthen it (a longer ``observe_for``), never shorten it; a policy sets it once.

        Args:
            observe_for: the observation window: one `timedelta` for every key, or a
                `RemovalPolicy`, which gathers each key's evidence (IAM last use,
                CloudTrail in ``regions`` within ``evidence_budget``) and gives each key
                the window its risk calls for. ``timedelta(0)`` must be asked for
                explicitly: there is no default that deletes without observing.
            check_interval: time between passes, so between check runs (default: a
                tenth of the window, between one second and one hour).
            wait: ``True`` makes a pass every ``check_interval`` until no window runs
                (sleeping between passes, the journal lock released). ``False`` (needs a
                journal file) makes one pass and returns: run it daily and it converges.
            regions: with a policy, where to look for CloudTrail evidence (default: the
                account's enabled regions).
            evidence_budget: with a policy, the most time evidence gathering may take.
            progress: in a Jupyter notebook, show where each key stands in a table
                updated in place as the run goes (``False``: show nothing). Outside a
                notebook it changes nothing: the library prints nothing.
            credentials: the kinds of root credential removed: ``{"keys",
                "certificates"}`` by default. Signing certificates go through the same
                lifecycle as keys (Inactive, observed, deleted; reactivated and held if a
                check fails); ``{"keys"}`` leaves them alone.

        An interrupt (Ctrl-C, a killed kernel) never deletes anything: the keys stay as
        the journal says (unusable, their windows running). Call `remove_all` again to
        go on, or `rollback` to make them usable again.
        """
        settings = Settings.of(observe_for, check_interval)
        kinds = validate_account_credentials(credentials)
        wanted = None if regions is None else validate_regions(regions)
        if not isinstance(wait, bool):
            raise InputError(f"wait must be True or False, not {wait!r}")
        shown = validate_progress(progress)
        if not wait and self._journal.in_memory:
            raise InputError(
                "wait=False needs a journal to remember windows between runs; "
                "this manager was made with journal=False"
            )
        identity = self._require_root()
        account = self._account(kinds)
        stepper = self._stepper_for(account.gateway)
        evidence = self._evidence_for(wanted, evidence_budget)
        run_id = new_run_id()
        whole: RemovalReport | None = None  # the run's report so far, over its passes

        def one(_: object) -> RemovalReport:
            nonlocal whole
            latest = run_pass(
                account,
                settings,
                journal=self._journal,
                stepper=stepper,
                emit=self._emit,
                clock=self._clock,
                checks=self._checks,
                evidence=evidence,
                run_id=run_id,
            )
            whole = combine(whole, latest)
            return latest

        try:
            with notebook_progress(shown) as view, self._emit.also(view):
                for _ in drive(
                    [identity.account_id],
                    one,
                    wait=wait,
                    interval=settings.interval,
                    clock=self._clock,
                    due=next_due,
                    again=lambda report: report.account_id,
                    on_wait=self._emit.waiting,
                ):
                    pass
        except KeyboardInterrupt:
            log.warning(
                "interrupted: nothing is deleted or undone by an interrupt; the keys stay as "
                "the journal says. Run remove_all again to go on, or rollback() to undo"
            )
            raise
        assert whole is not None  # drive makes at least one pass over the account
        return self._finished(whole)

    def _finished(self, report: RemovalReport) -> RemovalReport:
        """Tell the hooks how the run ended (``ACCOUNT_FINISHED``, once, with its result).

        A hook that raised (a notification that failed) is named in the report returned.
        """
        result = account_result(report.account_id, "", report, QuarantineStatus.NONE)
        before = len(self._emit.errors)
        self._emit(
            EventKind.ACCOUNT_FINISHED,
            message=f"{result.outcome.value}: {result.reason}",
            result=result,
        )
        told = tuple(self._emit.errors[before:])
        return report.model_copy(update={"hook_errors": report.hook_errors + told})

    # -- the journal ------------------------------------------------------------------------

    @property
    def journal(self) -> Journal | None:
        """The journal this manager records to (None when made with ``journal=False``)."""
        return None if self._journal.in_memory else self._journal

    def _reconciled(
        self, account_id: str, run_id: str
    ) -> contextlib.AbstractContextManager[dict[str, KeyMemory]]:
        """Hold the account's lock, and bring the journal in line with IAM first."""
        return reconciled(
            self._journal,
            account_id,
            self._gateway.key_states,
            clock=self._clock,
            emit=self._emit,
            run_id=run_id,
        )

    def status(
        self,
        observe_for: timedelta | RemovalPolicy | None = None,
        *,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> RemovalStatus:
        """Where each root key stands: what happens next, since when, and until when.

        The same decision `plan` and every run make, from the journal's remembered
        windows; reads IAM and the journal and changes neither. ``observe_for``: the
        window a run would be given, for keys whose window is not set yet (or to see a
        lengthened one). ``credentials``: the kinds shown (default: keys and certificates).
        """
        kinds = validate_account_credentials(credentials)
        settings = None if observe_for is None else Settings.of(observe_for)
        identity, keys = read_plan(
            self._account(kinds),
            journal=self._journal,
            settings=settings,
            now=self._clock.now,
            deleted=True,
            last_used=False,
        )
        return RemovalStatus(account_id=identity.account_id, at=self._clock.now(), keys=keys)

    def history(self, key_id: str) -> KeyHistory:
        """The journal's records for one key or signing certificate, oldest first."""
        key_id = validate_credential_id(key_id)
        if self._journal.in_memory:
            raise InputError("this manager has no journal (journal=False): there is no history")
        account_id = self._require_root().account_id
        return KeyHistory(
            account_id=account_id,
            key_id=key_id,
            records=tuple(self._journal.records(account_id, key_id)),
        )


class _OneAccount:
    """A single account signed in as root: the engine's `Account` (unusable = Inactive)."""

    def __init__(self, manager: RootKeyManager, gateway: IamGateway) -> None:
        self._manager = manager
        self._gateway = gateway

    @property
    def account_id(self) -> str:
        return self._manager.account_id

    @property
    def gateway(self) -> IamGateway:
        return self._gateway

    def prove_root(self) -> CallerIdentity:
        return self._manager._require_root()

    def rules(self, states: Mapping[str, KeyState]) -> AccountRules:
        return AccountRules()

    def last_sign_in(self) -> datetime | None:
        return None  # deactivating keys leaves the console alone: nothing to block for


rehome(globals())
