"""`RootKeyManager`: one account's root access keys, removed safely.

The manager asks the lifecycle what may happen, records the intent, calls the gateway,
reads IAM until the change shows, records the outcome, then tells the hooks. Nothing
mutates before the caller is proven to be the account's root user, and the key that
signs the session is never touched.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import boto3
import botocore.exceptions
from boto3.session import Session

from rootkeys._clock import Clock, clock_or_default
from rootkeys._errors import (
    AccountMismatchError,
    InputError,
    KeyNotFoundError,
    NotRootError,
    ProtectedKeyError,
)
from rootkeys._evidence import EvidenceSource, root_report_row, validate_regions
from rootkeys._iam import DEFAULT_REGION, IamGateway
from rootkeys._journal import Journal, KeyHistory, RecordKind, open_journal
from rootkeys._lifecycle import resolve_windows, validate_consistency_timeout, validate_window
from rootkeys._memory import KeyMemory, reconcile, replay
from rootkeys._models import (
    AccessKey,
    CallerIdentity,
    KeyState,
    StepResult,
    StepStatus,
    validate_account_id,
    validate_key_id,
)
from rootkeys._observe import Check, Emitter, Hook, callables
from rootkeys._plan import make_plan
from rootkeys._preflight import check_preflight
from rootkeys._retry import RetryPolicy, retry_or_default
from rootkeys._run import RemovalRun, new_run_id, reconciled
from rootkeys._status import RemovalStatus, describe
from rootkeys._steps import Stepper, state_of

if TYPE_CHECKING:
    import contextlib
    import os
    from collections.abc import Iterable, Sequence

    from botocore.config import Config
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_sts.client import STSClient

    from rootkeys._findings import RemovalPolicy
    from rootkeys._reports import Plan, RemovalReport

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
            default the per-user journal (`default_journal_path`). ``False``: no journal,
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
        policy = retry_or_default(retry)
        self._clock: Clock = clock_or_default(clock)
        self._emit = Emitter(hooks, self._clock)
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
        return self._gateway.list_keys()

    def plan(
        self,
        observe_for: timedelta | RemovalPolicy | None = None,
        *,
        evidence: bool = True,
        regions: Sequence[str] | None = None,
        evidence_budget: timedelta = timedelta(minutes=2),
        preflight: bool = True,
    ) -> Plan:
        """What `remove_all` would do, key by key, without changing anything.

        With ``evidence`` (the default), each key carries who has been using it: IAM's
        last use and a summary of its CloudTrail events over the last 90 days in
        ``regions`` (default: the account's enabled regions, from EC2
        ``DescribeRegions``), within ``evidence_budget``. Missing CloudTrail permissions
        make the evidence "unavailable", with the reason, never an error.

        With ``preflight`` (the default), the plan also checks the prerequisites and
        warns prominently when no other administrator (an IAM user or role with
        ``AdministratorAccess`` or ``*:*``) is found, or when root has no MFA.
        """
        window, policy, _ = (
            (None, None, None) if observe_for is None else resolve_windows(observe_for, None)
        )
        wanted = None if regions is None else validate_regions(regions)
        budget: object = evidence_budget
        if not isinstance(budget, timedelta) or budget <= timedelta(0):
            raise InputError(f"evidence_budget must be a positive timedelta, got {budget!r}")
        identity = self._require_root()
        plan = self._plan(
            identity,
            window,
            policy=policy,
            evidence=evidence,
            regions=wanted,
            budget=evidence_budget,
        )
        if evidence:
            row, why = root_report_row(self._gateway, self._clock, evidence_budget)
            plan = plan.model_copy(
                update={"credential_report": row, "credential_report_unavailable": why}
            )
        if self._journal is not None:
            run_id = new_run_id()
            for planned in plan.keys:
                if planned.evidence is not None:
                    self._journal.append(
                        account_id=identity.account_id,
                        key_id=planned.key.key_id,
                        run_id=run_id,
                        kind=RecordKind.EVIDENCE,
                        at=plan.created_at,
                        detail=planned.evidence.model_dump_json(),
                    )
        if not preflight:
            return plan
        partition = identity.arn.split(":")[1]
        return plan.model_copy(update={"preflight": check_preflight(self._gateway, partition)})

    def _plan(
        self,
        identity: CallerIdentity,
        observe_for: timedelta | None,
        *,
        policy: RemovalPolicy | None = None,
        evidence: bool = False,
        regions: tuple[str, ...] | None = None,
        budget: timedelta = timedelta(minutes=2),
    ) -> Plan:
        keys = self._gateway.list_keys()
        found = (
            self._evidence.for_keys(identity.account_id, keys, regions, budget) if evidence else {}
        )
        return make_plan(
            account_id=identity.account_id,
            caller_arn=identity.arn,
            keys=keys,
            now=self._clock.now(),
            observe_for=observe_for,
            policy=policy,
            evidence=found,
            signing_key_id=identity.signing_key_id,
        )

    # -- evidence ---------------------------------------------------------------------------

    def enabled_regions(self) -> tuple[str, ...]:
        """The account's enabled regions (EC2 ``DescribeRegions``); on error, the session's."""
        return self._evidence.enabled_regions()

    def verify(self) -> bool:
        """Whether no root access key remains (listed keys and ``AccountAccessKeysPresent``)."""
        self._require_root()
        return not self._gateway.key_statuses() and not self._gateway.keys_present()

    # -- explicit steps -----------------------------------------------------------------

    def deactivate(self, key_id: str) -> StepResult:
        """Make an Active key Inactive (reversible with `reactivate`)."""
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
        key_id = validate_key_id(key_id)
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
        return StepResult(
            account_id=identity.account_id,
            key_id=key_id,
            action=step.action,
            from_state=current,
            to_state=current if step.status is StepStatus.UNVERIFIED else target,
            step=step,
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
    ) -> RemovalReport:
        """Deactivate, observe, then delete every root access key that may be removed.

        Active keys are deactivated first; then every key (those found Inactive or
        Expired too) is observed for ``observe_for``, the checks running every
        ``check_interval`` and at the end. If every check passes for the whole window,
        the keys are deleted and ``AccountAccessKeysPresent`` is confirmed to be 0.
        If any check fails, every key rootkeys deactivated is reactivated, nothing is
        deleted, and those keys are put on hold (rootkeys will not deactivate them again
        on its own). The key that signs the session is never touched.

        With a journal, a key's window starts when the journal recorded it unusable
        (a key found Inactive with no record: when first seen, never earlier).

        Args:
            observe_for: the observation window: one `timedelta` for every key, or a
                `RemovalPolicy`, which gathers each key's evidence (IAM last use,
                CloudTrail in ``regions`` within ``evidence_budget``) and gives each key
                the window its risk calls for. ``timedelta(0)`` must be asked for
                explicitly: there is no default that deletes without observing.
            check_interval: time between check runs (default: a tenth of the window,
                between one second and one hour).
            wait: ``True`` blocks until every window has passed. ``False`` (needs a
                journal) advances every key as far as is safe now and returns at once:
                run it daily and it converges.
            regions: with a policy, where to look for CloudTrail evidence (default: the
                account's enabled regions).
            evidence_budget: with a policy, the most time evidence gathering may take.
        """
        window, policy, interval = resolve_windows(observe_for, check_interval)
        wanted = None if regions is None else validate_regions(regions)
        if not isinstance(wait, bool):
            raise InputError(f"wait must be True or False, not {wait!r}")
        if not wait and self._journal is None:
            raise InputError(
                "wait=False needs a journal to remember windows between runs; "
                "this manager was made with journal=False"
            )
        identity = self._require_root()
        run_id = new_run_id()
        with self._reconciled(identity.account_id, run_id) as memory:
            plan = self._plan(
                identity,
                window,
                policy=policy,
                evidence=policy is not None,
                regions=wanted,
                budget=evidence_budget,
            )
            run = RemovalRun(
                plan,
                gateway=self._gateway,
                stepper=self._stepper,
                emit=self._emit,
                clock=self._clock,
                checks=self._checks,
                interval=interval,
                wait=wait,
                journal=self._journal,
                memory=memory,
                run_id=run_id,
            )
            return run.execute()

    # -- the journal ------------------------------------------------------------------------

    @property
    def journal(self) -> Journal | None:
        """The journal this manager records to (None when made with ``journal=False``)."""
        return self._journal

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

    def status(self, observe_for: timedelta | None = None) -> RemovalStatus:
        """Where each root key stands: stage, since when, what comes next and when.

        Reads IAM and the journal; changes neither. With ``observe_for``, the time of
        each key's next step (its deletion after the window) is given.
        """
        if observe_for is not None:
            validate_window(observe_for, None)
        identity = self._require_root()
        keys = self._gateway.key_statuses()
        records = self._journal.records(identity.account_id) if self._journal else []
        now = self._clock.now()
        states = {key_id: KeyState(status.value) for key_id, status in keys.items()}
        memory = replay(
            [*records, *reconcile(identity.account_id, replay(records), states, now, "")]
        )
        return describe(identity, keys, memory, now, observe_for)

    def history(self, key_id: str) -> KeyHistory:
        """The journal's records for one key, oldest first."""
        key_id = validate_key_id(key_id)
        if self._journal is None:
            raise InputError("this manager has no journal (journal=False): there is no history")
        account_id = self._require_root().account_id
        return KeyHistory(
            account_id=account_id,
            key_id=key_id,
            records=tuple(self._journal.records(account_id, key_id)),
        )
