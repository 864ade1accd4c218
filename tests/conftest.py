"""Fixtures: a sandbox with a fake clock, an account with two root keys, managers on it."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import rootkeys
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount, SandboxOrganization

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No test may read the developer's AWS config or credentials, their journal
    (``ROOTKEYS_JOURNAL`` included) or their config file."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ROOTKEYS_CONFIG", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "ROOTKEYS_JOURNAL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as box:
        yield box


@pytest.fixture
def account(sandbox: Sandbox) -> SandboxAccount:
    """An account whose root user has two Active access keys."""
    return sandbox.create_account("111122223333", root_keys=2)


class Recorder:
    """A hook that keeps every event."""

    def __init__(self) -> None:
        self.events: list[rootkeys.Event] = []

    def __call__(self, event: rootkeys.Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[rootkeys.EventKind]:
        return [e.kind for e in self.events]

    def of(self, kind: rootkeys.EventKind) -> list[rootkeys.Event]:
        return [e for e in self.events if e.kind is kind]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


MakeManager = Callable[..., rootkeys.RootKeyManager]


@pytest.fixture
def make_manager(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, recorder: Recorder
) -> MakeManager:
    """Build a manager signed as the account's root (CloudShell-like by default)."""

    def make(**kwargs: Any) -> rootkeys.RootKeyManager:
        session = kwargs.pop("session", None) or sandbox.root_session(account.account_id)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("hooks", [recorder])
        kwargs.setdefault("consistency_timeout", timedelta(seconds=30))
        return rootkeys.RootKeyManager(session, **kwargs)

    return make


@pytest.fixture
def manager(make_manager: MakeManager) -> rootkeys.RootKeyManager:
    return make_manager()


def statuses(sandbox: Sandbox, account_id: str) -> dict[str, rootkeys.lifecycle.KeyStatus]:
    """The root keys' true statuses."""
    return {k.key_id: k.status for k in sandbox.root_keys(account_id)}


class Pipe(io.StringIO):
    """A stdin with no terminal behind it (cron, CI)."""

    def isatty(self) -> bool:
        return False


def sign_in(monkeypatch: pytest.MonkeyPatch, session: Any) -> None:
    """The environment's credentials become ``session``'s; stdin is a pipe (no terminal)."""
    frozen = session.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", frozen.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", frozen.secret_key)
    if frozen.token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", frozen.token)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(sys, "stdin", Pipe())


@pytest.fixture
def signed_in(
    sandbox: Sandbox, account: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> SandboxAccount:
    """The environment's credentials sign as the account's root user (CloudShell-like)."""
    for name, value in sandbox.root_credentials(account.account_id).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", Pipe())
    return account


@pytest.fixture
def org_signed_in(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> SandboxOrganization:
    """An organization of two members (a root key each); the environment signs as its
    management account."""
    org = sandbox.create_organization(members=2, root_keys=1)
    sign_in(monkeypatch, sandbox.management_session())
    return org
