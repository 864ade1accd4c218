"""The sections of a rootkeys config file, as validated models (docs/config.md).

Each model is frozen, refuses unknown keys and converts nothing silently (strict), so a
misspelt key or a number where a duration belongs is an error `load_config` turns into
one `ConfigError` with its line. Durations are strings as rootkeys prints them (``7d``,
``30s``), read by `parse_duration`.
"""

from __future__ import annotations

import shlex
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from rootkeys._clock import parse_duration
from rootkeys._findings import RemovalPolicy
from rootkeys._lifecycle import MAX_WINDOW
from rootkeys._notify import outcomes, topic_region, webhook_url
from rootkeys._public import rehome
from rootkeys._render import span

__all__ = [
    "STRICT",
    "AlarmCheckConfig",
    "ChecksConfig",
    "CommandCheckConfig",
    "Duration",
    "HttpCheckConfig",
    "NotifyConfig",
    "PolicyConfig",
    "SnsNotifyConfig",
    "WebhookNotifyConfig",
    "Window",
    "WindowConfig",
    "policy_value",
]

# -- values ------------------------------------------------------------------------------------


def _duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f'write a duration as a string, like "7d" or "30s"; got {value!r}')


def _window(value: timedelta) -> timedelta:
    if value > MAX_WINDOW:
        raise ValueError(f"a window is at most {MAX_WINDOW.days} days, got {span(value)}")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
"""A positive duration, written as rootkeys prints them (``30s``, ``5m``)."""
Window = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_window)]
"""An observation window: ``0`` to ``366d``."""


def _listed(value: object) -> object:
    return [value] if type(value) is int else value


STRICT = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)


# -- the sections ------------------------------------------------------------------------------


class HttpCheckConfig(BaseModel):
    """One ``[[checks.http]]`` entry: an `HttpHealthCheck` (``--check-url``)."""

    model_config = STRICT

    url: str
    expected_status: Annotated[list[int], BeforeValidator(_listed)] = Field(
        default_factory=lambda: [200]
    )
    timeout: Duration = timedelta(seconds=5)
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may hold a token
    name: str | None = None

    @field_validator("method")
    @classmethod
    def _method(cls, method: str) -> str:
        if not method.isalpha() or not method.isupper():
            raise ValueError(f"must be an HTTP method such as GET or HEAD, got {method!r}")
        return method

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {url!r}")
        return url

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        if not statuses or not all(100 <= s <= 599 for s in statuses):
            raise ValueError(f"must be HTTP statuses (100 to 599), got {statuses!r}")
        return statuses


class AlarmCheckConfig(BaseModel):
    """One ``[[checks.alarms]]`` entry: a `CloudWatchAlarmCheck` (``--alarm``, ``--alarm-prefix``).

    Exactly one of ``names`` and ``prefix``; ``region``: the alarms' region (default: the
    one `Config.checks` is given, else the session's).
    """

    model_config = STRICT

    names: list[str] = Field(default_factory=list)
    prefix: str | None = None
    region: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AlarmCheckConfig:
        if bool(self.names) == bool(self.prefix):
            raise ValueError('give either names = [...] or prefix = "..." of the alarms')
        return self


def _argv(value: object) -> object:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:  # an unclosed quote
            raise ValueError(f"cannot split {value!r} into arguments: {exc}") from None
    return value


class CommandCheckConfig(BaseModel):
    """One ``[[checks.command]]`` entry: a `CommandCheck` (``--check-command``).

    ``run``: the program and its arguments, or one string split as a shell splits it
    (never run by a shell). ``cwd``: where it runs; in a file, relative to the file's
    directory, which is also the default.
    """

    model_config = STRICT

    run: Annotated[list[str], BeforeValidator(_argv)]
    timeout: Duration = timedelta(seconds=30)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict, repr=False)  # may hold a token
    name: str | None = None

    @field_validator("run")
    @classmethod
    def _program(cls, run: list[str]) -> list[str]:
        if not run or not run[0]:
            raise ValueError("must name a program")
        return run


class ChecksConfig(BaseModel):
    """The ``[checks]`` table: what judges, during each window, whether anything broke."""

    model_config = STRICT

    http: list[HttpCheckConfig] = Field(default_factory=list)
    alarms: list[AlarmCheckConfig] = Field(default_factory=list)
    command: list[CommandCheckConfig] = Field(default_factory=list)


def _outcomes(on: list[str] | None) -> list[str] | None:
    """Outcome names, each an `AccountOutcome`'s value or name, as their values."""
    return None if on is None else sorted(o.value for o in outcomes(on))


Outcomes = Annotated[list[str] | None, AfterValidator(_outcomes)]
"""The account outcomes a notifier tells (None: `rootkeys.notify.DEFAULT_OUTCOMES`)."""


class SnsNotifyConfig(BaseModel):
    """One ``[[notify.sns]]`` entry: an `SnsNotifier` publishing to ``topic_arn``.

    ``region``: the topic's (default: the one in its ARN). ``on``: the account outcomes
    told (default: `rootkeys.notify.DEFAULT_OUTCOMES`).
    """

    model_config = STRICT

    topic_arn: str
    region: str | None = None
    on: Outcomes = None

    @field_validator("topic_arn")
    @classmethod
    def _arn(cls, topic_arn: str) -> str:
        topic_region(topic_arn)
        return topic_arn


class WebhookNotifyConfig(BaseModel):
    """One ``[[notify.webhook]]`` entry: a `WebhookNotifier` posting Slack-compatible JSON.

    The URL and headers may hold a secret (a Slack URL embeds its token): neither is in
    this entry's repr, nor in an error about it.
    """

    model_config = STRICT

    url: str = Field(repr=False)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    timeout: Duration = timedelta(seconds=5)
    on: Outcomes = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return webhook_url(url)


class NotifyConfig(BaseModel):
    """The ``[notify]`` table: who is told each account's outcome (docs/notifications.md)."""

    model_config = STRICT

    sns: list[SnsNotifyConfig] = Field(default_factory=list)
    webhook: list[WebhookNotifyConfig] = Field(default_factory=list)


class PolicyConfig(BaseModel):
    """The ``[policy]`` table (or ``policy = true``): a `RemovalPolicy`, windows by risk.

    A value left out keeps `RemovalPolicy`'s default.
    """

    model_config = STRICT

    recent: Window | None = None
    active: Window | None = None
    dormant: Window | None = None
    never: Window | None = None
    recent_within: Duration | None = None
    sign_in_blocks: Duration | None = None

    def removal_policy(self, **overrides: Any) -> RemovalPolicy:
        """The `RemovalPolicy` these values make (``overrides``: its other fields)."""
        return RemovalPolicy(**self.model_dump(exclude_none=True), **overrides)


class WindowConfig(BaseModel):
    """An ``[accounts."<id>"]`` or ``[keys."<id>"]`` table: that account's or key's window."""

    model_config = STRICT

    observe: Window


def policy_value(value: object) -> object:
    """``policy = true`` as the default table, ``false`` as none; other values as given."""
    if isinstance(value, bool):
        return {} if value else None
    if not isinstance(value, dict | PolicyConfig):
        raise ValueError(f"write policy = true, or a [policy] table of windows; got {value!r}")
    return value


rehome(globals())
