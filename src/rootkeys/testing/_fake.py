"""An account's root keys in memory, behind the engine's seam: no moto, no HTTP.

`FakeAccount` is what the engine needs of an account (`rootkeys._engine.Account`: its
keys' reads and writes, proof of root, the account's rules) and nothing more, so the
engine's decisions and passes can be tested in microseconds and in their thousands. It
can stand for a single account (a key is made unusable by deactivating it) or a member
account of an organization (by the account-wide quarantine SCP). The sandbox stays the
integration test: it goes through boto3, botocore and moto.

Another administrator is played by `set_status`, `delete_key`, `detach_quarantine`;
`fail_next` makes the next call of an operation fail as AWS would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING

from rootkeys._decide import AccountRules
from rootkeys._errors import AWSError
from rootkeys._models import (
    ALL_KINDS,
    DEFAULT_KINDS,
    AccessKey,
    Action,
    CallerIdentity,
    CredentialKind,
    KeyState,
    KeyStatus,
    credential_id,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FakeAccount", "FakeCall", "FakeCrash"]


class FakeCrash(BaseException):
    """The process dies here (raised by `FakeAccount.fail_next` with ``crash=True``)."""


_IDS = count(1)


@dataclass(frozen=True)
class FakeCall:
    """One call the engine made: its operation and the key, if any."""

    operation: str
    key_id: str | None = None

    @property
    def mutates(self) -> bool:
        """Whether the call changes the account."""
        return self.operation in _WRITES


_DELETE = {
    CredentialKind.KEYS: "DeleteAccessKey",
    CredentialKind.CERTIFICATES: "DeleteSigningCertificate",
    CredentialKind.PASSWORD: "DeleteLoginProfile",
    CredentialKind.MFA: "DeactivateMFADevice",
}
_WRITES = frozenset(
    {
        "UpdateAccessKey",
        "UpdateSigningCertificate",
        *_DELETE.values(),
        "AttachPolicy",
        "DetachPolicy",
        "CreatePolicy",
    }
)


@dataclass
class FakeAccount:
    """One account's root keys, in memory (an engine `Account` and its `KeyGateway`).

    Args:
        account_id: the account.
        keys: how many Active root keys to start with (``inactive`` more, Inactive).
        quarantine: whether the account is a member account (unusable = quarantined by an
            account-wide SCP) rather than a single account (unusable = Inactive).
        signing_key_id: the key that signs the session (never touched), if any.
        scps: how many other SCPs are attached (at 5 the quarantine cannot be).
        certificates: how many Active root signing certificates to start with.
        password: whether the root user has a password, and ``mfa`` how many MFA devices
            (a member account's lifecycle covers them; a single account's does not).
    """

    account_id: str = "111122223333"
    keys: int = 2
    inactive: int = 0
    quarantine: bool = False
    signing_key_id: str | None = None
    scps: int = 0
    certificates: int = 0
    password: bool = False
    mfa: int = 0
    statuses: dict[str, KeyStatus] = field(default_factory=dict)
    quarantined: bool = False
    calls: list[FakeCall] = field(default_factory=list)
    deleted_while_usable: list[str] = field(default_factory=list)
    """Keys deleted while they could sign requests: must stay empty."""
    _failures: dict[str, list[str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n in range(self.keys + self.inactive):
            self.add_key(KeyStatus.ACTIVE if n < self.keys else KeyStatus.INACTIVE)
        for _ in range(self.certificates):
            self.add_certificate()
        if self.password:
            self.statuses[credential_id(CredentialKind.PASSWORD, _CREATED)] = KeyStatus.ACTIVE
        for n in range(self.mfa):
            serial = f"arn:aws:iam::{self.account_id}:mfa/device-{n}"
            self.statuses[credential_id(CredentialKind.MFA, serial)] = KeyStatus.ACTIVE

    # -- the engine's seam -------------------------------------------------------------------

    @property
    def gateway(self) -> FakeAccount:
        """The account is its own gateway."""
        return self

    @property
    def kinds(self) -> frozenset[CredentialKind]:
        """A single account's keys and certificates; a member account's every credential."""
        return ALL_KINDS if self.quarantine else DEFAULT_KINDS

    def prove_root(self) -> CallerIdentity:
        """Always the account's root user."""
        self._call("GetCallerIdentity")
        return CallerIdentity(
            account_id=self.account_id,
            arn=f"arn:aws:iam::{self.account_id}:root",
            signing_key_id=self.signing_key_id,
        )

    def rules(self, states: Mapping[str, KeyState]) -> AccountRules:
        """Single account: Inactive. Member: quarantine, blocked at 5 other SCPs."""
        if not self.quarantine:
            return AccountRules()
        full = self.scps >= 5 and not self.quarantined
        return AccountRules(
            unusable=KeyState.QUARANTINED,
            cannot_make_unusable="the account already has 5 SCPs attached" if full else None,
            resume="organization.resume('{account_id}')",
        )

    def last_sign_in(self) -> datetime | None:
        """The fake's root user never signs in with a password."""
        return None

    def key_states(self) -> dict[str, KeyState]:
        """Each key's lifecycle state; Active keys of a quarantined account are Quarantined."""
        self._call("ListAccessKeys")
        return {key_id: self._state(status) for key_id, status in self.statuses.items()}

    def list_keys(self, *, last_used: bool = True) -> list[AccessKey]:
        """The keys, oldest first (never used)."""
        self._call("ListAccessKeys")
        return [
            AccessKey(
                key_id=key_id,
                status=status,
                created_at=_CREATED,
                quarantined=self._state(status) is KeyState.QUARANTINED,
            )
            for key_id, status in self.statuses.items()
        ]

    def make(self, action: Action, key_id: str) -> None:
        """One write, as IAM (single account) or AssumeRoot plus the SCP (member) allow."""
        certificate = CredentialKind.of(key_id) is CredentialKind.CERTIFICATES
        if action in (Action.DEACTIVATE, Action.REACTIVATE):
            self._call("UpdateSigningCertificate" if certificate else "UpdateAccessKey", key_id)
            if self.quarantine:
                raise AWSError("AssumeRoot cannot update keys", code="AccessDenied")
            self._require(key_id)
            active = action is Action.REACTIVATE
            self.statuses[key_id] = KeyStatus.ACTIVE if active else KeyStatus.INACTIVE
        elif action is Action.QUARANTINE:
            self._call("AttachPolicy")
            self.quarantined = True
        elif action is Action.RELEASE:
            self._call("DetachPolicy")
            self.quarantined = False
        else:
            self._call(_DELETE[CredentialKind.of(key_id)], key_id)
            self._require(key_id)
            if self._state(self.statuses[key_id]).usable:
                self.deleted_while_usable.append(key_id)
            del self.statuses[key_id]

    def keys_present(self) -> bool:
        """``AccountAccessKeysPresent``."""
        self._call("GetAccountSummary")
        return bool(self.statuses)

    # -- another administrator, and AWS failing ----------------------------------------------

    def add_key(self, status: KeyStatus = KeyStatus.ACTIVE) -> str:
        """A new root key (the root user may have two; the fake does not count)."""
        key_id = f"AKIAFAKE{next(_IDS):012d}"
        self.statuses[key_id] = status
        return key_id

    def add_certificate(self, status: KeyStatus = KeyStatus.ACTIVE) -> str:
        """A new root signing certificate (its id: 24 characters, as IAM makes them)."""
        certificate_id = f"CERTFAKE{next(_IDS):016d}"
        self.statuses[certificate_id] = status
        return certificate_id

    def set_status(self, key_id: str, status: KeyStatus) -> None:
        """Someone else changes a key's status."""
        self.statuses[key_id] = status

    def delete_key(self, key_id: str) -> None:
        """Someone else deletes a key."""
        self.statuses.pop(key_id, None)

    def detach_quarantine(self) -> None:
        """Someone else detaches the quarantine SCP."""
        self.quarantined = False

    def fail_next(
        self, operation: str, code: str = "ServiceFailure", *, times: int = 1, crash: bool = False
    ) -> None:
        """The next ``times`` calls of ``operation`` fail, before they change anything.

        Each fails with ``code`` (an `AWSError`); with ``crash``, the process dies there
        instead (`FakeCrash`).
        """
        self._failures.setdefault(operation, []).extend([None if crash else code] * times)

    @property
    def mutations(self) -> list[FakeCall]:
        """The calls that changed the account, oldest first."""
        return [c for c in self.calls if c.mutates]

    # -- inside -------------------------------------------------------------------------------

    def _state(self, status: KeyStatus) -> KeyState:
        if status is KeyStatus.ACTIVE and self.quarantine and self.quarantined:
            return KeyState.QUARANTINED
        return KeyState(status.value)

    def _require(self, key_id: str) -> None:
        if key_id not in self.statuses:
            raise AWSError(f"no key {key_id}", code="NoSuchEntity")

    def _call(self, operation: str, key_id: str | None = None) -> None:
        self.calls.append(FakeCall(operation, key_id))
        pending = self._failures.get(operation)
        if pending:
            code = pending.pop(0)
            if code is None:
                raise FakeCrash(operation)
            raise AWSError(f"{operation} failed", code=code, operation=operation)


_CREATED = datetime(2020, 1, 1, tzinfo=UTC) - timedelta(days=1)
