"""The one retry layer: what is retried, how often, and how errors are translated.

botocore's own retries are switched off on every client rootkeys builds
(`BOTO_CONFIG`: one attempt), so tenacity alone decides and the two layers never
multiply. Throttling, 5xx answers and connection errors are retried with exponential
backoff and full jitter, bounded in attempts and in total time. Everything else,
``AccessDenied`` and IAM's quota error ``LimitExceeded`` above all, fails at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions
from botocore.config import Config

from rootkeys._errors import (
    AccessDeniedError,
    AWSError,
    EndpointError,
    InputError,
    InvalidCredentialsError,
    LimitExceededError,
    ServiceError,
    ThrottledError,
)
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable

    import tenacity

__all__ = [
    "BOTO_CONFIG",
    "RetryNotice",
    "RetryPolicy",
    "call_with_retries",
    "is_retryable",
    "redact",
    "translate",
]

log = logging.getLogger("rootkeys")
T = TypeVar("T")

BOTO_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="rootkeys",
)
"""botocore settings for every client rootkeys builds: no botocore retries."""

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "ServiceFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "InvalidToken",
    }
)
_CONNECTION_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
_UNREACHABLE = botocore.exceptions.ConnectionError
"""The endpoint was never reached (refused, DNS, connect timeout), as opposed to a call
that reached it and then failed in passing (a read timeout, a closed connection)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard rootkeys tries an AWS call that failed for a passing reason.

    Attributes:
        attempts: the most attempts per call, the first included.
        max_total: the most time spent on one call, waits included.
        initial_backoff: the base of the exponential backoff.
        max_backoff: the longest single wait.
        unreachable_attempts: the most attempts when the endpoint cannot be reached at
            all (connection refused, DNS, connect timeout): a wrong endpoint or no network
            is told after a short try, not after every backoff.
    """

    attempts: int = 8
    max_total: timedelta = timedelta(seconds=120)
    initial_backoff: timedelta = timedelta(milliseconds=250)
    max_backoff: timedelta = timedelta(seconds=20)
    unreachable_attempts: int = 3

    def __post_init__(self) -> None:
        for name in ("attempts", "unreachable_attempts"):
            attempts: object = getattr(self, name)
            if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
                raise InputError(f"{name} must be a whole number ≥ 1, got {attempts!r}")
        for name in ("max_total", "initial_backoff", "max_backoff"):
            value: object = getattr(self, name)
            if not isinstance(value, timedelta) or value < timedelta(0):
                raise InputError(f"{name} must be a non-negative timedelta, got {value!r}")


def retry_or_default(retry: object) -> RetryPolicy:
    """``retry``, checked to be a `RetryPolicy`; the default policy when None."""
    if retry is None:
        return RetryPolicy()
    if not isinstance(retry, RetryPolicy):
        raise InputError(f"retry must be a rootkeys.RetryPolicy, not {type(retry).__name__}")
    return retry


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """What the retry layer tells its listener before it waits and tries again."""

    operation: str
    attempt: int
    wait_seconds: float
    error_code: str


def error_code(exc: BaseException) -> str:
    """The AWS error code of a `ClientError`, or the class name of another error."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", "") or "Unknown")
    return type(exc).__name__


def _status(exc: botocore.exceptions.ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed AWS call may succeed if tried again."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc)
        if code in DENIED_CODES or code == "LimitExceeded" or code in CREDENTIAL_CODES:
            return False
        if code in THROTTLING_CODES or code in TRANSIENT_CODES:
            return True
        status = _status(exc)
        return status is not None and status >= 500
    return isinstance(exc, _CONNECTION_ERRORS)


def call_with_retries(
    operation: str,
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> T:
    """Call ``fn`` under ``policy``; translate whatever finally fails into `AWSError`."""
    import tenacity  # here, not at import: keeps `import rootkeys` quick

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        notice = RetryNotice(
            operation=operation,
            attempt=state.attempt_number,
            wait_seconds=wait,
            error_code=error_code(exc) if exc else "",
        )
        log.info(
            "retrying %s after %s (attempt %d, waiting %.2fs)",
            operation,
            notice.error_code,
            notice.attempt,
            wait,
        )
        if on_retry is not None:
            on_retry(notice)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_any(
            tenacity.stop_after_attempt(policy.attempts),
            tenacity.stop_after_delay(policy.max_total.total_seconds()),
            _unreachable_after(policy.unreachable_attempts),
        ),
        wait=tenacity.wait_random_exponential(
            multiplier=policy.initial_backoff.total_seconds(),
            max=policy.max_backoff.total_seconds(),
        ),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(fn)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise translate(exc, operation) from exc


def _unreachable_after(attempts: int) -> Any:
    """A tenacity stop: an endpoint that cannot be reached gets ``attempts`` tries only."""
    import tenacity

    class Unreachable(tenacity.stop.stop_base):
        def __call__(self, state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            failed = outcome.exception() if outcome is not None and outcome.failed else None
            return isinstance(failed, _UNREACHABLE) and state.attempt_number >= attempts

    return Unreachable()


def translate(exc: Exception, operation: str) -> AWSError:
    """The `AWSError` that stands for a botocore exception, code and request id kept."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc)
        error = exc.response.get("Error", {})
        message = redact(str(error.get("Message", "") or code))
        request_id = str(exc.response.get("ResponseMetadata", {}).get("RequestId", "") or "")
        status = _status(exc)
        cls: type[AWSError]
        if code in DENIED_CODES:
            cls = AccessDeniedError
        elif code == "LimitExceeded":
            cls = LimitExceededError
        elif code in THROTTLING_CODES:
            cls = ThrottledError
        elif code in CREDENTIAL_CODES:
            cls = InvalidCredentialsError
        elif code in TRANSIENT_CODES or (status is not None and status >= 500):
            cls = ServiceError
        else:
            cls = AWSError
        return cls(message, code=code, operation=operation, request_id=request_id, status=status)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return InvalidCredentialsError(
            "no AWS credentials were found", code="NoCredentials", operation=operation
        )
    if isinstance(exc, _CONNECTION_ERRORS):
        where = getattr(exc, "kwargs", {}).get("endpoint_url")
        at = f" at {where}" if where else ""
        text = (
            f"could not reach AWS{at}: check the network and the endpoint "
            "(--endpoint-url, AWS_ENDPOINT_URL)"
            if isinstance(exc, _UNREACHABLE)
            else f"the connection to AWS{at} failed after every retry ({type(exc).__name__})"
        )
        return EndpointError(text, code=type(exc).__name__, operation=operation)
    return AWSError(
        redact(str(exc)) or type(exc).__name__, code=type(exc).__name__, operation=operation
    )


# Secret access keys are 40 base64 characters; session tokens are longer still. Key ids
# (20 characters), account ids and request ids are left alone.
_SECRETISH = re.compile(r"[A-Za-z0-9/+=]{40,}")
_CANONICAL = re.compile(r"\s*The Canonical String for this request.*", re.DOTALL)


def redact(text: str) -> str:
    """``text`` with anything shaped like a secret key or session token removed.

    AWS's own messages may quote signed request material (``SignatureDoesNotMatch``
    quotes the canonical request, security token header included).
    """
    return _SECRETISH.sub("[redacted]", _CANONICAL.sub("", text))


rehome(globals())
