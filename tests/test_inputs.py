"""Bad input: one clear, typed error before any AWS call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import rootkeys
from rootkeys.testing import Sandbox, SandboxAccount

from .conftest import MakeManager

CASES: list[tuple[str, Callable[[rootkeys.RootKeyManager], Any], str]] = [
    ("deactivate-malformed", lambda m: m.deactivate("AKIA123"), "not an access key id"),
    ("delete-malformed", lambda m: m.delete("not-a-key"), "not an access key id"),
    ("reactivate-none", lambda m: m.reactivate(None), "not an access key id"),  # type: ignore[arg-type]
    ("delete-temporary-key", lambda m: m.delete("ASIAAAAAAAAAAAAAAAAA"), "not an access key id"),
    ("remove-negative", lambda m: m.remove_all(observe_for=timedelta(hours=-1)), "negative"),
    ("remove-huge", lambda m: m.remove_all(observe_for=timedelta(days=4000)), "at most"),
    ("remove-seconds-int", lambda m: m.remove_all(observe_for=3600), "timedelta"),  # type: ignore[arg-type]
    (
        "remove-zero-interval",
        lambda m: m.remove_all(observe_for=timedelta(hours=1), check_interval=timedelta(0)),
        "positive",
    ),
    ("plan-negative", lambda m: m.plan(observe_for=timedelta(seconds=-1)), "negative"),
]


@pytest.mark.parametrize(("case", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_fail_before_any_aws_call(
    sandbox: Sandbox,
    manager: rootkeys.RootKeyManager,
    case: str,
    call: Callable[[rootkeys.RootKeyManager], Any],
    message: str,
) -> None:
    """Each bad argument raises InputError with its message; the sandbox saw no call."""
    with pytest.raises(rootkeys.InputError, match=message):
        call(manager)
    assert sandbox.calls == ()


CONSTRUCTOR_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("account-id-short", {"account_id": "1234"}, "not an AWS account id"),
    ("account-id-int", {"account_id": 111122223333}, "not an AWS account id"),
    ("hook-not-callable", {"hooks": ["print"]}, "hooks must be callables"),
    ("checks-a-string", {"checks": "healthy"}, "checks must be a list"),
    ("negative-consistency", {"consistency_timeout": timedelta(seconds=-1)}, "non-negative"),
    ("retry-dict", {"retry": {"attempts": 3}}, "RetryPolicy"),
    ("clock-object", {"clock": object()}, "clock must have"),
    ("session-string", {"session": "prod-root"}, "boto3.Session"),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "message"), CONSTRUCTOR_CASES, ids=[c[0] for c in CONSTRUCTOR_CASES]
)
def test_bad_constructor_arguments_are_input_errors(
    sandbox: Sandbox,
    make_manager: MakeManager,
    case: str,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    """The manager refuses bad settings when built, before any AWS call."""
    build = (
        (lambda: rootkeys.RootKeyManager(kwargs["session"]))
        if "session" in kwargs
        else (lambda: make_manager(**kwargs))
    )
    with pytest.raises(rootkeys.InputError, match=message):
        build()
    assert sandbox.calls == ()


def test_unknown_profile_is_an_input_error(sandbox: Sandbox) -> None:
    """from_profile with a profile that does not exist raises InputError naming it."""
    with pytest.raises(rootkeys.InputError, match="no AWS profile named 'nope'"):
        rootkeys.RootKeyManager.from_profile("nope")
    assert sandbox.calls == ()


def test_session_and_clients_together_are_refused(
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """Either a session or both clients: a mix is an InputError."""
    session = sandbox.root_session(account.account_id)
    with pytest.raises(rootkeys.InputError, match="either a session"):
        rootkeys.RootKeyManager(session, iam_client=session.client("iam"))
    with pytest.raises(rootkeys.InputError, match="either a session"):
        rootkeys.RootKeyManager(iam_client=session.client("iam"))


def test_session_without_credentials_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere: InvalidCredentialsError, not a botocore traceback."""
    import boto3

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    with pytest.raises(rootkeys.InvalidCredentialsError, match="no AWS credentials"):
        rootkeys.RootKeyManager(boto3.Session(region_name="us-east-1"))
