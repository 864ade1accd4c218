"""One member account of an organization, reached as its root user through AssumeRoot.

`MemberGateway` is the organization's `KeyGateway`: reads go through a session with the
``IAMAuditRootUserCredentials`` task policy, deletes through one with
``IAMDeleteRootUserCredentials``, and the unusable stage is the quarantine SCP attached
by the management account (the delete task policy has no ``iam:UpdateAccessKey``).

AssumeRoot sessions last at most 15 minutes: a session is reused for a few minutes at
most (so none is held across an observation window), and one that expired anyway is
replaced once, transparently.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from rootkeys._errors import (
    AWSError,
    IllegalTransitionError,
    InputError,
    NotRootError,
    RootKeysError,
)
from rootkeys._models import (
    DEFAULT_KINDS,
    AccessKey,
    Action,
    CallerIdentity,
    CredentialKind,
    KeyState,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rootkeys._clock import Clock
    from rootkeys._iam import IamGateway
    from rootkeys._retry import RetryNotice

__all__ = [
    "AUDIT",
    "DELETE",
    "RECOVER",
    "TASK_POLICY",
    "MemberGateway",
    "QuarantineControl",
    "task_policy_arn",
    "task_policy_in",
]

_TASK_POLICY_ARN = re.compile(r"arn:[a-z0-9-]+:iam::aws:policy/root-task/(?P<name>[A-Za-z0-9]+)")


def task_policy_arn(partition: str, name: str) -> str:
    """The ARN of AWS's root task policy ``name`` in ``partition`` (``aws``, ``aws-cn``...)."""
    return f"arn:{partition}:iam::aws:policy/root-task/{name}"


def task_policy_in(partition: str, task_policy: str) -> str:
    """A root task policy's ARN, in any partition, as its ARN in ``partition``.

    Anything else is returned as it is (AssumeRoot will refuse it).
    """
    found = _TASK_POLICY_ARN.fullmatch(task_policy)
    return task_policy if found is None else task_policy_arn(partition, found["name"])


TASK_POLICY = task_policy_arn("aws", "")
AUDIT = task_policy_arn("aws", "IAMAuditRootUserCredentials")
"""The read-only task policy (as named in ``aws``; an organization sends it in its own)."""
DELETE = task_policy_arn("aws", "IAMDeleteRootUserCredentials")
RECOVER = task_policy_arn("aws", "IAMCreateRootUserPassword")
"""The delete task policy (as named in ``aws``; an organization sends it in its own)."""
SESSION_REUSE = timedelta(minutes=5)
"""How long one AssumeRoot session is reused (AWS's maximum life is 15 minutes)."""
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException"})

T = TypeVar("T")


class QuarantineControl(Protocol):
    """What a member needs of its organization: root sessions and the quarantine SCP."""

    def root_gateway(
        self,
        account_id: str,
        task_policy: str,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> IamGateway:
        """A gateway on a fresh AssumeRoot session for ``account_id`` under ``task_policy``."""
        ...

    def quarantine_policy_id(self) -> str | None:
        """The id of the quarantine SCP, or None while it does not exist (never creates it)."""
        ...

    def attached_scps(self, account_id: str) -> list[str]:
        """Ids of the SCPs attached to the account itself, read now."""
        ...

    def attach_quarantine(self, account_id: str) -> bool:
        """Attach the quarantine SCP; False if it already was."""
        ...

    def detach_quarantine(self, account_id: str) -> bool:
        """Detach the quarantine SCP; False if it was not attached."""
        ...


class MemberGateway:
    """A member account's root credentials, through fresh AssumeRoot sessions (a `KeyGateway`).

    It covers the credential kinds in `kinds`: access keys and signing certificates by
    default; the password and MFA devices when asked (the quarantine SCP makes every
    root credential unusable, and the delete task policy deletes each kind).

    One gateway serves one pass over the account, which lasts seconds, not a window. It
    reads the account's SCPs once and reuses that reading for the pass; its own attach or
    detach forgets it (so the read-back after one reads AWS), and the check just before a
    delete always reads AWS again.
    """

    def __init__(
        self,
        organization: QuarantineControl,
        account_id: str,
        *,
        clock: Clock,
        on_retry: Callable[[RetryNotice], None] | None = None,
        kinds: frozenset[CredentialKind] = DEFAULT_KINDS,
    ) -> None:
        self._org = organization
        self.account_id = account_id
        self._kinds = kinds
        self._clock = clock
        self._on_retry = on_retry
        self._sessions: dict[str, tuple[datetime, IamGateway]] = {}
        self._scps: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def kinds(self) -> frozenset[CredentialKind]:
        """The kinds of root credential this gateway lists and removes."""
        return self._kinds

    # -- sessions ---------------------------------------------------------------------------

    def _gateway(self, task_policy: str) -> IamGateway:
        now = self._clock.now()
        with self._lock:
            held = self._sessions.get(task_policy)
            if held is not None and now - held[0] < SESSION_REUSE:
                return held[1]
        gateway = self._org.root_gateway(self.account_id, task_policy, on_retry=self._on_retry)
        with self._lock:
            self._sessions[task_policy] = (now, gateway)
        return gateway

    def _as_root(self, task_policy: str, work: Callable[[IamGateway], T]) -> T:
        """Run ``work`` in a root session; an expired session is replaced once."""
        try:
            return work(self._gateway(task_policy))
        except RootKeysError as exc:
            if getattr(exc, "code", "") not in _EXPIRED:
                raise
        with self._lock:
            self._sessions.pop(task_policy, None)
        return work(self._gateway(task_policy))

    # -- reading --------------------------------------------------------------------------

    def caller_identity(self) -> CallerIdentity:
        """Who an audit session signs as: must be this account's root user.

        Raises:
            NotRootError: the session is not the member account's root user.
        """
        identity = self._as_root(AUDIT, lambda g: g.caller_identity())
        if identity.account_id != self.account_id or not identity.is_root:
            raise NotRootError(identity.arn)
        return identity

    def attached_scps(self, *, fresh: bool = False) -> list[str]:
        """Ids of the SCPs attached to the account: this pass's reading, or a new one."""
        if fresh or self._scps is None:
            self._scps = self._org.attached_scps(self.account_id)
        return list(self._scps)

    def is_quarantined(self, *, fresh: bool = False) -> bool:
        """Whether the quarantine SCP is attached to the account (a read: creates nothing)."""
        policy_id = self._org.quarantine_policy_id()
        return policy_id is not None and policy_id in self.attached_scps(fresh=fresh)

    def key_states(self, *, fresh: bool = False) -> dict[str, KeyState]:
        """Each credential's state; an Active one in a quarantined account is Quarantined.

        ``fresh`` reads the SCPs again instead of reusing this pass's reading.
        """
        states = self._as_root(AUDIT, lambda g: g.scoped(self._kinds).key_states())
        if KeyState.ACTIVE in states.values() and self.is_quarantined(fresh=fresh):
            return {
                k: KeyState.QUARANTINED if s is KeyState.ACTIVE else s for k, s in states.items()
            }
        return states

    def list_keys(self, *, last_used: bool = True) -> list[AccessKey]:
        """The credentials, by kind and oldest first, marked quarantined if the SCP says so."""
        keys = self._as_root(AUDIT, lambda g: g.scoped(self._kinds).list_keys(last_used=last_used))
        if any(k.state is KeyState.ACTIVE for k in keys) and self.is_quarantined():
            return [k.model_copy(update={"quarantined": True}) for k in keys]
        return keys

    def last_sign_in(self) -> datetime | None:
        """``PasswordLastUsed`` while the root user has a password (None: none, or never)."""

        def read(g: IamGateway) -> datetime | None:
            return g.password_last_used() if g.login_profile() is not None else None

        return self._as_root(AUDIT, read)

    def keys_present(self) -> bool:
        """Whether a credential of `kinds` is present (the account summary), in an audit session."""
        return self._as_root(AUDIT, lambda g: g.scoped(self._kinds).keys_present())

    # -- changing -------------------------------------------------------------------------

    def detach_quarantine(self) -> bool:
        """Detach the quarantine SCP (the journal is the caller's); False if it was not."""
        self._scps = None
        return self._org.detach_quarantine(self.account_id)

    def make(self, action: Action, key_id: str) -> None:
        """Quarantine, release or delete (AssumeRoot can do no other change).

        A delete is refused unless the key is unusable right now: Inactive, Expired, or
        Active with the quarantine SCP attached (read again just before the delete); an
        MFA device's, while the root password is still there (a password without MFA
        would be worse than both).

        Raises:
            IllegalTransitionError: a delete of a key that is usable.
            InputError: deactivate or reactivate, which AssumeRoot cannot do.
        """
        if action is Action.QUARANTINE:
            self._scps = None
            self._org.attach_quarantine(self.account_id)
        elif action is Action.RELEASE:
            self.detach_quarantine()
        elif action is Action.DELETE:
            current = self.key_states(fresh=True).get(key_id)
            if current is not None and current.usable:
                raise IllegalTransitionError(
                    key_id,
                    current.value,
                    KeyState.DELETED.value,
                    "its account is no longer quarantined: the key is usable again",
                )
            if current is None and CredentialKind.of(key_id) is CredentialKind.PASSWORD:
                # DeleteLoginProfile names no password: a newer one (never observed) must
                # not go in this one's place
                raise AWSError(
                    f"{key_id} is gone; a password set since is another credential",
                    code="NoSuchEntity",
                    operation="DeleteLoginProfile",
                )
            mfa = CredentialKind.of(key_id) is CredentialKind.MFA
            if mfa and current and self._as_root(DELETE, lambda g: g.login_profile()):
                raise IllegalTransitionError(
                    key_id,
                    current.value,
                    KeyState.DELETED.value,
                    "the root password is still there: an MFA device is deleted after it",
                )
            self._as_root(DELETE, lambda g: g.make(Action.DELETE, key_id))
        else:
            raise InputError(
                f"{action.value} is not possible through AssumeRoot (its task policies have "
                "no iam:UpdateAccessKey); member accounts are quarantined instead"
            )
