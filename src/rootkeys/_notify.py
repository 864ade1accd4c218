"""Notifications: people told each account's outcome, by Amazon SNS or a webhook.

Both notifiers are hooks (`rootkeys.Hook`): they act on ``ACCOUNT_FINISHED``, which an
organization removal emits once per member account and pass with the account's result
(`Event.result`), and ignore every other event. Each sends one message per account
whose outcome is one of ``on`` (`DEFAULT_OUTCOMES`: what a person should hear of).

A notification that fails (SNS refuses, a webhook times out or answers 5xx) raises;
the run's `Emitter` catches it, logs it and names it in the account's result
(`AccountRemoval.hook_errors`): the run goes on, and is never held longer than the
notifier's timeout. A webhook's URL and headers (a Slack URL embeds its token) are
never logged, shown in a repr, nor put in an error: only its host is.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._errors import InputError, RootKeysError
from rootkeys._models import CredentialKind
from rootkeys._observe import Event, EventKind
from rootkeys._orgreports import AccountOutcome, AccountRemoval
from rootkeys._public import package_version, rehome
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries, redact

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

__all__ = [
    "DEFAULT_OUTCOMES",
    "SCHEMA_VERSION",
    "NotificationError",
    "SnsNotifier",
    "WebhookNotifier",
    "notification",
    "outcomes",
    "topic_region",
    "webhook_url",
]

DEFAULT_OUTCOMES: frozenset[AccountOutcome] = frozenset(
    {
        AccountOutcome.DONE,
        AccountOutcome.ROLLED_BACK,
        AccountOutcome.ON_HOLD,
        AccountOutcome.BLOCKED,
        AccountOutcome.INCOMPLETE,
        AccountOutcome.FAILED,
    }
)
"""The outcomes notified unless ``on`` says otherwise: credentials deleted (``done``), a
rollback, an account waiting for a person (``on hold``, ``blocked``), and a pass that
did not finish (``incomplete``, ``failed``). Not ``observing`` (every pass of every
window), ``nothing to do``, ``out of reach`` nor ``skipped``."""

_NEVER_PASSED = (AccountOutcome.OUT_OF_REACH, AccountOutcome.SKIPPED)

SCHEMA_VERSION = 1
"""The version of the message's shape (``schema_version`` in it)."""

_TOPIC_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z]{2}(-[a-z]+)+-\d+):\d{12}:"
    r"(?P<name>[A-Za-z0-9_-]{1,256}(\.fifo)?)"
)
_SUBJECT_MAX = 100  # SNS's limit on a Subject
_TEXT_MAX = 2900  # under Slack's 3,000 characters of a block's text


class NotificationError(RootKeysError):
    """A notification could not be delivered (the webhook failed or was unreachable).

    Raised by a notifier to the run, which reports it (`AccountRemoval.hook_errors`) and
    goes on. The message names the webhook's host, never its URL.
    """


# -- what is sent ------------------------------------------------------------------------------


def outcomes(on: Iterable[AccountOutcome | str] | None) -> frozenset[AccountOutcome]:
    """The outcomes ``on`` names (`DEFAULT_OUTCOMES` when None).

    Each is an `AccountOutcome` or its value (``"rolled back"``); its name works too
    (``"ROLLED_BACK"``, ``"rolled_back"``). ``out of reach`` and ``skipped`` are refused:
    no pass is made over such an account, so nothing would ever be told.

    Raises:
        InputError: not a list of outcomes, or an outcome that is never told.
    """
    if on is None:
        return DEFAULT_OUTCOMES
    if isinstance(on, str | bytes) or not isinstance(on, Iterable):
        raise InputError(f"on must be a list of account outcomes, not {on!r}")
    told = [o for o in AccountOutcome if o not in _NEVER_PASSED]
    known = {o.value: o for o in told} | {o.name.lower(): o for o in told}
    found: set[AccountOutcome] = set()
    for item in on:
        given: object = item  # a caller's list may hold anything
        chosen = known.get(given.lower()) if isinstance(given, str) else None
        if chosen is None:
            names = ", ".join(repr(o.value) for o in told)
            raise InputError(f"on: {item!r} is not an account outcome told; use {names}")
        found.add(chosen)
    return frozenset(found)


def notification(result: AccountRemoval, *, at: datetime) -> dict[str, Any]:
    """The message told of one account's outcome (docs/notifications.md shows one).

    Plain JSON values: ids, outcomes, reasons and times; never a secret.
    """
    report = result.report
    failure = report.check_failure if report is not None else None
    return {
        "source": "rootkeys",
        "schema_version": SCHEMA_VERSION,
        "event": EventKind.ACCOUNT_FINISHED.value,
        "account_id": result.account_id,
        "account_name": result.name,
        "outcome": result.outcome.value,
        "reason": redact(result.reason),
        "quarantine": result.quarantine.value,
        "observing_until": _time(result.observing_until),
        "run_id": report.run_id if report is not None else None,
        "at": _time(at),
        "check_failure": None
        if failure is None
        else {"check": failure.check, "credential_id": failure.key_id, "reason": failure.reason},
        "credentials": [
            {
                "id": key.key_id,
                "kind": CredentialKind.of(key.key_id).value,
                "outcome": key.outcome.value,
                "state": key.final_state.value if key.final_state is not None else None,
                "reason": redact(key.reason),
            }
            for key in (report.keys if report is not None else ())
        ],
    }


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _headline(result: AccountRemoval) -> str:
    """``rootkeys: account 111122223333 (payments): rolled back``."""
    name = f" ({result.name})" if result.name else ""
    return f"rootkeys: account {result.account_id}{name}: {result.outcome.value}"


def _told(event: Event, wanted: frozenset[AccountOutcome]) -> AccountRemoval | None:
    """The account result ``event`` tells, when it is one to notify; else None."""
    if event.kind is not EventKind.ACCOUNT_FINISHED or event.result is None:
        return None
    return event.result if event.result.outcome in wanted else None


# -- Amazon SNS --------------------------------------------------------------------------------


def topic_region(topic_arn: object) -> str:
    """The region of an SNS topic's ARN; `InputError` when it is not one."""
    found = _TOPIC_ARN.fullmatch(topic_arn) if isinstance(topic_arn, str) else None
    if found is None:
        raise InputError(
            f"{topic_arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
        )
    return found["region"]


class SnsNotifier:
    """Publishes one JSON message per account outcome to an Amazon SNS topic.

    The message is `notification`'s (docs/notifications.md shows one), with a Subject
    (``rootkeys: account 111122223333 (payments): rolled back``) and message attributes
    for subscription filter policies: ``outcome`` (an `AccountOutcome` value),
    ``account_id`` and ``source`` (``rootkeys``). A FIFO topic gets the account id as
    its message group. The session needs ``sns:Publish`` on the topic.

    Args:
        topic_arn: the topic (``arn:aws:sns:REGION:ACCOUNT:TOPIC``).
        session: the session that publishes (default: a new default session).
        on: the account outcomes to notify (default: `DEFAULT_OUTCOMES`).
        region_name: the topic's region (default: the one in its ARN).
        client: a ready SNS client instead of a session.
        retry: how hard to retry a throttled or failed Publish (default: 3 attempts
            within 10 seconds).
        name: the name in logs and reports.

    Raises:
        InputError: not a topic ARN, or an unknown outcome; before any AWS call.
    """

    def __init__(
        self,
        topic_arn: str,
        *,
        session: boto3.Session | None = None,
        on: Iterable[AccountOutcome | str] | None = None,
        region_name: str | None = None,
        client: SNSClient | None = None,
        retry: RetryPolicy | None = None,
        name: str | None = None,
    ) -> None:
        region = region_name or topic_region(topic_arn)
        self.topic_arn = topic_arn
        self.on = outcomes(on)
        self.name = name or f"SNS notifier ({topic_arn.rsplit(':', 1)[-1]})"
        self._retry = retry or RetryPolicy(
            attempts=3, max_total=timedelta(seconds=10), max_backoff=timedelta(seconds=2)
        )
        if client is None:
            import boto3

            session = session or boto3.Session()
            client = session.client("sns", region_name=region, config=BOTO_CONFIG)
        self._client = client

    def __repr__(self) -> str:
        return f"SnsNotifier({self.topic_arn!r}, on={sorted(o.value for o in self.on)})"

    def __call__(self, event: Event, /) -> None:
        """Publish the account's outcome, if it is one to notify."""
        result = _told(event, self.on)
        if result is None:
            return
        body = json.dumps(notification(result, at=event.at), sort_keys=True)
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "outcome": {"DataType": "String", "StringValue": result.outcome.value},
            "account_id": {"DataType": "String", "StringValue": result.account_id},
            "source": {"DataType": "String", "StringValue": "rootkeys"},
        }
        subject = _headline(result).encode("ascii", "replace").decode()[:_SUBJECT_MAX]
        fifo: dict[str, str] = {}
        if self.topic_arn.endswith(".fifo"):
            digest = hashlib.sha256(body.encode()).hexdigest()
            fifo = {"MessageGroupId": result.account_id, "MessageDeduplicationId": digest}
        call_with_retries(
            "Publish",
            lambda: self._client.publish(
                TopicArn=self.topic_arn,
                Message=body,
                Subject=subject,
                MessageAttributes=attributes,
                **fifo,
            ),
            policy=self._retry,
            sleep=time.sleep,
        )


# -- a webhook (Slack-compatible) --------------------------------------------------------------


def webhook_url(url: object) -> str:
    """``url``, checked to be an http(s) URL with a host; `InputError` (URL unshown) if not."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("a webhook URL must be an http:// or https:// URL with a host")
    assert isinstance(url, str)
    if any(c.isspace() for c in url):
        raise InputError("a webhook URL has no spaces (write one as %20)")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise InputError("a webhook URL's port must be a number from 1 to 65535") from None
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is failing: a redirected POST would lose its body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookNotifier:
    """Posts each account outcome as Slack-compatible JSON to a webhook (an incoming webhook).

    The body: ``text`` (one line: account, outcome, why), ``blocks`` (the same as a Slack
    section), and ``rootkeys``, `notification`'s structured message for any other
    receiver. Any 2xx answer is delivery; anything else (an error status, a redirect, no
    answer within ``timeout``) raises `NotificationError`, which the run reports. The run
    waits at most ``timeout`` for the post, name lookup included.

    The URL and headers may hold a secret (a Slack URL embeds its token; a header, a
    bearer token): neither is logged, shown in the repr, nor put in an error. Only the
    host is.

    Args:
        url: the webhook, ``http://`` or ``https://``.
        headers: extra request headers (e.g. ``Authorization``).
        timeout: how long to wait for the webhook to answer.
        on: the account outcomes to notify (default: `DEFAULT_OUTCOMES`).
        name: the name in logs and reports (default: ``webhook HOST``).

    Raises:
        InputError: not an http(s) URL, headers not strings, a timeout not positive, or
            an unknown outcome.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: timedelta | float = timedelta(seconds=5),
        on: Iterable[AccountOutcome | str] | None = None,
        name: str | None = None,
    ) -> None:
        self._url = webhook_url(url)
        host = urllib.parse.urlsplit(self._url).hostname or ""
        given: dict[str, str] = {}
        entries: dict[Any, Any] = dict(headers or {})  # a caller's dict may hold anything
        for key, value in entries.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InputError("webhook headers must map strings to strings")
            given[key] = value
        seconds: object = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise InputError(f"timeout must be positive, got {timeout!r}")
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"rootkeys/{package_version()}",
            **given,
        }
        self.host = host
        self.timeout = float(seconds)
        self.on = outcomes(on)
        self.name = name or f"webhook {host}"

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={self.host!r}, on={sorted(o.value for o in self.on)})"

    def payload(self, result: AccountRemoval, at: datetime) -> dict[str, Any]:
        """The JSON body posted for ``result``."""
        message = notification(result, at=at)
        text = f"{_headline(result)}: {message['reason']}" if message["reason"] else ""
        text = text or _headline(result)
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return {
            "text": text[:_TEXT_MAX],
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": escaped[:_TEXT_MAX]}}
            ],
            "rootkeys": message,
        }

    def __call__(self, event: Event, /) -> None:
        """Post the account's outcome, if it is one to notify."""
        result = _told(event, self.on)
        if result is None:
            return
        body = json.dumps(self.payload(result, event.at)).encode()
        answered: list[int | NotificationError] = []
        # the socket's timeout bounds each wait, not a slow name lookup or a trickling
        # answer: the post runs aside, and the run waits for it at most ``timeout``
        poster = threading.Thread(target=self._post, args=(body, answered), daemon=True)
        poster.start()
        poster.join(self.timeout)
        if not answered:
            raise NotificationError(
                f"webhook {self.host} not reached within {self.timeout:g}s: TimeoutError "
                "(no answer)"
            )
        status = answered[0]
        if isinstance(status, NotificationError):
            raise status
        if not 200 <= status < 300:
            raise NotificationError(f"webhook {self.host} answered HTTP {status}")

    def _post(self, body: bytes, answered: list[int | NotificationError]) -> None:
        """POST ``body``; its HTTP status, or why there is none, into ``answered``."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http(s)
            self._url, data=body, headers=self._headers, method="POST"
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as answer:
                answered.append(answer.status)
        except urllib.error.HTTPError as exc:
            answered.append(exc.code)
            exc.close()
        except (urllib.error.URLError, OSError) as exc:  # unreachable, refused, timed out
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            said = redact(str(reason).replace(self._url, "[webhook URL]"))
            answered.append(
                NotificationError(
                    f"webhook {self.host} not reached within {self.timeout:g}s: "
                    f"{type(reason).__name__}" + (f" ({said})" if said else "")
                )
            )


rehome(globals())
