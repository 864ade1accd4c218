"""Typed, frozen descriptions of root access keys and of what rootkeys does to them.

No model here has a field for a secret: access key *ids* are identifiers, not secrets,
and are the only credential material rootkeys ever keeps.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rootkeys._kinds import (
    ALL_KINDS,
    DEFAULT_KINDS,
    KEYS_ONLY,
    SIGN_IN_KINDS,
    CredentialKind,
    credential_id,
    mfa_serial,
    validate_account_credential_id,
    validate_account_credentials,
    validate_account_id,
    validate_account_ids,
    validate_certificate_id,
    validate_credential_id,
    validate_credentials,
    validate_key_id,
    validate_member_credentials,
    validate_ou,
)
from rootkeys._public import rehome

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "KEYS_ONLY",
    "SIGN_IN_KINDS",
    "AccessKey",
    "AccessKeyId",
    "AccountId",
    "Action",
    "CallerIdentity",
    "CredentialId",
    "CredentialKind",
    "KeyState",
    "KeyStatus",
    "LastUsed",
    "ObservedKey",
    "Step",
    "StepResult",
    "StepStatus",
    "credential_id",
    "mfa_serial",
    "validate_account_credential_id",
    "validate_account_credentials",
    "validate_account_id",
    "validate_account_ids",
    "validate_certificate_id",
    "validate_credential_id",
    "validate_credentials",
    "validate_key_id",
    "validate_member_credentials",
    "validate_ou",
]

AccessKeyId = Annotated[str, AfterValidator(validate_key_id)]
"""A long-term AWS access key id (``AKIA`` + 16 characters), validated."""

CredentialId = Annotated[str, AfterValidator(validate_credential_id)]
"""A root credential's id in the lifecycle (see `CredentialKind`), validated."""

AccountId = Annotated[str, AfterValidator(validate_account_id)]
"""A 12-digit AWS account id, validated."""

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class KeyStatus(StrEnum):
    """An access key's status as IAM reports it (botocore 1.43+ knows all three)."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"
    EXPIRED = "Expired"


class KeyState(StrEnum):
    """A key's place in the lifecycle: IAM's statuses, Quarantined, and the end, Deleted."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"
    EXPIRED = "Expired"
    QUARANTINED = "Quarantined"
    """Active in IAM, but unusable: the account's quarantine SCP denies the root user
    (organizations, where AssumeRoot cannot deactivate a key)."""
    DELETED = "Deleted"

    @property
    def usable(self) -> bool:
        """Whether a key in this state can sign requests."""
        return self is KeyState.ACTIVE

    @property
    def iam_status(self) -> KeyStatus:
        """The status IAM shows for a key in this state (not defined for Deleted)."""
        if self is KeyState.DELETED:
            raise ValueError("a deleted key has no IAM status")
        return KeyStatus.ACTIVE if self is KeyState.QUARANTINED else KeyStatus(self.value)


class Action(StrEnum):
    """The changes rootkeys can make to a key."""

    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"
    QUARANTINE = "quarantine"
    """Attach the quarantine SCP to the key's account (organizations' deactivate)."""
    RELEASE = "release"
    """Detach the quarantine SCP (organizations' reactivate: the rollback)."""

    @property
    def makes_unusable(self) -> bool:
        """Whether the action starts a key's observation window (deactivate, quarantine)."""
        return self in (Action.DEACTIVATE, Action.QUARANTINE)


class LastUsed(BaseModel):
    """When and where a key was last used (IAM records the first use per 15 minutes)."""

    model_config = _FROZEN

    at: datetime
    service: str
    region: str | None = Field(
        default=None, description="None for global services such as IAM or S3."
    )


class AccessKey(BaseModel):
    """One access key of the root user, as IAM describes it, or another root credential.

    A root signing certificate goes through the same lifecycle as an access key
    (Active, Inactive, deleted): ``key_id`` is then the certificate's id, ``created_at``
    its upload date, and ``kind`` says which it is. IAM records no last use of a
    certificate, so its ``last_used`` is always None. In a member account, the password
    and MFA devices can go through it too (always Active until deleted; the quarantine
    makes them unusable): a password's ``last_used`` is ``PasswordLastUsed``, and an MFA
    device, used when the root user signs in, carries its password's.
    """

    model_config = _FROZEN

    key_id: CredentialId
    status: KeyStatus
    created_at: datetime
    last_used: LastUsed | None = Field(default=None, description="None if never used.")
    quarantined: bool = Field(
        default=False,
        description="Whether the account's quarantine SCP makes the root user's "
        "credentials unusable (organizations only).",
    )

    @property
    def kind(self) -> CredentialKind:
        """An access key, or a signing certificate (from its id)."""
        return CredentialKind.of(self.key_id)

    @property
    def state(self) -> KeyState:
        """The key's lifecycle state (never `KeyState.DELETED` for a listed key)."""
        if self.quarantined and self.status is KeyStatus.ACTIVE:
            return KeyState.QUARANTINED
        return KeyState(self.status.value)


class ObservedKey(AccessKey):
    """A key under observation, as checks receive it: an `AccessKey`, plus its window.

    ``window_started_at`` is when the key became unusable for this removal (from the
    journal across staged runs), so a check can look back over the whole window.
    """

    account_id: AccountId
    window_started_at: datetime


class CallerIdentity(BaseModel):
    """Who signs the requests: the answer of ``sts:GetCallerIdentity``."""

    model_config = _FROZEN

    account_id: AccountId
    arn: str
    signing_key_id: str | None = Field(
        default=None, description="The access key id that signs requests, if known."
    )

    @property
    def partition(self) -> str:
        """The partition the caller's ARN names (``aws``, ``aws-cn``, ``aws-us-gov``...)."""
        return self.arn.split(":")[1]

    @property
    def is_root(self) -> bool:
        """Whether the caller is this account's root user (or an AssumeRoot session)."""
        return is_root_arn(self.arn, self.account_id)


# The root user (also signed in through CloudShell) is arn:<partition>:iam::<account>:root.
# What GetCallerIdentity answers inside an sts:AssumeRoot session is not documented
# where we could read it: :root, or an sts "assumed-root" ARN. Both are accepted, which
# is safe either way: only AssumeRoot can make an assumed-root ARN (no role can).
_ROOT_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:(?:iam::(?P<account>[0-9]{12}):root"
    r"|sts::(?P<session_account>[0-9]{12}):assumed-root/[^\s]+)"
)


def is_root_arn(arn: str, account_id: str) -> bool:
    """Whether ``arn`` is the root user of ``account_id`` (or an AssumeRoot session in it)."""
    match = _ROOT_ARN.fullmatch(arn)
    return match is not None and account_id in (match["account"], match["session_account"])


class StepStatus(StrEnum):
    """How one intended change ended."""

    DONE = "done"
    ALREADY_DONE = "already done"
    UNVERIFIED = "unverified"
    FAILED = "failed"


class Step(BaseModel):
    """One intended change to a key and its outcome, recorded in that order."""

    model_config = _FROZEN

    action: Action
    intended_at: datetime
    finished_at: datetime | None = None
    status: StepStatus | None = Field(default=None, description="None while in flight.")
    error_code: str | None = None
    detail: str = ""


class StepResult(BaseModel):
    """The result of an explicit step method (`RootKeyManager.deactivate` and friends)."""

    model_config = _FROZEN

    account_id: AccountId
    key_id: CredentialId
    action: Action
    from_state: KeyState
    to_state: KeyState
    step: Step

    @property
    def changed(self) -> bool:
        """Whether this call changed anything in AWS."""
        return self.step.status in (StepStatus.DONE, StepStatus.UNVERIFIED)

    @property
    def verified(self) -> bool:
        """Whether IAM was seen to hold the target state afterwards."""
        return self.step.status in (StepStatus.DONE, StepStatus.ALREADY_DONE)


rehome(globals())
