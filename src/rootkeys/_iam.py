"""A thin, typed gateway over IAM and STS for one account's root user.

It knows AWS and nothing of the lifecycle: each method is one logical AWS call (with
pagination), run under the retry policy, answering rootkeys models or raising the
`RootKeysError` tree. The access-key and signing-certificate calls are made **without**
``UserName``, so they act on the caller: the manager proves the caller is root before it
calls a mutation.

The lifecycle's calls (`key_states`, `list_keys`, `make`, `keys_present`) cover the
credential kinds in `kinds`: access keys and signing certificates by default; `scoped`
gives a gateway over others (``credentials={"keys"}``; a member account's password and
MFA devices, which only AssumeRoot's delete task policy removes).
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions
from botocore.config import Config

from rootkeys._errors import InputError, InvalidCredentialsError
from rootkeys._iam_credentials import SIGN_IN, RootCredentialCalls
from rootkeys._kinds import PRESENT
from rootkeys._models import (
    DEFAULT_KINDS,
    AccessKey,
    Action,
    CallerIdentity,
    CredentialKind,
    KeyState,
    KeyStatus,
    LastUsed,
    credential_id,
    mfa_serial,
)
from rootkeys._retry import BOTO_CONFIG, RetryNotice, RetryPolicy, call_with_retries, translate

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import boto3
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_sts.client import STSClient

__all__ = ["PRESENT", "SIGN_IN", "IamGateway"]

log = logging.getLogger("rootkeys")
T = TypeVar("T")
DEFAULT_REGION = "us-east-1"


class IamGateway(RootCredentialCalls):
    """Typed IAM and STS calls for the account whose credentials sign them."""

    def __init__(
        self,
        *,
        iam: IAMClient,
        sts: STSClient,
        signing_key_id: str | None,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        self._iam = iam
        self._sts = sts
        self.signing_key_id = signing_key_id
        self._policy = policy
        self._sleep = sleep
        self._on_retry = on_retry
        self.kinds: frozenset[CredentialKind] = DEFAULT_KINDS

    def scoped(self, kinds: frozenset[CredentialKind]) -> IamGateway:
        """The same gateway (same clients), its lifecycle calls covering only ``kinds``."""
        if kinds == self.kinds:
            return self
        view = copy.copy(self)
        view.kinds = kinds
        return view

    @classmethod
    def from_session(
        cls,
        session: boto3.Session,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        on_retry: Callable[[RetryNotice], None] | None = None,
        boto_config: Config | None = None,
    ) -> IamGateway:
        """Build clients from ``session``, with botocore's retries switched off."""
        credentials = session.get_credentials()
        if credentials is None:
            raise InvalidCredentialsError(
                "no AWS credentials were found for this session", code="NoCredentials"
            )
        try:
            signing_key_id = credentials.get_frozen_credentials().access_key
        except botocore.exceptions.BotoCoreError as exc:  # e.g. a failing credential process
            raise translate(exc, "LoadCredentials") from exc
        config = (boto_config or Config()).merge(BOTO_CONFIG)
        region = session.region_name or DEFAULT_REGION
        return cls(
            iam=session.client("iam", config=config),
            sts=session.client("sts", region_name=region, config=config),
            signing_key_id=signing_key_id,
            policy=policy,
            sleep=sleep,
            on_retry=on_retry,
        )

    @classmethod
    def from_clients(
        cls,
        iam: IAMClient,
        sts: STSClient,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> IamGateway:
        """Use ready clients. Their own botocore retry settings are left as they are."""
        for client in (iam, sts):
            retries: dict[str, Any] = dict(getattr(client.meta.config, "retries", None) or {})
            if retries.get("total_max_attempts") != 1 and retries.get("max_attempts") != 0:
                log.warning(
                    "the injected %s client retries on its own; rootkeys retries too, so "
                    "the two layers multiply. Build it with rootkeys.retry.BOTO_CONFIG.",
                    client.meta.service_model.service_name,
                )
        get_credentials = getattr(iam, "_get_credentials", None)
        credentials = get_credentials() if callable(get_credentials) else None
        if credentials is None:
            raise InputError(
                "cannot tell which access key signs the injected IAM client, so the key "
                "in use could not be protected; pass a boto3.Session instead"
            )
        return cls(
            iam=iam,
            sts=sts,
            signing_key_id=credentials.get_frozen_credentials().access_key,
            policy=policy,
            sleep=sleep,
            on_retry=on_retry,
        )

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        return call_with_retries(
            operation, fn, policy=self._policy, sleep=self._sleep, on_retry=self._on_retry
        )

    def caller_identity(self) -> CallerIdentity:
        """Who signs the requests (``sts:GetCallerIdentity``)."""
        answer = self._call("GetCallerIdentity", self._sts.get_caller_identity)
        return CallerIdentity(
            account_id=answer["Account"], arn=answer["Arn"], signing_key_id=self.signing_key_id
        )

    def key_statuses(self) -> dict[str, KeyStatus]:
        """The caller's access key ids and statuses (``iam:ListAccessKeys``, all pages)."""

        def list_all() -> dict[str, KeyStatus]:
            found: dict[str, KeyStatus] = {}
            for page in self._iam.get_paginator("list_access_keys").paginate():
                for meta in page["AccessKeyMetadata"]:
                    found[meta["AccessKeyId"]] = KeyStatus(meta["Status"])
            return found

        return self._call("ListAccessKeys", list_all)

    def key_states(self) -> dict[str, KeyState]:
        """Each of the caller's credentials' lifecycle state (from its IAM status).

        The kinds `kinds` says (their ids never overlap); a password or an MFA device is
        Active while it exists.
        """
        statuses: dict[str, KeyStatus] = {}
        if CredentialKind.KEYS in self.kinds:
            statuses |= self.key_statuses()
        if CredentialKind.CERTIFICATES in self.kinds:
            statuses |= {cert_id: status for cert_id, status, _ in self.signing_certificates()}
        if CredentialKind.PASSWORD in self.kinds and (created := self.login_profile()):
            statuses[credential_id(CredentialKind.PASSWORD, created)] = KeyStatus.ACTIVE
        if CredentialKind.MFA in self.kinds:
            statuses |= {
                credential_id(CredentialKind.MFA, serial): KeyStatus.ACTIVE
                for serial, _ in self.mfa_devices()
            }
        return {key_id: KeyState(status.value) for key_id, status in statuses.items()}

    def make(self, action: Action, key_id: str) -> None:
        """Make ``action`` happen to the caller's key or certificate ``key_id`` (one AWS write).

        The id says which it is: an access key (``UpdateAccessKey``, ``DeleteAccessKey``),
        a signing certificate (``UpdateSigningCertificate``, ``DeleteSigningCertificate``),
        a password (``DeleteLoginProfile``) or an MFA device (``DeactivateMFADevice``,
        and ``DeleteVirtualMFADevice`` for a virtual one). A password and an MFA device
        have no Inactive state: they can only be deleted.

        Raises:
            InputError: for quarantine and release, which need an `Organization`; to
                deactivate or reactivate a password or an MFA device.
        """
        kind = CredentialKind.of(key_id)
        certificate = kind is CredentialKind.CERTIFICATES
        if action is Action.DELETE and kind is CredentialKind.PASSWORD:
            self.delete_login_profile()
        elif action is Action.DELETE and kind is CredentialKind.MFA:
            self.delete_mfa_device(mfa_serial(key_id))
        elif action is Action.DELETE:
            (self.delete_certificate if certificate else self.delete_key)(key_id)
        elif kind in (CredentialKind.PASSWORD, CredentialKind.MFA):
            raise InputError(
                f"a root {kind.short} has no Inactive state: it is made unusable by an "
                "organization's quarantine SCP, then deleted"
            )
        elif action in (Action.DEACTIVATE, Action.REACTIVATE):
            active = KeyStatus.ACTIVE if action is Action.REACTIVATE else KeyStatus.INACTIVE
            (self.set_certificate_status if certificate else self.set_status)(key_id, active)
        else:
            raise InputError(f"{action.value} acts on a member account: it needs an Organization")

    def list_keys(self, *, last_used: bool = True) -> list[AccessKey]:
        """The caller's credentials in `kinds`: access keys, then certificates, oldest first.

        Each access key with its last use unless told not to; IAM records none for a
        signing certificate.
        """
        found: list[AccessKey] = []
        if CredentialKind.KEYS in self.kinds:
            found += self.access_keys(last_used=last_used)
        if CredentialKind.CERTIFICATES in self.kinds:
            certificates = [
                AccessKey(key_id=cert_id, status=status, created_at=uploaded)
                for cert_id, status, uploaded in self.signing_certificates()
            ]
            found += sorted(certificates, key=lambda c: c.created_at)
        if CredentialKind.PASSWORD in self.kinds or CredentialKind.MFA in self.kinds:
            found += self._sign_in_credentials()
        return found

    def access_keys(self, *, last_used: bool = True) -> list[AccessKey]:
        """The caller's access keys, oldest first; with their last use unless told not to."""

        def list_all() -> list[tuple[str, str, Any]]:
            rows: list[tuple[str, str, Any]] = []
            for page in self._iam.get_paginator("list_access_keys").paginate():
                for meta in page["AccessKeyMetadata"]:
                    rows.append((meta["AccessKeyId"], meta["Status"], meta["CreateDate"]))
            return rows

        keys = [
            AccessKey(
                key_id=key_id,
                status=KeyStatus(status),
                created_at=created,
                last_used=self.last_used(key_id) if last_used else None,
            )
            for key_id, status, created in self._call("ListAccessKeys", list_all)
        ]
        return sorted(keys, key=lambda k: k.created_at)

    def last_used(self, key_id: str) -> LastUsed | None:
        """When and where ``key_id`` was last used; None if never."""
        answer = self._call(
            "GetAccessKeyLastUsed",
            lambda: self._iam.get_access_key_last_used(AccessKeyId=key_id),
        )
        used = answer.get("AccessKeyLastUsed", {})
        at = used.get("LastUsedDate")
        if at is None:
            return None
        region = used.get("Region")
        return LastUsed(
            at=at,
            service=used.get("ServiceName", "N/A"),
            region=None if region in (None, "N/A") else region,
        )

    def set_status(self, key_id: str, status: KeyStatus) -> None:
        """``iam:UpdateAccessKey`` without ``UserName``: acts on the caller's key."""
        self._call(
            "UpdateAccessKey",
            lambda: self._iam.update_access_key(AccessKeyId=key_id, Status=status.value),
        )

    def delete_key(self, key_id: str) -> None:
        """``iam:DeleteAccessKey`` without ``UserName``: acts on the caller's key."""
        self._call("DeleteAccessKey", lambda: self._iam.delete_access_key(AccessKeyId=key_id))

    def account_summary(self) -> dict[str, int]:
        """``iam:GetAccountSummary``'s ``SummaryMap``."""
        answer = self._call("GetAccountSummary", self._iam.get_account_summary)
        return {k: int(v) for k, v in answer["SummaryMap"].items()}

    def principals_with_policy(self, policy_arn: str) -> list[str]:
        """ARNs of the users and roles a managed policy is attached to (groups expanded)."""

        def read() -> list[str]:
            arns: list[str] = []
            groups: list[str] = []
            pages = self._iam.get_paginator("list_entities_for_policy").paginate(
                PolicyArn=policy_arn
            )
            for page in pages:
                arns += [f"user:{u['UserName']}" for u in page.get("PolicyUsers", [])]
                arns += [f"role:{r['RoleName']}" for r in page.get("PolicyRoles", [])]
                groups += [g["GroupName"] for g in page.get("PolicyGroups", [])]
            for group in groups:
                for members in self._iam.get_paginator("get_group").paginate(GroupName=group):
                    arns += [f"user:{u['UserName']} (group {group})" for u in members["Users"]]
            return arns

        return self._call("ListEntitiesForPolicy", read)

    def attached_local_policies(self) -> list[tuple[str, Any]]:
        """Customer-managed policies attached to anything: (ARN, default version document)."""

        def read() -> list[tuple[str, Any]]:
            found: list[tuple[str, Any]] = []
            pages = self._iam.get_paginator("list_policies").paginate(
                Scope="Local", OnlyAttached=True
            )
            for page in pages:
                for policy in page["Policies"]:
                    version = self._iam.get_policy_version(
                        PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
                    )
                    found.append((policy["Arn"], version["PolicyVersion"].get("Document")))
            return found

        return self._call("ListPolicies", read)

    def credential_report(self) -> tuple[datetime, str]:
        """``iam:GetCredentialReport``: when it was made, and its CSV text."""
        answer = self._call("GetCredentialReport", self._iam.get_credential_report)
        return answer["GeneratedTime"], answer["Content"].decode()

    def generate_credential_report(self) -> str:
        """``iam:GenerateCredentialReport`` (AWS makes one at most every 4 hours)."""
        return str(
            self._call("GenerateCredentialReport", self._iam.generate_credential_report)["State"]
        )

    def keys_present(self) -> bool:
        """Whether a credential of `kinds` is present, from ``iam:GetAccountSummary``.

        ``AccountAccessKeysPresent`` (what CIS 1.4 and Security Hub IAM.4 read) for access
        keys, ``AccountSigningCertificatesPresent`` for signing certificates,
        ``AccountMFAEnabled`` for MFA devices; for the password, ``iam:GetLoginProfile``
        (the summary has no field for it).
        """
        fields = [PRESENT[k] for k in CredentialKind if k in self.kinds and k in PRESENT]
        if fields and any(self.account_summary().get(field, 0) for field in fields):
            return True
        return CredentialKind.PASSWORD in self.kinds and self.login_profile() is not None
