"""Fixtures: a sandbox with a fake clock, an account with two root keys, managers on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import rootkeys
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No test may read the developer's AWS config or credentials, or their journal
    (``ROOTKEYS_JOURNAL`` included)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
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
