"""`Organization`: every member account's root keys, without signing in as root.

Built from a session of the management account (or the IAM delegated administrator). It
checks that centralized root access is on, lists the member accounts, and reaches each
member's root user through ``sts:AssumeRoot`` with a task policy: a fresh session per
account and step (they last at most 15 minutes), never one held across a window.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from rootkeys._errors import (
    InputError,
    OrganizationSetupError,
    QuarantineBlockedError,
    RootKeysError,
)
from rootkeys._iam import DEFAULT_REGION, IamGateway
from rootkeys._models import AccessKey, AccountId, validate_account_id
from rootkeys._render import Table, Tabular
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from rootkeys._clock import Clock

__all__ = ["QUARANTINE_POLICY", "TASK_POLICY", "AccountAudit", "AuditStatus", "Organization"]

log = logging.getLogger("rootkeys")

TASK_POLICY = "arn:aws:iam::aws:policy/root-task/"
AUDIT = TASK_POLICY + "IAMAuditRootUserCredentials"
ROOT_SESSION_SECONDS = 900
MAX_SCPS_PER_TARGET = 5
QUARANTINE_NAME = "rootkeys-quarantine-root-user"
QUARANTINE_DESCRIPTION = (
    "rootkeys: makes the member account's root user credentials unusable while its root "
    "access keys are observed; detached to roll back"
)
QUARANTINE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "QuarantineRootUser",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"},
                "Null": {"aws:AssumedRoot": "true"},
            },
        }
    ],
}
"""Denies every action to the root user, except in AssumeRoot sessions (AWS's pattern)."""
REQUIRED_FEATURES = ("RootCredentialsManagement", "RootSessions")
ENABLE_HOW = (
    "In the management account: enable trusted access for IAM in AWS Organizations "
    "(aws organizations enable-aws-service-access --service-principal iam.amazonaws.com), "
    "then aws iam enable-organizations-root-credentials-management and "
    "aws iam enable-organizations-root-sessions."
)


class AuditStatus(StrEnum):
    """How auditing one account went."""

    AUDITED = "audited"
    OUT_OF_REACH = "out of reach"
    SKIPPED = "skipped"
    FAILED = "failed"


class AccountAudit(Tabular, BaseModel):
    """One account's root keys, as an audit session saw them."""

    model_config = ConfigDict(frozen=True)

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


class Organization:
    """The root keys of an AWS Organization's member accounts.

    Args:
        session: a session of the management account (or the IAM delegated administrator).
        workers: how many accounts are worked on at once.
        region: the region of the STS endpoint for AssumeRoot (always a regional one).
        retry: the retry policy for every AWS call.
        clock: where time comes from.

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
    ) -> None:
        from rootkeys._clock import SystemClock

        count: object = workers
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 256:
            raise InputError(f"workers must be a whole number from 1 to 256, got {workers!r}")
        self._session = session or boto3.Session()
        self._workers = count
        self._region = region or self._session.region_name or DEFAULT_REGION
        self._retry = retry or RetryPolicy()
        self._clock: Clock = clock or SystemClock()
        self._orgs = self._session.client("organizations", config=BOTO_CONFIG)
        self._iam = self._session.client("iam", config=BOTO_CONFIG)
        self._sts = _regional_sts(self._session, self._region)
        self._management: str | None = None
        self._policy_id: str | None = None
        self._policy_lock = threading.Lock()

    def _call(self, operation: str, fn: Any) -> Any:
        return call_with_retries(operation, fn, policy=self._retry, sleep=self._clock.sleep)

    # -- preflight ----------------------------------------------------------------------------

    def preflight(self) -> str:
        """Check that centralized root access can work; return the management account id.

        Raises:
            OrganizationSetupError: not an organization, not in all-features mode, or
                the root features are off; the message says what to enable and how.
        """
        try:
            org = self._call("DescribeOrganization", self._orgs.describe_organization)
        except RootKeysError as exc:
            raise OrganizationSetupError(
                f"cannot describe the organization ({exc}); run rootkeys from the management "
                "account or the IAM delegated administrator"
            ) from exc
        details = org["Organization"]
        if details.get("FeatureSet") != "ALL":
            raise OrganizationSetupError(
                "the organization is not in all-features mode: enable all features in AWS "
                "Organizations first. " + ENABLE_HOW
            )
        try:
            features = self._call(
                "ListOrganizationsFeatures", self._iam.list_organizations_features
            )
        except RootKeysError as exc:
            raise OrganizationSetupError(
                f"cannot read IAM's organization features ({exc}). " + ENABLE_HOW
            ) from exc
        missing = [f for f in REQUIRED_FEATURES if f not in features.get("EnabledFeatures", [])]
        if missing:
            raise OrganizationSetupError(
                f"centralized root access is not fully on (missing: {', '.join(missing)}). "
                + ENABLE_HOW
            )
        self._management = str(details["MasterAccountId"])
        return self._management

    # -- members ------------------------------------------------------------------------------

    def accounts(
        self, account_ids: Iterable[str] | None = None, *, ou: str | None = None
    ) -> Iterator[dict[str, str]]:
        """The organization's accounts (all, the ids given, or those under an OU), paged."""
        wanted = None if account_ids is None else {validate_account_id(a) for a in account_ids}
        if ou is not None:
            yield from self._accounts_under(ou, wanted)
            return
        yield from _selected(self._pages("ListAccounts", "Accounts"), wanted)

    def _accounts_under(self, ou: str, wanted: set[str] | None) -> Iterator[dict[str, str]]:
        pending = [ou]
        while pending:
            parent = pending.pop()
            accounts = self._pages("ListAccountsForParent", "Accounts", ParentId=parent)
            yield from _selected(accounts, wanted)
            units = self._pages(
                "ListOrganizationalUnitsForParent", "OrganizationalUnits", ParentId=parent
            )
            pending.extend(unit["Id"] for unit in units)

    def _pages(self, operation: str, key: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated Organizations listing, each page under the retry policy."""
        method = getattr(self._orgs, _snake(operation))
        token: str | None = None
        while True:
            args = {**params, **({"NextToken": token} if token else {})}
            page = self._call(operation, lambda args=args: method(**args))
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    # -- root sessions ---------------------------------------------------------------------

    def root_session(self, account_id: str, task_policy: str = AUDIT) -> boto3.Session:
        """A fresh AssumeRoot session for a member account under ``task_policy``."""
        answer = self._call(
            "AssumeRoot",
            lambda: self._sts.assume_root(
                TargetPrincipal=account_id,
                TaskPolicyArn={"arn": task_policy},
                DurationSeconds=ROOT_SESSION_SECONDS,
            ),
        )
        credentials = answer["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._region,
        )

    # -- quarantine ---------------------------------------------------------------------------

    def quarantine_policy_id(self) -> str:
        """The quarantine SCP's id: found by name, or created once and reused."""
        with self._policy_lock:
            if self._policy_id is None:
                for policy in self._pages(
                    "ListPolicies", "Policies", Filter="SERVICE_CONTROL_POLICY"
                ):
                    if policy.get("Name") == QUARANTINE_NAME:
                        self._policy_id = str(policy["Id"])
                        break
                else:
                    made = self._call(
                        "CreatePolicy",
                        lambda: self._orgs.create_policy(
                            Content=json.dumps(QUARANTINE_POLICY),
                            Description=QUARANTINE_DESCRIPTION,
                            Name=QUARANTINE_NAME,
                            Type="SERVICE_CONTROL_POLICY",
                        ),
                    )
                    self._policy_id = str(made["Policy"]["PolicySummary"]["Id"])
            return self._policy_id

    def quarantine(self, account_id: str) -> bool:
        """Attach the quarantine SCP: the member's root credentials stop working.

        This is the organization's reversible "deactivate" (AssumeRoot's delete task
        policy cannot deactivate a key). Returns False if it was already attached.

        Raises:
            QuarantineBlockedError: the account already has AWS's maximum of 5 SCPs.
        """
        account_id = validate_account_id(account_id)
        policy_id = self.quarantine_policy_id()
        attached = self._scps(account_id)
        if policy_id in attached:
            return False
        if len(attached) >= MAX_SCPS_PER_TARGET:
            raise QuarantineBlockedError(account_id, len(attached))
        self._call(
            "AttachPolicy",
            lambda: self._orgs.attach_policy(PolicyId=policy_id, TargetId=account_id),
        )
        return True

    def release(self, account_id: str) -> bool:
        """Detach the quarantine SCP (the rollback). Returns False if it was not attached."""
        account_id = validate_account_id(account_id)
        policy_id = self.quarantine_policy_id()
        if policy_id not in self._scps(account_id):
            return False
        try:
            self._call(
                "DetachPolicy",
                lambda: self._orgs.detach_policy(PolicyId=policy_id, TargetId=account_id),
            )
        except RootKeysError as exc:
            if getattr(exc, "code", "") == "PolicyNotAttachedException":
                return False
            raise
        return True

    def _scps(self, account_id: str) -> list[str]:
        """Ids of the SCPs attached to the account itself."""
        return [
            str(p["Id"])
            for p in self._pages(
                "ListPoliciesForTarget",
                "Policies",
                TargetId=account_id,
                Filter="SERVICE_CONTROL_POLICY",
            )
        ]

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
        management = self._management or self.preflight()
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            running: set[Future[AccountAudit]] = set()
            for account in self.accounts(account_ids, ou=ou):
                if len(running) >= self._workers:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
                immediate = _not_auditable(account, management)
                if immediate is not None:
                    yield immediate
                    continue
                running.add(pool.submit(self._audit_one, account))
            for future in _as_done(running):
                yield future.result()

    def _audit_one(self, account: dict[str, str]) -> AccountAudit:
        try:
            gateway = IamGateway.from_session(
                self.root_session(account["Id"], AUDIT),
                policy=self._retry,
                sleep=self._clock.sleep,
            )
            keys = gateway.list_keys()
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


def _selected(
    accounts: Iterable[dict[str, Any]], wanted: set[str] | None
) -> Iterator[dict[str, str]]:
    for account in accounts:
        if wanted is None or account["Id"] in wanted:
            yield {
                "Id": account["Id"],
                "Name": account.get("Name", ""),
                "Status": account.get("Status", ""),
            }


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _not_auditable(account: dict[str, str], management: str) -> AccountAudit | None:
    if account["Id"] == management:
        return AccountAudit(
            account_id=account["Id"],
            name=account["Name"],
            status=AuditStatus.OUT_OF_REACH,
            reason="the management account cannot be an AssumeRoot target: run a "
            "single-account RootKeyManager signed in as its root user (e.g. from CloudShell)",
        )
    if account["Status"] != "ACTIVE":
        return AccountAudit(
            account_id=account["Id"],
            name=account["Name"],
            status=AuditStatus.SKIPPED,
            reason=f"account is {account['Status'] or 'not active'}",
        )
    return None


def _as_done(futures: set[Future[AccountAudit]]) -> Iterator[Future[AccountAudit]]:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from done


def _regional_sts(session: boto3.Session, region: str) -> Any:
    """An STS client on a regional endpoint (AssumeRoot is not served by the global one).

    An endpoint set explicitly (``AWS_ENDPOINT_URL``, a LocalStack or moto server) is kept.
    """
    client = session.client("sts", region_name=region, config=BOTO_CONFIG)
    if client.meta.endpoint_url.rstrip("/") == "https://sts.amazonaws.com":
        client = session.client(
            "sts",
            region_name=region,
            config=BOTO_CONFIG,
            endpoint_url=f"https://sts.{region}.amazonaws.com",
        )
    return client
