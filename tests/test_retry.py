"""The retry layer: what is retried, how errors are translated, what is redacted."""

from __future__ import annotations

from datetime import timedelta

import botocore.exceptions
import pytest

import rootkeys
from rootkeys._retry import call_with_retries, is_retryable, redact, translate


def client_error(code: str, status: int = 400, request_id: str = "req-1") -> Exception:
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": request_id},
        },
        "UpdateAccessKey",
    )


RETRYABLE = [
    client_error("Throttling"),
    client_error("ThrottlingException"),
    client_error("ServiceFailure", 500),
    client_error("SomethingNew", 503),
    botocore.exceptions.EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"),
    botocore.exceptions.ConnectionClosedError(endpoint_url="https://iam.amazonaws.com"),
    botocore.exceptions.ReadTimeoutError(endpoint_url="https://iam.amazonaws.com"),
]
NOT_RETRYABLE = [
    client_error("AccessDenied", 403),
    client_error("LimitExceeded", 409),
    client_error("ValidationError"),
    client_error("InvalidInput"),
    client_error("NoSuchEntity", 404),
    client_error("InvalidClientTokenId", 403),
    client_error("ExpiredToken", 400),
    ValueError("not an AWS error"),
]


@pytest.mark.parametrize("exc", RETRYABLE, ids=lambda e: type(e).__name__ + ":" + str(e)[:24])
def test_transient_errors_are_retryable(exc: Exception) -> None:
    """Throttling, 5xx and connection errors may succeed when tried again."""
    assert is_retryable(exc)


@pytest.mark.parametrize("exc", NOT_RETRYABLE, ids=lambda e: str(e)[:30])
def test_permanent_errors_are_not_retryable(exc: Exception) -> None:
    """Denials, quotas, validation and credential errors fail at once."""
    assert not is_retryable(exc)


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("AccessDenied", 403, rootkeys.errors.AccessDeniedError),
        ("LimitExceeded", 409, rootkeys.errors.LimitExceededError),
        ("Throttling", 400, rootkeys.errors.ThrottledError),
        ("ServiceFailure", 500, rootkeys.errors.ServiceError),
        ("InvalidClientTokenId", 403, rootkeys.errors.InvalidCredentialsError),
        ("NoSuchEntity", 404, rootkeys.errors.AWSError),
    ],
)
def test_client_errors_translate_keeping_code_and_request_id(
    code: str, status: int, cls: type[rootkeys.errors.AWSError]
) -> None:
    """Each AWS error code maps to its class, with code, operation and request id kept."""
    error = translate(client_error(code, status, "req-42"), "UpdateAccessKey")
    assert type(error) is cls
    assert (error.code, error.operation, error.request_id, error.status) == (
        code,
        "UpdateAccessKey",
        "req-42",
        status,
    )
    assert "req-42" in str(error)
    assert isinstance(error, rootkeys.RootKeysError)


def test_retries_stop_at_the_attempt_bound_and_report_each_retry() -> None:
    """A call that keeps failing is tried `attempts` times, each retry announced."""
    calls, notices, slept = [], [], []

    def always_throttled() -> None:
        calls.append(1)
        raise client_error("Throttling")

    policy = rootkeys.RetryPolicy(attempts=4, max_total=timedelta(hours=1))
    with pytest.raises(rootkeys.errors.ThrottledError):
        call_with_retries(
            "ListAccessKeys",
            always_throttled,
            policy=policy,
            sleep=slept.append,
            on_retry=notices.append,
        )
    assert len(calls) == 4
    assert [n.attempt for n in notices] == [1, 2, 3]
    assert all(n.error_code == "Throttling" for n in notices)
    assert len(slept) == 3
    assert all(0 <= s <= policy.max_backoff.total_seconds() for s in slept)


def test_access_denied_is_tried_once() -> None:
    """AccessDenied is raised at the first attempt, translated, never retried."""
    calls = []

    def denied() -> None:
        calls.append(1)
        raise client_error("AccessDenied", 403)

    with pytest.raises(rootkeys.errors.AccessDeniedError):
        call_with_retries(
            "UpdateAccessKey", denied, policy=rootkeys.RetryPolicy(), sleep=lambda s: None
        )
    assert calls == [1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"max_total": timedelta(seconds=-1)},
        {"initial_backoff": 1.0},
    ],
    ids=["zero-attempts", "bool-attempts", "negative-total", "float-backoff"],
)
def test_bad_retry_policy_is_an_input_error(kwargs: dict[str, object]) -> None:
    """A retry policy that cannot work is refused when made."""
    with pytest.raises(rootkeys.InputError):
        rootkeys.RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_redact_removes_secrets_and_quoted_signing_material() -> None:
    """Secret-shaped strings and the canonical request AWS may quote are removed."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    text = redact(
        f"bad key {secret} for AKIAAAAAAAAAAAAAAAAA. The Canonical String for this request "
        "should have been 'x-amz-security-token:FwoGZXIvYXdzEBYaDH'"
    )
    assert secret not in text
    assert "security-token" not in text
    assert "AKIAAAAAAAAAAAAAAAAA" in text


def test_a_call_that_reached_aws_keeps_every_attempt_and_is_not_called_unreachable() -> None:
    """A read timeout (the endpoint answered, then stalled) gets the policy's 8 attempts,
    not the 3 of an endpoint never reached, and its error does not blame the endpoint."""
    import botocore.exceptions

    from rootkeys.errors import EndpointError

    tries: list[int] = []

    def stalls() -> None:
        tries.append(1)
        raise botocore.exceptions.ReadTimeoutError(endpoint_url="https://iam.amazonaws.com/")

    with pytest.raises(EndpointError) as caught:
        call_with_retries(
            "ListAccessKeys", stalls, policy=rootkeys.RetryPolicy(), sleep=lambda s: None
        )
    assert len(tries) == rootkeys.RetryPolicy().attempts
    assert "could not reach" not in str(caught.value)

    def refused() -> None:
        tries.append(1)
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")

    tries.clear()
    with pytest.raises(EndpointError, match=r"could not reach AWS at http://127\.0\.0\.1:9/"):
        call_with_retries(
            "ListAccessKeys", refused, policy=rootkeys.RetryPolicy(), sleep=lambda s: None
        )
    assert len(tries) == rootkeys.RetryPolicy().unreachable_attempts
