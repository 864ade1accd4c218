"""AssumeRoot sessions for member accounts, and the clients they sign with.

`RootSessions` asks STS (always on a regional endpoint) for a member account's root
session under a task policy, and hands it out as a `boto3.Session` or as an
`IamGateway`. Gateways build no client of their own: one IAM and one STS client serve
every member account, each request signed with the AssumeRoot session of the thread that
makes it (`ThreadCredentials`). Building a client costs more CPU than the calls an audit
makes, and an organization can have thousands of accounts.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials

from rootkeys._errors import InvalidCredentialsError
from rootkeys._iam import IamGateway
from rootkeys._retry import BOTO_CONFIG, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable

    from rootkeys._clock import Clock
    from rootkeys._retry import RetryNotice, RetryPolicy

__all__ = ["ROOT_SESSION_SECONDS", "RootSessions", "ThreadCredentials", "regional_sts"]

T = TypeVar("T")

ROOT_SESSION_SECONDS = 900
"""AssumeRoot's maximum (and default) session length."""


class RootSessions:
    """Member accounts' AssumeRoot sessions, from a management account's session."""

    def __init__(
        self, session: boto3.Session, *, region: str, retry: RetryPolicy, clock: Clock
    ) -> None:
        self._session = session
        self._region = region
        self._retry = retry
        self._clock = clock
        self._sts = regional_sts(session, region)
        self._lock = threading.Lock()
        self._credentials = ThreadCredentials()
        self._clients: tuple[Any, Any] | None = None

    def credentials(self, account_id: str, task_policy: str) -> dict[str, Any]:
        """``sts:AssumeRoot`` for ``account_id`` under ``task_policy``: its credentials."""
        answer = call_with_retries(
            "AssumeRoot",
            lambda: self._sts.assume_root(
                TargetPrincipal=account_id,
                TaskPolicyArn={"arn": task_policy},
                DurationSeconds=ROOT_SESSION_SECONDS,
            ),
            policy=self._retry,
            sleep=self._clock.sleep,
        )
        return dict(answer["Credentials"])

    def session(self, account_id: str, task_policy: str) -> boto3.Session:
        """A fresh AssumeRoot session as a `boto3.Session` (for your own calls)."""
        credentials = self.credentials(account_id, task_policy)
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._region,
        )

    def gateway(
        self,
        account_id: str,
        task_policy: str,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> IamGateway:
        """An `IamGateway` acting in a fresh AssumeRoot session, on the shared clients."""
        credentials = self.credentials(account_id, task_policy)
        frozen = ReadOnlyCredentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
        iam, sts = self._shared_clients()
        return _AssumedGateway(
            frozen,
            self._credentials,
            iam=iam,
            sts=sts,
            signing_key_id=None,  # an AssumeRoot session is not signed by a root key
            policy=self._retry,
            sleep=self._clock.sleep,
            on_retry=on_retry,
        )

    def _shared_clients(self) -> tuple[Any, Any]:
        with self._lock:
            if self._clients is None:
                core = botocore.session.Session()
                resolver = core.get_component("credential_provider")
                resolver.insert_before("env", _ThreadProvider(self._credentials))
                session = boto3.Session(botocore_session=core, region_name=self._region)
                self._clients = (
                    session.client("iam", config=BOTO_CONFIG),
                    regional_sts(session, self._region),
                )
            return self._clients

    def acting(self) -> ReadOnlyCredentials:
        """The session the calling thread is acting in (refused outside a gateway call)."""
        return self._credentials.get_frozen_credentials()


def regional_sts(session: boto3.Session, region: str) -> Any:
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


class ThreadCredentials(Credentials):
    """Credentials that are, in each thread, the AssumeRoot session it is acting in.

    Botocore asks a client's credentials for their frozen form each time it signs a
    request (that is how refreshing credentials work); these answer with the calling
    thread's session. So one client serves every member account, in every thread.
    """

    def __init__(self) -> None:
        super().__init__("unset", "unset")
        self._local = threading.local()

    def use(self, frozen: ReadOnlyCredentials | None) -> ReadOnlyCredentials | None:
        """Act in ``frozen`` in this thread from now on; return what was in use."""
        previous: ReadOnlyCredentials | None = getattr(self._local, "frozen", None)
        self._local.frozen = frozen
        return previous

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """The calling thread's session (refused when it has none)."""
        frozen: ReadOnlyCredentials | None = getattr(self._local, "frozen", None)
        if frozen is None:
            raise InvalidCredentialsError(
                "no AssumeRoot session is in use in this thread", code="NoCredentials"
            )
        return frozen

    def __repr__(self) -> str:
        return "ThreadCredentials()"


class _ThreadProvider(CredentialProvider):
    """Hands the member clients their `ThreadCredentials`."""

    METHOD = "rootkeys-assume-root"

    def __init__(self, credentials: ThreadCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class _AssumedGateway(IamGateway):
    """An `IamGateway` on the shared member clients, acting in one AssumeRoot session."""

    def __init__(
        self, frozen: ReadOnlyCredentials, holder: ThreadCredentials, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._frozen = frozen
        self._holder = holder

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        previous = self._holder.use(self._frozen)
        try:
            return super()._call(operation, fn)
        finally:
            self._holder.use(previous)
