"""Every member account's root credentials, read through AssumeRoot (a base of `Organization`).

`OrganizationCredentials.credentials` streams one `RootCredentials` per selected member
account, read in an ``IAMAuditRootUserCredentials`` session (every call inside that task
policy), as `Organization.audit` streams keys. `root_access_finding` is the
organization's own finding: whether centralized root credentials management is on
(Prowler's ``iam_root_credentials_management_enabled``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict

from rootkeys._controls import Finding, FindingStatus
from rootkeys._credentials import RootCredentials, read_root_credentials
from rootkeys._driver import fan_out
from rootkeys._errors import (
    AccountMismatchError,
    InputError,
    OrganizationSetupError,
    RootKeysError,
)
from rootkeys._member_keys import AUDIT, RECOVER
from rootkeys._member_runs import out_of_reach
from rootkeys._models import validate_account_id, validate_account_ids, validate_ou
from rootkeys._orgreports import AuditStatus
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import boto3

    from rootkeys._clock import Clock
    from rootkeys._compliance import ControlConfirmation
    from rootkeys._management import ManagementAccount
    from rootkeys._retry import RetryPolicy

__all__ = ["OrganizationCredentials", "PasswordRecovery", "root_access_finding"]

log = logging.getLogger("rootkeys")

R = TypeVar("R")


def root_access_finding(
    management_account_id: str,
    enabled: bool | None,
    *,
    now: datetime,
    organization: str = "",
    detail: str = "",
) -> Finding:
    """The organization's finding: root credentials management on (PASS) or not (FAIL).

    ``enabled`` None (could not be read) fails too, with ``detail`` saying why.
    """
    return Finding(
        check="root_credentials_management_enabled",
        account_id=management_account_id,
        status=FindingStatus.PASS if enabled else FindingStatus.FAIL,
        detail=detail
        or (
            "RootCredentialsManagement is enabled"
            if enabled
            else "RootCredentialsManagement is not enabled"
        ),
        resource=organization or f"organization of {management_account_id}",
        time=now,
    )


class OrganizationCredentials:
    """Reading every member's root credentials (a base of `Organization`)."""

    _management: ManagementAccount
    _clock: Clock
    _workers: int
    _retry: RetryPolicy

    def credentials(
        self, account_ids: Iterable[str] | None = None, *, ou: str | None = None
    ) -> Iterator[RootCredentials]:
        """Each member account's root credentials and findings, as they come (a read).

        Keys, signing certificates, password and MFA devices, read in an
        ``IAMAuditRootUserCredentials`` session: every call is inside that task policy,
        nothing is changed. Streams like `audit` (at most ``workers`` accounts in
        flight). The management account is reported out of reach (read it with
        `RootKeyManager.credentials` signed in as its root user), suspended accounts
        skipped; an account that fails is reported failed, and the others go on.

        Raises:
            InputError: bad ``account_ids`` or ``ou``, before any AWS call.
        """
        wanted, ou = validate_account_ids(account_ids), validate_ou(ou)
        return self._credentials(wanted, ou)

    def _credentials(self, wanted: list[str] | None, ou: str | None) -> Iterator[RootCredentials]:
        management = self._management.account_id
        yield from fan_out(
            self._management.accounts(wanted, ou=ou),
            self._read_member,
            lambda account: self._unread(account, management),
            self._workers,
        )

    def _read_member(self, account: dict[str, str]) -> RootCredentials:
        partition = self._management.partition
        try:
            gateway = self._management.root_gateway(account["Id"], AUDIT)
            return read_root_credentials(
                gateway,
                account["Id"],
                now=self._clock.now(),
                name=account["Name"],
                member=True,
                partition=partition,
            )
        except RootKeysError as exc:
            return RootCredentials(
                account_id=account["Id"],
                name=account["Name"],
                status=AuditStatus.FAILED,
                reason=str(exc),
                member=True,
                partition=partition,
                read_at=self._clock.now(),
            )

    def _unread(self, account: dict[str, str], management: str) -> RootCredentials | None:
        audit = out_of_reach(account, management)
        if audit is None:
            return None
        return RootCredentials(
            account_id=audit.account_id,
            name=audit.name,
            status=audit.status,
            reason=audit.reason,
            member=account["Id"] != management,
            partition=self._management.partition,
            read_at=self._clock.now(),
        )

    def root_access_finding(self) -> Finding:
        """Whether centralized root credentials management is on, as a finding.

        PASS when ``RootCredentialsManagement`` is on, as Prowler's
        ``iam_root_credentials_management_enabled`` judges it (``RootSessions`` is not
        part of this check); FAIL, naming the management account, when it is off.
        """
        try:
            state = self._management.setup.read(root_sessions=False)
        except OrganizationSetupError as exc:  # not even an organization to judge
            return root_access_finding("", False, now=self._clock.now(), detail=str(exc))
        return root_access_finding(
            state.management_account_id,
            state.root_credentials_management,
            now=self._clock.now(),
            organization=state.organization_id,
        )

    def allow_password_recovery(self, account_id: str) -> PasswordRecovery:
        """Let a member account's root user recover a password: the undo of deleting it.

        In an ``IAMCreateRootUserPassword`` AssumeRoot session, ``iam:CreateLoginProfile``
        with no password: the root user can then set one through the console's "forgot
        password". A root user that already has a password is left as it is. Changes
        nothing else; a change in AWS, so the CLI asks first.

        Raises:
            InputError: a malformed id, or the management account (out of AssumeRoot's
                reach: its root user recovers a password the usual way), before any call.
        """
        account_id = validate_account_id(account_id)
        management = self._management.account_id
        if account_id == management:
            raise InputError(
                f"{account_id} is the management account, which AssumeRoot cannot reach: "
                "its root user recovers a password from the sign-in page"
            )
        gateway = self._management.root_gateway(account_id, RECOVER)
        allowed = gateway.allow_password_recovery()
        log.info("password recovery in %s: %s", account_id, "allowed" if allowed else "had one")
        return PasswordRecovery(account_id=account_id, allowed=allowed, at=self._clock.now())

    def confirm_control(
        self,
        account_id: str,
        *,
        session: boto3.Session,
        region: str | None = None,
        timeout: timedelta = timedelta(minutes=10),
        poll: timedelta = timedelta(seconds=15),
    ) -> ControlConfirmation:
        """AWS Config's verdict on a member account's root-key rule (IAM.4), now.

        `RootKeyManager.confirm_control` for a member account: no root task policy
        reaches AWS Config, so ``session`` is yours, in that account (for instance a role
        you assume there, allowed ``config:StartConfigRulesEvaluation``,
        ``config:DescribeConfigRules`` and ``config:DescribeComplianceByConfigRule``);
        rootkeys checks that it is in ``account_id`` (``sts:GetCallerIdentity``), asks
        Config to evaluate the rule and waits for its verdict. A write to AWS Config,
        never to a credential. ``region``: where Config records global resources
        (default: the session's).

        Raises:
            InputError: a malformed id or duration, the management account, or no
                session, before anything is asked of AWS Config.
            AccountMismatchError: ``session`` is in another account; nothing was asked.
        """
        from rootkeys._compliance import confirm_root_key_rule, validate_waits
        from rootkeys._evidence import validate_regions
        from rootkeys._retry import BOTO_CONFIG, call_with_retries

        account_id = validate_account_id(account_id)
        validate_waits(timeout, poll)
        if not hasattr(session, "client"):
            raise InputError("session must be a boto3.Session in the member account")
        (chosen,) = validate_regions([region or session.region_name or "us-east-1"])
        if account_id == self._management.account_id:
            raise InputError(
                f"{account_id} is the management account: confirm its control with "
                "RootKeyManager.confirm_control, signed in as its root user"
            )
        sts = session.client("sts", region_name=chosen, config=BOTO_CONFIG)
        policy = self._retry
        identity = call_with_retries(
            "GetCallerIdentity", sts.get_caller_identity, policy=policy, sleep=self._clock.sleep
        )
        if identity["Account"] != account_id:
            raise AccountMismatchError(identity["Arn"], account_id, identity["Account"])
        return confirm_root_key_rule(
            session.client("config", region_name=chosen, config=BOTO_CONFIG),
            account_id=account_id,
            region=chosen,
            clock=self._clock,
            timeout=timeout,
            poll=poll,
            policy=policy,
        )


class PasswordRecovery(BaseModel):
    """What `Organization.allow_password_recovery` did in one member account."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    allowed: bool
    """True: the root user may now set a password ("forgot password"); False: it already
    had one, and nothing changed."""
    at: datetime


rehome(globals())
