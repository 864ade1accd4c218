"""Centralized root access for an organization: what is on, and turning it on.

Three switches, in this order, each AWS's own call:

1. ``organizations:EnableAWSServiceAccess`` for ``iam.amazonaws.com``: trusted access
   for IAM (the management account only);
2. ``iam:EnableOrganizationsRootCredentialsManagement``: the management account (and
   IAM's delegated administrator) may manage member accounts' root credentials;
3. ``iam:EnableOrganizationsRootSessions``: they may call ``sts:AssumeRoot``.

Both IAM calls need the management account (``CallerIsNotManagementAccountException``
for the delegated administrator) and trusted access (``ServiceAccessNotEnabledException``),
in an organization with all features. `RootAccessSetup.read` tells what is on and what
enabling would call; `RootAccessSetup.enable` refuses outside the management account
before any change, makes only the calls still needed (a second run makes none), logs
each, and reads the result back. Nothing is journaled: the journal records keys, and
what is on is AWS's to say (`read` asks it; CloudTrail records who changed it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from pydantic import BaseModel, ConfigDict, Field, computed_field

from rootkeys._errors import (
    AWSError,
    InputError,
    NotManagementAccountError,
    OrganizationSetupError,
)
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular

if TYPE_CHECKING:
    from collections.abc import Callable

    from rootkeys._clock import Clock

__all__ = [
    "ENABLE_CALLS",
    "IAM_PRINCIPAL",
    "READ_PERMISSIONS",
    "OrganizationRead",
    "RootAccess",
    "RootAccessRole",
    "RootAccessSetup",
]

log = logging.getLogger("rootkeys")

IAM_PRINCIPAL = "iam.amazonaws.com"
TRUSTED_ACCESS = "organizations:EnableAWSServiceAccess"
CREDENTIALS = "iam:EnableOrganizationsRootCredentialsManagement"
SESSIONS = "iam:EnableOrganizationsRootSessions"
ENABLE_CALLS = (TRUSTED_ACCESS, CREDENTIALS, SESSIONS)
"""The calls that enable centralized root access, in the order they must be made."""
READ_PERMISSIONS = ("organizations:DescribeOrganization", "iam:ListOrganizationsFeatures")
"""What reading the state needs (``sts:GetCallerIdentity`` needs no permission)."""
_UNREADABLE_HERE = frozenset(
    {
        "AccountNotManagementOrDelegatedAdministratorException",
        "OrganizationNotInAllFeaturesModeException",
    }
)
"""Why IAM may refuse to list the features to a session that may still read the rest."""
_WAIT_SECONDS = 5.0
_WAIT_TRIES = 12  # a minute for trusted access to reach IAM (eventually consistent)


class RootAccessRole(StrEnum):
    """What the session is to the organization's centralized root access."""

    MANAGEMENT = "management account"
    DELEGATED_ADMINISTRATOR = "IAM delegated administrator"
    MEMBER = "member account"


class RootAccess(Tabular, BaseModel):
    """Centralized root access in an organization: what is on, what enabling would do.

    From `Organization.root_access` (a plan: ``changes`` are the calls enabling would
    make) and `Organization.enable_root_access` (``made`` are the calls it made; empty
    when everything was already on). ``None`` means this session could not read it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    organization_id: str = Field(description="The organization (o-...).")
    management_account_id: str
    account_id: str = Field(description="The account this session belongs to.")
    role: RootAccessRole
    all_features: bool = Field(description="The organization is in all-features mode.")
    trusted_access: bool | None = Field(description="Trusted access for IAM is on.")
    root_credentials_management: bool | None
    root_sessions: bool | None
    changes: tuple[str, ...] = Field(
        description="The calls enabling would make, in order (empty: nothing to do)."
    )
    permissions: tuple[str, ...] = Field(
        description="The IAM actions reading and making those calls need."
    )
    made: tuple[str, ...] = Field(default=(), description="The calls enabling made.")
    note: str = Field(default="", description="Why this session may not enable, if so.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def may_enable(self) -> bool:
        """Whether this session may make the ``changes`` (the management account, all features)."""
        return self.role is RootAccessRole.MANAGEMENT and self.all_features

    @computed_field  # type: ignore[prop-decorator]
    @property
    def enabled(self) -> bool:
        """Whether trusted access and both features are on."""
        return bool(self.trusted_access and self.root_credentials_management and self.root_sessions)

    @property
    def refusal(self) -> str | None:
        """Why this session cannot make the ``changes``; None when it may (or none are due).

        The message `Organization.enable_root_access` refuses with, before any change:
        the management account alone may enable, in an organization with all features.
        """
        refused = self._refused()
        return None if refused is None else str(refused)

    def _refused(self) -> OrganizationSetupError | None:
        """The error enabling refuses with (None: it may go on)."""
        if not self.changes:
            return None
        if self.role is not RootAccessRole.MANAGEMENT:
            return NotManagementAccountError(
                self.account_id,
                self.management_account_id,
                self.role.value,
                "enabling centralized root access",
            )
        if not self.all_features:
            return OrganizationSetupError(self.note)
        return None

    def _table(self, wide: bool = False) -> Table:
        def state(value: bool | None) -> str:
            return "unknown (not readable here)" if value is None else ("on" if value else "off")

        rows = [
            ("organization", self.organization_id),
            ("this session", f"{self.account_id} ({self.role.value})"),
            ("all features", state(self.all_features)),
            ("trusted access for IAM", state(self.trusted_access)),
            ("RootCredentialsManagement", state(self.root_credentials_management)),
            ("RootSessions", state(self.root_sessions)),
        ]
        if self.made:
            after = [f"made: {', '.join(self.made)}"]
        elif self.changes:
            after = [f"enabling calls, in order: {', '.join(self.changes)}"]
            after.append(f"permissions needed: {', '.join(self.permissions)}")
        else:
            after = ["nothing to change: centralized root access is on"]
        before = [self.note] if self.note else []
        return Table("Centralized root access", ("", ""), rows, before=before, after=after)


@dataclass(frozen=True)
class OrganizationRead:
    """The organization and IAM's features for it, as one read saw them.

    Attributes:
        details: ``DescribeOrganization``'s ``Organization`` (id, ARN, feature set...).
        features: the features IAM lists as enabled (empty while trusted access for IAM
            is off); None when IAM would not list them.
        trusted: whether trusted access for IAM is on; None when unknown.
        features_error: why IAM would not list the features, when it would not.
    """

    details: Mapping[str, Any]
    features: frozenset[str] | None
    trusted: bool | None
    features_error: AWSError | None = None

    @property
    def management_account_id(self) -> str:
        """The organization's management account."""
        return str(self.details["MasterAccountId"])

    @property
    def all_features(self) -> bool:
        """Whether the organization is in all-features mode."""
        return self.details.get("FeatureSet") == "ALL"


class RootAccessSetup:
    """Reads and enables centralized root access with a session of the organization.

    Args:
        orgs: an AWS Organizations client.
        iam: an IAM client.
        sts: an STS client (for the caller's account).
        call: runs one AWS call under the retry policy (``call(operation, fn)``).
        clock: sleeps while trusted access reaches IAM.
    """

    def __init__(
        self, orgs: Any, iam: Any, sts: Any, call: Callable[[str, Any], Any], clock: Clock
    ) -> None:
        self._orgs, self._iam, self._sts = orgs, iam, sts
        self._call = call
        self._clock = clock
        self._latest: OrganizationRead | None = None

    def organization(self) -> OrganizationRead:
        """The organization and IAM's features for it, read now: the one reader of both.

        `read` and `ManagementAccount.preflight` both read through it; the latest read is
        kept for the next preflight (`take_latest`), so a read then a preflight make
        ``DescribeOrganization`` and ``ListOrganizationsFeatures`` once.

        Raises:
            RootKeysError: ``DescribeOrganization`` failed (each caller says what it means).
        """
        details = self._call("DescribeOrganization", self._orgs.describe_organization)
        seen = _features(details["Organization"], self._iam, self._call)
        self._latest = seen
        return seen

    def take_latest(self) -> OrganizationRead | None:
        """The latest `organization` read not yet taken, once (then None until the next)."""
        seen, self._latest = self._latest, None
        return seen

    def read(self, *, root_sessions: bool = True) -> RootAccess:
        """What is on, and the calls enabling (with ``root_sessions`` or not) would make.

        Raises:
            InputError: ``root_sessions`` is not True or False (before any AWS call).
            OrganizationSetupError: the account is not in an organization.
        """
        _flag(root_sessions)
        account = str(self._call("GetCallerIdentity", self._sts.get_caller_identity)["Account"])
        try:
            seen = self.organization()
        except AWSError as exc:
            raise OrganizationSetupError(
                f"account {account} is not in an organization readable here ({exc})"
            ) from exc
        if seen.features_error is not None and seen.features_error.code not in _UNREADABLE_HERE:
            raise seen.features_error
        management = seen.management_account_id
        all_features = seen.all_features
        features, trusted = seen.features, seen.trusted
        if account == management:
            role = RootAccessRole.MANAGEMENT
        elif trusted:  # IAM listed the features to a member: its delegated administrator
            role = RootAccessRole.DELEGATED_ADMINISTRATOR
        else:
            role = RootAccessRole.MEMBER
        if not all_features:  # no features without all features, whatever else is known
            features, trusted = features or frozenset(), trusted or False
        credentials = None if features is None else "RootCredentialsManagement" in features
        sessions = None if features is None else "RootSessions" in features
        wanted = {TRUSTED_ACCESS: trusted, CREDENTIALS: credentials}
        if root_sessions:
            wanted[SESSIONS] = sessions
        changes = tuple(call for call, on in wanted.items() if not on)
        return RootAccess(
            organization_id=str(seen.details["Id"]),
            management_account_id=management,
            account_id=account,
            role=role,
            all_features=all_features,
            trusted_access=trusted,
            root_credentials_management=credentials,
            root_sessions=sessions,
            changes=changes,
            permissions=(*READ_PERMISSIONS, *changes),
            note=_note(role, all_features, management),
        )

    def enable(self, *, root_sessions: bool = True) -> RootAccess:
        """Make the calls still needed, in order; the state read back, with what was made.

        Raises:
            InputError: ``root_sessions`` is not True or False (before any AWS call).
            NotManagementAccountError: this session is not the management account (before
                any change).
            OrganizationSetupError: the organization is not in all-features mode.
        """
        plan = self.read(root_sessions=_flag(root_sessions))
        refused = plan._refused()
        if refused is not None:
            raise refused
        if not plan.changes:
            log.info("centralized root access: already on in %s", plan.organization_id)
            return plan
        for change in plan.changes:
            log.info("centralized root access: %s in %s", change, plan.organization_id)
            self._make(change)
        after = self.read(root_sessions=root_sessions)
        return after.model_copy(update={"made": plan.changes, "permissions": plan.permissions})

    def _make(self, change: str) -> None:
        if change == TRUSTED_ACCESS:
            self._call(
                "EnableAWSServiceAccess",
                lambda: self._orgs.enable_aws_service_access(ServicePrincipal=IAM_PRINCIPAL),
            )
            return
        operation = change.removeprefix("iam:")
        method = getattr(self._iam, xform_name(operation))
        for attempt in range(_WAIT_TRIES):
            try:
                self._call(operation, method)
                return
            except AWSError as exc:  # trusted access not seen by IAM yet: wait, bounded
                if exc.code != "ServiceAccessNotEnabledException" or attempt == _WAIT_TRIES - 1:
                    raise
                self._clock.sleep(_WAIT_SECONDS)


def _features(
    details: Mapping[str, Any], iam: Any, call: Callable[[str, Any], Any]
) -> OrganizationRead:
    """``ListOrganizationsFeatures`` for the organization ``details`` describes."""
    try:
        listed = call("ListOrganizationsFeatures", iam.list_organizations_features)
    except AWSError as exc:
        if exc.code == "ServiceAccessNotEnabledException":  # nothing is on without it
            return OrganizationRead(details, frozenset(), trusted=False)
        return OrganizationRead(details, None, None, features_error=exc)
    return OrganizationRead(details, frozenset(listed.get("EnabledFeatures", [])), trusted=True)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"root_sessions must be True or False, not {value!r}")
    return value


def _note(role: RootAccessRole, all_features: bool, management: str) -> str:
    if not all_features:
        return (
            "the organization is not in all-features mode: enable all features in AWS "
            "Organizations first (every member account must approve); rootkeys does not"
        )
    if role is RootAccessRole.DELEGATED_ADMINISTRATOR:
        return (
            f"IAM's delegated administrator may read and use centralized root access, but "
            f"only the management account ({management}) may enable it"
        )
    if role is RootAccessRole.MEMBER:
        return f"only the management account ({management}) may read or enable it"
    return ""


rehome(globals())
