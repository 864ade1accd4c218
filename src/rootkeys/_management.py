"""What rootkeys reaches through an organization's management account.

AWS Organizations (the preflight of centralized root access, the member accounts, the
organization's partition), the quarantine SCP, and AssumeRoot sessions for member
accounts. `ManagementAccount` is what each member account's gateway works through (its
`QuarantineControl`); `Organization` is the public face over it. No change made here is
journaled: the journaled changes are `Organization`'s.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botocore import xform_name

from rootkeys._assume_root import RootSessions
from rootkeys._errors import OrganizationSetupError, RootKeysError
from rootkeys._member_keys import AUDIT, task_policy_in
from rootkeys._quarantine import QuarantineScp
from rootkeys._retry import BOTO_CONFIG, call_with_retries
from rootkeys._root_access import RootAccessSetup

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import boto3

    from rootkeys._clock import Clock
    from rootkeys._iam import IamGateway
    from rootkeys._retry import RetryNotice, RetryPolicy
    from rootkeys._root_access import OrganizationRead

__all__ = ["ENABLE_HOW", "MANAGEMENT_HOW", "NOT_A_MEMBER", "REQUIRED_FEATURES", "ManagementAccount"]

log = logging.getLogger("rootkeys")

REQUIRED_FEATURES = ("RootCredentialsManagement", "RootSessions")
MANAGEMENT_HOW = (
    "sign in as its root user (e.g. in CloudShell) and run rootkeys without --org, or a "
    "single-account RootKeyManager"
)
ENABLE_HOW = (
    "From the management account, run `rootkeys org enable` (or "
    "Organization.enable_root_access()); by hand: aws organizations "
    "enable-aws-service-access --service-principal iam.amazonaws.com, then aws iam "
    "enable-organizations-root-credentials-management and aws iam "
    "enable-organizations-root-sessions."
)


class ManagementAccount:
    """An organization as its management account (or IAM delegated administrator) sees it.

    Args:
        session: a session of the management account.
        region: the region of the STS endpoint for AssumeRoot (always a regional one).
        retry: the retry policy for every AWS call.
        clock: where time comes from.
    """

    def __init__(
        self, session: boto3.Session, *, region: str, retry: RetryPolicy, clock: Clock
    ) -> None:
        self._retry = retry
        self._clock = clock
        self._orgs = session.client("organizations", config=BOTO_CONFIG)
        self._iam = session.client("iam", config=BOTO_CONFIG)
        self._roots = RootSessions(session, region=region, retry=retry, clock=clock)
        self.setup = RootAccessSetup(
            self._orgs,
            self._iam,
            session.client("sts", region_name=region, config=BOTO_CONFIG),
            self._call,
            clock,
        )
        """Reads and enables centralized root access (whatever is on now)."""
        self._management: str | None = None
        self._partition: str | None = None  # the organization's, from its ARN
        self._scp = QuarantineScp(self._orgs, self._call, self._pages)

    def _call(self, operation: str, fn: Any) -> Any:
        return call_with_retries(operation, fn, policy=self._retry, sleep=self._clock.sleep)

    # -- preflight ----------------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        """The management account's id (from the preflight, made once; checked)."""
        return self._management or self.preflight()

    def preflight(self) -> str:
        """Check that centralized root access can work; return the management account id.

        It judges the organization's latest read (`RootAccessSetup.organization`, the one
        reader of the organization and its features) when a root-access read just made one
        and it shows everything on; otherwise it reads now, so a refusal is always today's.

        Raises:
            OrganizationSetupError: not an organization, not in all-features mode, or
                the root features are off; the message says what to enable and how.
        """
        seen = self.setup.take_latest()
        if seen is None or _not_ready(seen) is not None:
            try:
                seen = self.setup.organization()
            except RootKeysError as exc:
                raise OrganizationSetupError(
                    f"cannot describe the organization ({exc}); run rootkeys from the "
                    "management account or the IAM delegated administrator"
                ) from exc
        self._partition = _partition_of(seen.details)
        problem = _not_ready(seen)
        if problem is not None:
            raise OrganizationSetupError(problem) from seen.features_error
        self._management = seen.management_account_id
        return self._management

    # -- members ------------------------------------------------------------------------------

    def accounts(
        self, account_ids: Iterable[str] | None = None, *, ou: str | None = None
    ) -> Iterator[dict[str, str]]:
        """The organization's accounts (all, the ids given, or those under an OU), paged.

        Each is a dict of ``Id``, ``Name`` and ``Status`` (ids validated by the caller); an
        id asked for that is not in the organization comes last, with `NOT_A_MEMBER`.
        """
        wanted = None if account_ids is None else set(account_ids)
        if ou is not None:
            yield from self._accounts_under(ou, wanted)
            return
        seen: set[str] = set()
        for account in _selected(self._pages("ListAccounts", "Accounts"), wanted):
            seen.add(account["Id"])
            yield account
        for missing in sorted((wanted or set()) - seen):  # said, not silently dropped
            yield {"Id": missing, "Name": "", "Status": NOT_A_MEMBER}

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
        method = getattr(self._orgs, xform_name(operation))
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
        """A fresh AssumeRoot session for a member account under ``task_policy``.

        A root task policy's ARN is sent in the organization's partition, whichever
        partition it names (`AUDIT` names ``aws``'s): in AWS GovCloud (US) it is
        ``arn:aws-us-gov:iam::aws:policy/root-task/...``.
        """
        return self._roots.session(account_id, self._task_policy(task_policy))

    def root_gateway(
        self,
        account_id: str,
        task_policy: str,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> IamGateway:
        """A gateway acting in a fresh AssumeRoot session of ``account_id`` (no new client).

        ``task_policy`` is sent in the organization's partition, as in `root_session`.
        """
        return self._roots.gateway(account_id, self._task_policy(task_policy), on_retry=on_retry)

    def _task_policy(self, task_policy: str) -> str:
        """``task_policy`` in the organization's partition (read once, from its ARN)."""
        return task_policy_in(self.partition, task_policy)

    @property
    def partition(self) -> str:
        """The organization's partition (``aws``, ``aws-us-gov``...), read once from its ARN."""
        if self._partition is None:
            org = self._call("DescribeOrganization", self._orgs.describe_organization)
            self._partition = _partition_of(org["Organization"])
        return self._partition

    # -- the quarantine SCP -------------------------------------------------------------------

    def quarantine_policy_id(self) -> str | None:
        """The quarantine SCP's id, or None while it does not exist (the first attach makes it)."""
        return self._scp.find()

    def is_quarantined(self, account_id: str) -> bool:
        """Whether the quarantine SCP is attached to the account itself (creates nothing)."""
        return self._scp.is_attached(account_id)

    def attached_scps(self, account_id: str) -> list[str]:
        """Ids of the SCPs attached to the account itself, read now."""
        return self._scp.attached(account_id)

    def attach_quarantine(self, account_id: str) -> bool:
        """Attach the quarantine SCP (made on first use); False if it already was.

        Raises:
            QuarantineBlockedError: the account already has AWS's maximum of 5 SCPs.
        """
        return self._scp.attach(account_id)

    def detach_quarantine(self, account_id: str) -> bool:
        """Detach the quarantine SCP; False if it was not attached."""
        return self._scp.detach(account_id)


NOT_A_MEMBER = "NOT_A_MEMBER"
"""The status `ManagementAccount.accounts` gives an id asked for that the organization lacks."""


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


def _not_ready(seen: OrganizationRead) -> str | None:
    """What keeps centralized root access from working in the organization seen, if anything."""
    if not seen.all_features:
        return (
            "the organization is not in all-features mode: enable all features in AWS "
            "Organizations first. " + ENABLE_HOW
        )
    error = seen.features_error
    if error is not None:
        return f"cannot read IAM's organization features ({error}). " + ENABLE_HOW
    missing = [] if seen.trusted else ["trusted access for IAM"]
    missing += [f for f in REQUIRED_FEATURES if f not in (seen.features or ())]
    if missing:
        return (
            f"centralized root access is not fully on (missing: {', '.join(missing)}). "
            + ENABLE_HOW
        )
    return None


def _partition_of(organization: Mapping[str, Any]) -> str:
    """The organization's partition, from its ARN (``arn:aws-us-gov:organizations::...``)."""
    arn = str(organization.get("Arn") or "")
    if arn.startswith("arn:") and arn.count(":") >= 5:
        return arn.split(":")[1]
    log.warning("DescribeOrganization gave no organization ARN; assuming partition aws")
    return "aws"
