"""Centralized root access in the sandbox: ``sts:AssumeRoot`` and the IAM feature calls.

moto has AWS Organizations but neither ``sts:AssumeRoot`` nor
``iam:ListOrganizationsFeatures``. Here they are, with AWS's constraints: only a
principal of the management account may assume root, of a member account only (never
the management account), through a regional STS endpoint, with one of the five task
policies (their ARNs in the organization's partition), for at most 900 seconds, once
the ``RootSessions`` feature is on. In the session, any action outside the task policy
answers ``AccessDenied``, as in AWS.

Enabling is emulated too (see `root_access`): trusted access for IAM
(``organizations:EnableAWSServiceAccess``), the IAM delegated administrator, and the two
``iam:EnableOrganizationsRoot*`` calls, with their preconditions and errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from rootkeys.testing import _http
from rootkeys.testing._policy import denies

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from rootkeys.testing._policy import CallContext

__all__ = [
    "FEATURES",
    "IAM_PRINCIPAL",
    "MAX_DURATION",
    "TASK_POLICIES",
    "SandboxOrganization",
    "TaskSession",
    "scp_denies",
    "service_access",
]

TASK_POLICY_PATH = "iam::aws:policy/root-task/"
"""A root task policy's ARN is ``arn:<partition>:`` + this + its name."""
MAX_DURATION = timedelta(seconds=900)
IAM_PRINCIPAL = "iam.amazonaws.com"
"""IAM's service principal in AWS Organizations (trusted access, delegated administrator)."""
FEATURES = ("RootCredentialsManagement", "RootSessions")
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})

TASK_POLICIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # IAM User Guide, root-task policies (v1, 2024-11); the IAM two as rootkeys relies on.
        "IAMAuditRootUserCredentials": frozenset(
            {
                "iam:ListAccessKeys",
                "iam:ListSigningCertificates",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
                "iam:GetAccountSummary",
                "iam:GetUser",
                "iam:GetAccessKeyLastUsed",
            }
        ),
        "IAMDeleteRootUserCredentials": frozenset(
            {
                "iam:DeleteAccessKey",
                "iam:DeleteSigningCertificate",
                "iam:DeleteLoginProfile",
                "iam:DeactivateMFADevice",
                "iam:DeleteVirtualMFADevice",
                "iam:ListAccessKeys",
                "iam:ListSigningCertificates",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
                "iam:GetUser",
                "iam:GetAccessKeyLastUsed",
            }
        ),
        # Password recovery (aws-root-facts.md), and two rootkeys never uses, approximated.
        "IAMCreateRootUserPassword": frozenset(
            {"iam:CreateLoginProfile", "iam:GetLoginProfile", "iam:GetUser"}
        ),
        "S3UnlockBucketPolicy": frozenset({"s3:DeleteBucketPolicy", "s3:GetBucketPolicy"}),
        "SQSUnlockQueuePolicy": frozenset({"sqs:SetQueueAttributes", "sqs:GetQueueAttributes"}),
    }
)


@dataclass(frozen=True)
class SandboxOrganization:
    """An organization in the sandbox: its management account, its members, its partition."""

    management_account_id: str
    member_account_ids: tuple[str, ...]
    partition: str = "aws"


@dataclass
class TaskSession:
    """An AssumeRoot session: whose root it acts as, under which task policy, until when."""

    account_id: str
    task_policy: str
    expires_at: datetime

    def refusal(
        self, request: AWSPreparedRequest, service: str, operation: str, now: datetime
    ) -> AWSResponse | None:
        """AWS's answer when the session may not make this call (expired, outside policy)."""
        if now >= self.expires_at:
            return _http.error(
                request,
                service,
                "ExpiredToken",
                "The security token included in the request is expired",
                400,
            )
        action = f"{service}:{operation}"
        if action in ALWAYS_ALLOWED or action in TASK_POLICIES[self.task_policy]:
            return None
        return _http.error(
            request,
            service,
            "AccessDenied",
            f"{action} is not allowed by the task policy {self.task_policy}",
            403,
        )


@dataclass
class OrgState:
    """What the sandbox adds to moto's organization: the IAM features that are on.

    ``partition`` is the organization's (``aws``, ``aws-us-gov``, ``aws-cn``...): where
    moto keeps it, and the partition its task policy ARNs must be in. ``trusted_access``:
    whether trusted access for IAM is on (moto does not know ``iam.amazonaws.com``);
    ``delegated_admin``: the member account registered as IAM's delegated administrator.
    """

    management_account_id: str
    organization_id: str
    members: set[str] = field(default_factory=set)
    features: set[str] = field(default_factory=set)
    partition: str = "aws"
    trusted_access: bool = False
    all_features: bool = True
    delegated_admin: str | None = None
    trusted_since: float = 0.0

    def may_administer(self, account_id: str | None) -> bool:
        """The management account, or the IAM delegated administrator."""
        return account_id is not None and account_id in (
            self.management_account_id,
            self.delegated_admin,
        )


def list_features(
    request: AWSPreparedRequest, org: OrgState | None, caller_account: str | None
) -> AWSResponse:
    """``iam:ListOrganizationsFeatures`` (the management account or delegated admin)."""
    refusal = feature_refusal(request, org, caller_account)
    if refusal is not None or org is None:
        return refusal or _http.error(request, "iam", "ServiceFailure", "no organization", 500)
    return _features_answer(request, org, "ListOrganizationsFeatures")


def feature_refusal(
    request: AWSPreparedRequest,
    org: OrgState | None,
    caller_account: str | None,
    *,
    management_only: bool = False,
) -> AWSResponse | None:
    """IAM's refusal of an organization-features call, in AWS's words; None: allowed."""

    def refuse(code: str, message: str) -> AWSResponse:
        return _http.error(request, "iam", code, message, 400)

    if org is None:
        return refuse("OrganizationNotFoundException", "The account is not part of an organization")
    if not org.all_features:
        return refuse(
            "OrganizationNotInAllFeaturesModeException",
            "The organization does not have all features enabled",
        )
    if not org.may_administer(caller_account):
        return refuse(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The caller is not the management account or the delegated administrator for IAM",
        )
    if management_only and caller_account != org.management_account_id:
        return refuse(
            "CallerIsNotManagementAccountException",
            "The caller is not the management account of the organization",
        )
    if not org.trusted_access:
        return refuse(
            "ServiceAccessNotEnabledException",
            "Trusted access is not enabled for IAM in AWS Organizations",
        )
    return None


def enable_feature(
    request: AWSPreparedRequest, org: OrgState | None, caller_account: str | None, operation: str
) -> AWSResponse:
    """``iam:{Enable,Disable}OrganizationsRoot{CredentialsManagement,Sessions}``.

    Enabling needs the management account (``CallerIsNotManagementAccountException`` for
    the delegated administrator); disabling may come from either. Both are idempotent.
    """
    enabling = operation.startswith("Enable")
    refusal = feature_refusal(request, org, caller_account, management_only=enabling)
    if refusal is not None or org is None:
        return refusal or _http.error(request, "iam", "ServiceFailure", "no organization", 500)
    feature = operation.removeprefix("EnableOrganizations").removeprefix("DisableOrganizations")
    if enabling:
        org.features.add(feature)
    else:
        org.features.discard(feature)
    return _features_answer(request, org, operation)


def _features_answer(request: AWSPreparedRequest, org: OrgState, operation: str) -> AWSResponse:
    return _http.answer(
        request,
        "iam",
        operation,
        f"<OrganizationId>{org.organization_id}</OrganizationId>"
        f"<EnabledFeatures>{_http.members_of(sorted(org.features))}</EnabledFeatures>",
    )


def service_access(
    request: AWSPreparedRequest,
    org: OrgState | None,
    caller_account: str | None,
    operation: str,
    params: Mapping[str, str],
    now: datetime,
) -> AWSResponse | None:
    """AWS Organizations' calls about IAM, which moto does not know; None: moto answers.

    ``EnableAWSServiceAccess`` / ``DisableAWSServiceAccess`` and
    ``RegisterDelegatedAdministrator`` / ``DeregisterDelegatedAdministrator`` for
    ``iam.amazonaws.com`` (the management account only: ``AccessDeniedException``
    otherwise; enabling twice changes nothing), and ``ListAWSServiceAccessForOrganization``
    with IAM among the principals while its trusted access is on.
    """
    if org is None:
        return None
    if operation == "ListAWSServiceAccessForOrganization":
        if not org.trusted_access or not org.may_administer(caller_account):
            return None
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[org.management_account_id][org.partition]
        iam = {"ServicePrincipal": IAM_PRINCIPAL, "DateEnabled": org.trusted_since}
        return _http.json_answer(request, {"EnabledServicePrincipals": [*backend.services, iam]})
    writes = (
        "EnableAWSServiceAccess",
        "DisableAWSServiceAccess",
        "RegisterDelegatedAdministrator",
        "DeregisterDelegatedAdministrator",
    )
    if operation not in writes or params.get("ServicePrincipal") != IAM_PRINCIPAL:
        return None
    if caller_account != org.management_account_id:
        return _http.error(
            request,
            "organizations",
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
            400,
        )
    if operation == "EnableAWSServiceAccess" and not org.trusted_access:
        org.trusted_access, org.trusted_since = True, now.timestamp()
    elif operation == "DisableAWSServiceAccess":
        org.trusted_access = False
    elif operation == "RegisterDelegatedAdministrator":
        account = params.get("AccountId", "")
        if account not in org.members or org.delegated_admin not in (None, account):
            return _http.error(
                request,
                "organizations",
                "ConstraintViolationException",
                f"{account} cannot be IAM's delegated administrator (not a member, or "
                "another account already is)",
                400,
            )
        org.delegated_admin = account
    elif operation == "DeregisterDelegatedAdministrator":
        org.delegated_admin = None
    return _http.json_answer(request, {})


def check_assume_root(
    request: AWSPreparedRequest,
    params: Mapping[str, str],
    org: OrgState | None,
    caller_account: str | None,
    caller_is_root: bool,
) -> tuple[AWSResponse | None, str, str, timedelta]:
    """Refuse an AssumeRoot AWS would refuse; else (None, target, task policy, duration)."""
    none = ("", "", timedelta(0))
    if "://sts.amazonaws.com" in request.url:
        return _http.error(request, "sts", "InvalidAction", "Unknown Operation", 400), *none
    if caller_is_root:
        return _http.error(
            request, "sts", "AccessDenied", "root user credentials cannot call AssumeRoot", 403
        ), *none
    if org is None or not org.may_administer(caller_account):
        return _http.error(
            request,
            "sts",
            "AccessDenied",
            "only the management account or the delegated administrator "
            "for IAM can call AssumeRoot",
            403,
        ), *none
    if "RootSessions" not in org.features or not org.trusted_access:
        return _http.error(
            request, "sts", "AccessDenied", "centralized root sessions are not enabled", 403
        ), *none
    target = params.get("TargetPrincipal", "")
    if target not in org.members:
        return _http.error(
            request,
            "sts",
            "AccessDenied",
            f"{target} is not a member account of the organization",
            403,
        ), *none
    arn = params.get("TaskPolicyArn.arn", "")
    prefix = f"arn:{org.partition}:{TASK_POLICY_PATH}"  # another partition's is unknown here
    task = arn.removeprefix(prefix)
    if not arn.startswith(prefix) or task not in TASK_POLICIES:
        return _http.error(
            request, "sts", "ValidationError", f"{arn} is not a root task policy", 400
        ), *none
    seconds = int(params.get("DurationSeconds", "900"))
    if not 0 < seconds <= MAX_DURATION.total_seconds():
        return _http.error(
            request, "sts", "ValidationError", "DurationSeconds must be at most 900", 400
        ), *none
    return None, target, task, timedelta(seconds=seconds)


def assume_root_answer(
    request: AWSPreparedRequest, key_id: str, secret: str, token: str, expires_at: datetime
) -> AWSResponse:
    """The credentials AssumeRoot returns."""
    return _http.answer(
        request,
        "sts",
        "AssumeRoot",
        (
            f"<Credentials><AccessKeyId>{key_id}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            f"<Expiration>{_http.timestamp(expires_at)}</Expiration></Credentials>"
            "<SourceIdentity>rootkeys-sandbox</SourceIdentity>"
        ),
    )


def scp_denies(org: OrgState, account_id: str, context: CallContext) -> bool:
    """Whether a service control policy attached to the member account denies the call.

    Each SCP is evaluated for real (`rootkeys.testing._policy.denies`): a condition on
    ``aws:PrincipalArn`` denies only a principal whose ARN it matches, and
    ``"Null": {"aws:AssumedRoot": "true"}`` exempts AssumeRoot sessions, as in AWS. Only
    SCPs attached to the account itself are read (not its OUs'), and never for the
    management account (SCPs do not apply to it).
    """
    if account_id not in org.members:
        return False
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[org.management_account_id][org.partition]
    account = next((a for a in backend.accounts if a.id == account_id), None)
    if account is None:
        return False
    return any(
        policy.type == "SERVICE_CONTROL_POLICY" and denies(policy.content, context)
        for policy in account.attached_policies
    )


def scp_refusal(request: AWSPreparedRequest, service: str, operation: str) -> AWSResponse:
    """What a call denied by a service control policy gets."""
    return _http.error(
        request,
        service,
        "AccessDenied",
        f"{service}:{operation} denied with an explicit deny in a service control policy",
        403,
    )
