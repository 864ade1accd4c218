"""The sandbox: moto, plus the root user moto does not have.

moto emulates IAM users, per-account IAM state and STS well, but it has no root user:
no root access keys, no ``arn:<partition>:iam::<account>:root`` caller, and
``AccountAccessKeysPresent`` is always 0. The sandbox adds exactly that, and no more:

- per account, a root user with seeded root access keys (at most 2, as in AWS);
- credentials that sign as that root user: one of its access keys, or temporary
  credentials like those of AWS CloudShell signed in as root;
- IAM's access-key calls **without** ``UserName`` act on the *caller* (as in AWS; moto
  takes the user from the target key instead);
- a request signed with an Inactive or deleted root key is refused with
  ``InvalidClientTokenId``, so locking yourself out is visible in tests;
- ``AccountAccessKeysPresent`` computed from the root user's real keys;
- faults on demand (throttling, 5xx, connection errors, denials, stale reads), and a
  log of every call made, without secrets.

How: each session the sandbox hands out has one ``before-send`` handler in place of
moto's. It answers the root user's calls itself and passes every other call on to moto
(with the account named in moto's ``x-moto-account-id`` header). Sessions you build
yourself inside the sandbox talk to plain moto.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session

from rootkeys import _journal
from rootkeys._clock import Clock, SystemClock
from rootkeys._models import AccessKey, KeyStatus, LastUsed, validate_account_id
from rootkeys.testing import _cloudtrail, _org, _root, _server
from rootkeys.testing._calls import SandboxCall
from rootkeys.testing._cloudwatch import Alarms
from rootkeys.testing._credential_setup import MemberCredentials, RootCredentialSetup
from rootkeys.testing._dispatch import Principal
from rootkeys.testing._ledger import KeyChange, Ledger
from rootkeys.testing._root import MAX_ROOT_KEYS, RootUser, random_id, random_secret
from rootkeys.testing._server import Serving
from rootkeys.testing._staleness import StaleReads

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from types import TracebackType

    from rootkeys.testing._faults import Fault

__all__ = ["Sandbox", "SandboxAccount", "SandboxCall"]

_ACTIVE: Sandbox | None = None
"""The sandbox whose dispatcher is installed, if any (sandboxes do not nest)."""


@dataclass(frozen=True)
class SandboxAccount:
    """An account in the sandbox, with the ids of its root access keys when made."""

    account_id: str
    root_key_ids: tuple[str, ...]


class Sandbox(Serving, Alarms, RootCredentialSetup, StaleReads):
    """An AWS of your own, in process: moto plus root users. Use it as a context manager.

    ::

        with Sandbox() as sandbox:
            account = sandbox.create_account(root_keys=2)
            manager = RootKeyManager(sandbox.root_session(account.account_id))

    Args:
        clock: the clock that dates keys and their last use (default: the real one).
        region: the region of the sessions it hands out. It also decides the sandbox's
            AWS partition (`partition`): ``us-gov-west-1`` makes an AWS GovCloud (US)
            sandbox, ``aws-us-gov``; ``cn-north-1`` a China one, ``aws-cn``.

    One sandbox is one partition, as one AWS sign-in is: every account, root user ARN
    (``arn:<partition>:iam::<account>:root``), organization and managed policy it makes
    is in it. The partition comes from the region rather than from a per-organization
    setting because moto keeps each partition's state apart and picks it from the region
    a request is signed for, as AWS does: a session's region and its account's partition
    cannot disagree.
    """

    def __init__(self, *, clock: Clock | None = None, region: str = "us-east-1") -> None:
        from moto.utilities.utils import get_partition

        self.clock: Clock = clock or SystemClock()
        self.region = region
        self.partition: str = get_partition(region)
        """The sandbox's AWS partition (``aws``, ``aws-us-gov``, ``aws-cn``...), from its region."""
        self._accounts: dict[str, RootUser] = {}
        self._principals: dict[str, Principal] = {}
        self._faults: list[Fault] = []
        self._calls: list[SandboxCall] = []
        self._lock = threading.RLock()
        self._mock: Any = None
        self._next_account = 100000000000
        self._org: _org.OrgState | None = None
        self._task_sessions: dict[str, _org.TaskSession] = {}
        self._ledger = Ledger()
        self.trail = _cloudtrail.Trail(self.clock)
        """Every account's CloudTrail event history (``LookupEvents`` answers from it)."""
        self._served: set[str] = set()
        self._health = _server.Health()
        self._journal_dir: tempfile.TemporaryDirectory[str] | None = None
        self._replaced_journal: Path | None = None

    # -- lifecycle of the sandbox ----------------------------------------------------------

    def __enter__(self) -> Sandbox:
        from botocore.handlers import BUILTIN_HANDLERS
        from moto import mock_aws
        from moto.core.models import botocore_stubber

        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("a Sandbox is already active; they do not nest")
        self._mock = mock_aws()
        self._mock.start()
        # Every session made from now on sends through the sandbox (which passes what is
        # not the root user's to moto), in place of moto's own handler.
        self._dispatch_handler: Any = self._dispatch
        for i, spec in enumerate(BUILTIN_HANDLERS):
            if spec[0] == "before-send" and spec[1] is botocore_stubber:
                BUILTIN_HANDLERS[i] = ("before-send", self._dispatch_handler)
        # Made-up accounts never reach a real journal: while the sandbox runs, a manager
        # made without ``journal=`` records to the sandbox's own, which goes with it.
        self._journal_dir = tempfile.TemporaryDirectory(
            prefix="rootkeys-sandbox-", ignore_cleanup_errors=True
        )
        self._replaced_journal = _journal.set_sandbox_journal(self.journal_path)
        _ACTIVE = self
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from botocore.handlers import BUILTIN_HANDLERS
        from moto.core.models import botocore_stubber

        global _ACTIVE
        for i, spec in enumerate(BUILTIN_HANDLERS):
            if spec[0] == "before-send" and spec[1] is getattr(self, "_dispatch_handler", None):
                BUILTIN_HANDLERS[i] = ("before-send", botocore_stubber)
        _ACTIVE = None
        if self._journal_dir is not None:
            _journal.set_sandbox_journal(self._replaced_journal)
            self._journal_dir.cleanup()
            self._journal_dir = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    @property
    def journal_path(self) -> Path:
        """The sandbox's own journal file, in a temporary directory removed on exit.

        While the sandbox is active it is `rootkeys.journal.default_journal_path`: a
        `RootKeyManager` or `Organization` made without ``journal=`` records there, not
        in your per-user journal. Pass ``journal=`` to choose another.
        """
        if self._journal_dir is None:
            raise RuntimeError("the sandbox is not active: use it as a context manager")
        return Path(self._journal_dir.name) / "journal.sqlite3"

    # -- making things ---------------------------------------------------------------------

    def create_account(
        self,
        account_id: str | None = None,
        *,
        root_keys: int = 2,
        inactive: int = 0,
    ) -> SandboxAccount:
        """A new account whose root user has ``root_keys`` access keys.

        The last ``inactive`` of them are made Inactive.
        """
        if not 0 <= root_keys <= MAX_ROOT_KEYS or not 0 <= inactive <= root_keys:
            raise ValueError(f"the root user has 0 to {MAX_ROOT_KEYS} keys, 0 to all inactive")
        with self._lock:
            if account_id is None:
                self._next_account += 1
                account_id = str(self._next_account)
            validate_account_id(account_id)
            if account_id in self._accounts:
                raise ValueError(f"account {account_id} already exists in the sandbox")
            self._accounts[account_id] = RootUser(account_id, self.partition)
            _root.seed_administrator_access(account_id, self.region)
            ids = tuple(
                self.add_root_key(
                    account_id,
                    status=KeyStatus.INACTIVE if n >= root_keys - inactive else KeyStatus.ACTIVE,
                )
                for n in range(root_keys)
            )
            self._watch(account_id, "sandbox")
            return SandboxAccount(account_id, ids)

    def add_root_key(self, account_id: str, *, status: KeyStatus = KeyStatus.ACTIVE) -> str:
        """Give the root user one more access key (as someone else might) and return its id."""
        with self._lock:
            key = self._account(account_id).add_key(status, self.clock.now())
            self._register_root_key(account_id, key)
            self._watch(account_id, "sandbox")
            return key.key_id

    def set_root_key_status(self, account_id: str, key_id: str, status: KeyStatus) -> None:
        """Change a root key's status behind rootkeys' back (as another admin might)."""
        with self._lock:
            self._account(account_id).keys[key_id].status = status
            self._watch(account_id, "sandbox")

    def delete_root_key(self, account_id: str, key_id: str) -> None:
        """Delete a root key behind rootkeys' back."""
        with self._lock:
            self._account(account_id).keys.pop(key_id)
            self._watch(account_id, "sandbox")

    def key_changes(self, account_id: str | None = None) -> tuple[KeyChange, ...]:
        """Every change of a root credential's status, deletion or quarantine, oldest first.

        Keys and signing certificates (`KeyChange.kind`), kept from the sandbox's own state
        (not from what any caller says): tests judge from it whether one was deleted too soon.
        """
        with self._lock:
            return tuple(c for c in self._ledger.changes if account_id in (None, c.account_id))

    def use_root_key(
        self,
        account_id: str,
        key_id: str,
        *,
        service: str = "s3",
        event_name: str = "ListBuckets",
        region: str | None = None,
        source_ip: str = "198.51.100.7",
        user_agent: str = "app/1.0",
        times: int = 1,
        every: timedelta = timedelta(hours=1),
    ) -> None:
        """Use a root key as an app would: ``times`` calls, ``every`` apart, ending now.

        Each call sets the key's last use (as IAM does) and becomes a CloudTrail event
        with the app's source IP and user agent, for ``LookupEvents`` to find.
        """
        with self._lock:
            key = self._account(account_id).keys[key_id]
            now = self.clock.now()
            for n in range(times - 1, -1, -1):
                self.trail.record(
                    account_id,
                    key_id,
                    event_name=event_name,
                    service=service,
                    region=region or self.region,
                    source_ip=source_ip,
                    user_agent=user_agent,
                    at=now - n * every,
                )
            global_service = service in _cloudtrail.GLOBAL_SERVICES or service == "s3"
            key.last_used = LastUsed(
                at=now, service=service, region=None if global_service else region or self.region
            )

    # -- organizations ---------------------------------------------------------------------

    def create_organization(
        self,
        members: int = 3,
        *,
        root_keys: int = 1,
        management_account_id: str = "999988887777",
        root_features: bool = True,
        trusted_access: bool | None = None,
        all_features: bool = True,
        credentials: Sequence[MemberCredentials] = (),
    ) -> _org.SandboxOrganization:
        """An organization (moto's) of ``members`` member accounts, each with root keys.

        ``root_features``: centralized root access on (trusted access for IAM,
        ``RootCredentialsManagement``, ``RootSessions``), else all off until enabled through
        the API; ``trusted_access`` sets IAM's alone; ``all_features=False``: consolidated
        billing. ``credentials`` are dealt to the members in turn (member n gets
        ``credentials[n % len(credentials)]``; ``rootkeys.testing.MIXED`` is a ready mix).

        It is in the sandbox's `partition` (ARNs, root users, task policies: AssumeRoot
        refuses another partition's). ``Sandbox(region="us-gov-west-1")``: ``aws-us-gov``.
        """
        if self._org is not None:
            raise ValueError("the sandbox already has an organization")
        if management_account_id not in self._accounts:
            self.create_account(management_account_id, root_keys=0)
        client = self.admin_session(management_account_id).client("organizations")
        made = client.create_organization(
            FeatureSet="ALL" if all_features else "CONSOLIDATED_BILLING"
        )["Organization"]
        ids = []
        for n in range(members):
            status = client.create_account(
                Email=f"member{n}@example.com", AccountName=f"member-{n}"
            )["CreateAccountStatus"]
            self.create_account(status["AccountId"], root_keys=root_keys)
            if credentials:
                self.give_root_credentials(status["AccountId"], credentials[n % len(credentials)])
            ids.append(status["AccountId"])
        with self._lock:
            self._org = _org.OrgState(
                management_account_id,
                made["Id"],
                set(ids),
                partition=self.partition,
                trusted_access=root_features if trusted_access is None else trusted_access,
                all_features=all_features,
            )
            if root_features:
                self._org.features.update(_org.FEATURES)
        return _org.SandboxOrganization(management_account_id, tuple(ids), self.partition)

    def management_session(self) -> boto3.Session:
        """A session of an administrator in the organization's management account."""
        if self._org is None:
            raise ValueError("the sandbox has no organization: call create_organization")
        return self.admin_session(self._org.management_account_id)

    # -- sessions ----------------------------------------------------------------------------

    def root_session(self, account_id: str, *, key_id: str | None = None) -> boto3.Session:
        """A session signed as the account's root user.

        With ``key_id``, it is signed with that root access key (so that key signs the
        session). Without, it carries temporary root credentials, as AWS CloudShell
        signed in as root does: no root access key is in use.
        """
        with self._lock:
            account = self._account(account_id)
            if key_id is not None:
                key = account.keys[key_id]
                return self._session(key.key_id, key.secret)
            session_key = random_id("ASIA")
            principal = Principal(account_id, "root-session", random_secret(), random_secret(356))
            self._principals[session_key] = principal
            return self._session(session_key, principal.secret, principal.token)

    def admin_session(self, account_id: str) -> boto3.Session:
        """A session with every permission in the account, to set up IAM state in it."""
        with self._lock:
            self._account(account_id)
            key_id = random_id("AKIA")
            principal = Principal(account_id, "admin", random_secret())
            self._principals[key_id] = principal
            return self._session(key_id, principal.secret)

    def iam_user_session(self, account_id: str, user_name: str) -> boto3.Session:
        """Create IAM user ``user_name`` with an access key (in moto) and sign as it."""
        iam = self.admin_session(account_id).client("iam")
        iam.create_user(UserName=user_name)
        made = iam.create_access_key(UserName=user_name)["AccessKey"]
        return self._session(made["AccessKeyId"], made["SecretAccessKey"])

    def _session(self, key_id: str, secret: str, token: str | None = None) -> boto3.Session:
        """A session signed with these credentials, sharing the sandbox's loaded models.

        Every session the sandbox hands out shares one botocore data loader, so service
        models and endpoint rules are read from disk once per process, not per session.
        """
        core = botocore.session.get_session()
        core.register_component("data_loader", _shared_loader())
        return boto3.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=self.region,
            botocore_session=core,
        )

    # -- looking at the truth ----------------------------------------------------------------

    def root_keys(self, account_id: str) -> list[AccessKey]:
        """The root user's keys as they really are (no stale reads, no faults)."""
        with self._lock:
            return [k.model() for k in self._account(account_id).keys.values()]

    @property
    def calls(self) -> tuple[SandboxCall, ...]:
        """Every call the sandbox's sessions made, oldest first."""
        with self._lock:
            return tuple(self._calls)

    def mutations(self, account_id: str | None = None) -> tuple[SandboxCall, ...]:
        """The state-changing calls that reached AWS (not answered by a fault)."""
        return tuple(
            c
            for c in self.calls
            if c.mutating and c.fault is None and account_id in (None, c.account_id)
        )

    def secrets(self) -> Iterator[str]:
        """Every secret access key and session token the sandbox handed out (for tests)."""
        with self._lock:
            for principal in self._principals.values():
                yield principal.secret
                if principal.token:
                    yield principal.token

    # -- faults ------------------------------------------------------------------------------

    def expire_root_sessions(self) -> None:
        """End every AssumeRoot session now, as 15 minutes passing would."""
        with self._lock:
            now = self.clock.now()
            for session in self._task_sessions.values():
                session.expires_at = min(session.expires_at, now)

    def clear_faults(self) -> None:
        """Remove every injected fault that has not fired yet."""
        with self._lock:
            self._faults.clear()
            for user in self._accounts.values():
                user.clear_staleness()


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    """One botocore data loader for every sandbox session (its caches fill once)."""
    return botocore.loaders.create_loader()
