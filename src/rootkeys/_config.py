"""The config file: checks and windows without Python, for the CLI and notebooks alike.

`load_config` finds the file (an explicit path, else ``ROOTKEYS_CONFIG``, else
`default_config_path`), parses it with `tomllib` and validates it into a frozen `Config`;
anything wrong is one `ConfigError` naming the file and the line. The `Config` then
gives what the library takes: ``observe_for()`` for `RootKeyManager.remove_all` and
`Organization.remove_all`, ``check_interval``, and ``checks(session)`` for
``checks=``. The schema is documented in ``docs/config.md``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from rootkeys._config_errors import key_lines, line_of, message, path_of, shown, toml_error_line
from rootkeys._config_runs import LambdaConfig, OrganizationConfig
from rootkeys._config_sections import (
    STRICT,
    AlarmCheckConfig,
    ChecksConfig,
    CommandCheckConfig,
    Duration,
    HttpCheckConfig,
    NotifyConfig,
    PolicyConfig,
    SnsNotifyConfig,
    WebhookNotifyConfig,
    Window,
    WindowConfig,
    policy_value,
)
from rootkeys._errors import ConfigError, InputError
from rootkeys._models import AccountId, CredentialId
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Sequence

    import boto3
    from pydantic import ValidationInfo

    from rootkeys._findings import RemovalPolicy
    from rootkeys._observe import Check, Hook

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "AlarmCheckConfig",
    "ChecksConfig",
    "CommandCheckConfig",
    "Config",
    "HttpCheckConfig",
    "LambdaConfig",
    "NotifyConfig",
    "OrganizationConfig",
    "PolicyConfig",
    "SnsNotifyConfig",
    "WebhookNotifyConfig",
    "WindowConfig",
    "default_config_path",
    "load_config",
]

ENVIRONMENT_VARIABLE = "ROOTKEYS_CONFIG"
"""The environment variable naming the config file when no path is given."""


# -- the file ----------------------------------------------------------------------------------


class Config(BaseModel):
    """A rootkeys config file, validated: windows and checks for removals.

    Made by `load_config` (or empty: ``Config()``, what no file means). Hand its parts
    to the library::

        config = rootkeys.load_config()
        manager = rootkeys.RootKeyManager(session, checks=config.checks(session))
        manager.remove_all(config.observe_for(), config.check_interval)

    Attributes:
        observe: one window for every key (``observe = "7d"``).
        policy: windows by each key's risk instead (``policy = true`` or ``[policy]``).
        check_interval: time between check runs; None: the library's default.
        accounts: windows for every key of some accounts (organizations).
        keys: windows for some keys.
        journal: where runs record (a file path, or ``dynamodb://TABLE?region=...``);
            None: ``ROOTKEYS_JOURNAL``, else the per-user journal. ``--journal`` wins.
        notify: who is told each account's outcome (``[[notify.sns]]``,
            ``[[notify.webhook]]``); `notifications` builds them.
        organization: which member accounts a run nobody starts by hand covers, and how.
        aws_lambda: the ``[lambda]`` table: the scheduled run's time budget.
    """

    model_config = STRICT

    observe: Window | None = None
    policy: Annotated[PolicyConfig | None, BeforeValidator(policy_value)] = None
    check_interval: Duration | None = None
    check_settings: ChecksConfig = Field(default_factory=ChecksConfig, alias="checks")
    accounts: dict[AccountId, WindowConfig] = Field(default_factory=dict)
    keys: dict[CredentialId, WindowConfig] = Field(default_factory=dict)
    journal: str | None = None
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    organization: OrganizationConfig = Field(default_factory=OrganizationConfig)
    aws_lambda: LambdaConfig = Field(default_factory=LambdaConfig, alias="lambda")

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("policy")
    @classmethod
    def _not_both(cls, policy: PolicyConfig | None, info: ValidationInfo) -> PolicyConfig | None:
        if policy is not None and info.data.get("observe") is not None:
            raise ValueError("give either observe (one window) or policy (windows by risk)")
        return policy

    @field_validator("journal")
    @classmethod
    def _location(cls, journal: str | None) -> str | None:
        if journal is None:
            return None
        if not journal.strip():
            raise ValueError("must be a file path or dynamodb://TABLE?region=REGION")
        if journal.startswith("dynamodb:"):
            from rootkeys._journal_table import parse_location

            try:
                parse_location(journal)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return journal

    @property
    def source(self) -> Path | None:
        """The file this config was read from (None: no file)."""
        return self._source

    def observe_for(self) -> timedelta | RemovalPolicy | None:
        """The ``observe_for`` to hand `remove_all`, `plan` and `status`; None: none set.

        One `timedelta` (``observe``), or a `RemovalPolicy` when windows come by risk
        (``policy``) or some accounts or keys have windows of their own. Those windows
        refine a base window (``observe`` or ``policy``); without one, None.
        """
        if self.observe is None and self.policy is None:
            return None
        if self.policy is None and not self.accounts and not self.keys:
            return self.observe
        overrides: dict[str, Any] = {
            "fixed": self.observe,
            "accounts": {a: w.observe for a, w in self.accounts.items()},
            "keys": {k: w.observe for k, w in self.keys.items()},
        }
        return (self.policy or PolicyConfig()).removal_policy(**overrides)

    def checks(
        self, session: boto3.Session | None = None, region: str | None = None
    ) -> list[Check]:
        """The checks the file describes, built: hand them to ``checks=``.

        Args:
            session: for the CloudWatch alarm checks (default: a new default session).
            region: the alarms' region when an entry names none (default: the session's).

        Raises:
            InputError: an alarm check has no region to read its alarms in.
        """
        from botocore.exceptions import NoRegionError

        from rootkeys._checks import CloudWatchAlarmCheck, CommandCheck, HttpHealthCheck

        found: list[Check] = []
        for http in self.check_settings.http:
            found.append(
                HttpHealthCheck(
                    http.url,
                    expected_status=http.expected_status,
                    timeout=http.timeout,
                    method=http.method,
                    headers=http.headers,
                    name=http.name,
                )
            )
        for alarm in self.check_settings.alarms:
            watched = ", ".join(alarm.names) if alarm.names else f"{alarm.prefix}*"
            try:
                check = CloudWatchAlarmCheck(
                    session,
                    names=alarm.names,
                    prefix=alarm.prefix,
                    region_name=alarm.region or region,
                    name=alarm.name or f"alarms {watched}",
                )
            except NoRegionError:
                raise InputError(
                    f"the alarm check of {watched} needs a region: set region in its entry, "
                    "or give the session one"
                ) from None
            found.append(check)
        for command in self.check_settings.command:
            found.append(
                CommandCheck(
                    command.run,
                    timeout=command.timeout,
                    cwd=command.cwd,
                    env=command.env,
                    name=command.name,
                )
            )
        return found

    def notifications(self, session: boto3.Session | None = None) -> list[Hook]:
        """The notifiers the file describes, built: add them to ``hooks=``.

        Each tells the outcome of every member account of an organization removal
        (`rootkeys.notify`); a notification that fails is reported, never fails the run.

        Args:
            session: the session that publishes to the SNS topics (``sns:Publish``;
                default: a new default session).
        """
        from rootkeys._notify import SnsNotifier, WebhookNotifier

        found: list[Hook] = [
            SnsNotifier(sns.topic_arn, session=session, on=sns.on, region_name=sns.region)
            for sns in self.notify.sns
        ]
        found += [
            WebhookNotifier(hook.url, headers=hook.headers, timeout=hook.timeout, on=hook.on)
            for hook in self.notify.webhook
        ]
        return found

    def extended(
        self,
        *,
        http: Sequence[str] = (),
        alarms: Sequence[str] = (),
        alarm_prefixes: Sequence[str] = (),
        commands: Sequence[str] = (),
        observe: timedelta | None = None,
        policy: bool = False,
        check_interval: timedelta | None = None,
    ) -> Config:
        """A copy with what the command line adds: more checks, another window or interval.

        Args:
            http: health URLs (``--check-url``), each expecting 200 within 5 s.
            alarms: CloudWatch alarm names (``--alarm``), watched by one check.
            alarm_prefixes: alarm name prefixes (``--alarm-prefix``), one check each.
            commands: command lines (``--check-command``), split as a shell would, run
                in the current directory.
            observe: one window for every key (``--observe``): replaces the file's
                ``observe`` or ``policy``; its per-account and per-key windows stay.
            policy: windows by risk (``--policy``): the file's ``[policy]`` values, or
                the defaults; replaces its ``observe``.
            check_interval: replaces the file's ``check_interval``.

        Raises:
            InputError: a bad URL, command, window or interval (no file, so no line).
        """
        if observe is not None and policy:
            raise InputError("give either a window (--observe) or --policy, not both")
        checks = self.check_settings
        more = {
            "http": [*checks.http, *(_entry(HttpCheckConfig, "check URL", url=u) for u in http)],
            "alarms": list(checks.alarms),
            "command": [
                *checks.command,
                *(_entry(CommandCheckConfig, "check command", run=c) for c in commands),
            ],
        }
        for what, values in (("alarm", alarms), ("alarm prefix", alarm_prefixes)):
            if isinstance(values, str):
                raise InputError(f"{what}s must be a list of strings, not one string")
        if alarms:
            more["alarms"].append(_entry(AlarmCheckConfig, "alarm", names=list(alarms)))
        more["alarms"] += [
            _entry(AlarmCheckConfig, "alarm prefix", prefix=p) for p in alarm_prefixes
        ]
        update: dict[str, Any] = {"check_settings": checks.model_copy(update=more)}
        if observe is not None:
            update |= {"observe": _given(observe, Window, "observe"), "policy": None}
        elif policy:
            update |= {"observe": None, "policy": self.policy or PolicyConfig()}
        if check_interval is not None:
            update["check_interval"] = _given(check_interval, Duration, "check_interval")
        return self.model_copy(update=update)


def _entry(model: type[BaseModel], what: str, **fields: object) -> Any:
    """A section entry from command-line values; a bad one is an `InputError`."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        value = next(iter(fields.values()))
        raise InputError(f"{what} {value!r}: {message(exc.errors()[0], model)}") from None


def _given(value: object, kind: Any, what: str) -> timedelta:
    """A window or interval given from Python or the command line, checked like the file's."""
    from pydantic import TypeAdapter

    if not isinstance(value, timedelta):
        raise InputError(f"{what} must be a datetime.timedelta, not {type(value).__name__}")
    try:
        checked: timedelta = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise InputError(f"{what}: {message(exc.errors()[0], None)}") from None
    return checked


# -- finding and reading the file ------------------------------------------------------------


def default_config_path() -> Path:
    """Where rootkeys looks when neither a path nor ``ROOTKEYS_CONFIG`` names a file.

    ``$XDG_CONFIG_HOME/rootkeys/config.toml``; ``~/.config/rootkeys/config.toml`` when
    ``XDG_CONFIG_HOME`` is unset (or not an absolute path).
    """
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "rootkeys" / "config.toml"


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a rootkeys config file (TOML; see docs/config.md).

    Looks for ``path``; without one, the file ``ROOTKEYS_CONFIG`` names; without that,
    `default_config_path`. No file at the default place is an empty `Config`; a file
    named by ``path`` or ``ROOTKEYS_CONFIG`` must exist. Reads nothing but the file.

    Raises:
        ConfigError: the file is missing (when named), unreadable, not TOML, or not what
            rootkeys expects; the message names the file and the line.
    """
    given = os.fspath(path) if path is not None else os.environ.get(ENVIRONMENT_VARIABLE, "")
    named = bool(given)
    where = Path(given).expanduser() if named else default_config_path()
    try:
        data = where.read_bytes()
    except FileNotFoundError:
        if not named:
            return Config()
        origin = "" if path is not None else f" (named by {ENVIRONMENT_VARIABLE})"
        raise ConfigError(where, None, f"no such file{origin}") from None
    except OSError as exc:
        raise ConfigError(where, None, f"cannot be read: {exc.strerror or exc}") from None
    config = _parsed(where, data)
    config._source = where  # a private attribute, set once, here
    return config


def parse_config(data: bytes, source: str) -> Config:
    """A config file's content read from elsewhere (an S3 object, the environment).

    ``source`` names it in errors (``s3://bucket/key, line 3: ...``); a command check's
    ``cwd`` is relative to the current directory.

    Raises:
        ConfigError: not UTF-8, not TOML, or not what rootkeys expects.
    """
    return _parsed(source, data, Path.cwd())


def _parsed(where: Path | str, data: bytes, folder: Path | None = None) -> Config:
    import tomllib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(where, data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, detail = toml_error_line(str(exc), text)
        raise ConfigError(where, line, f"not valid TOML: {detail}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = key_lines(text)
        problems = sorted(
            ((line_of(lines, path_of(e["loc"])), e) for e in exc.errors()),
            key=lambda found: (found[1]["type"] != "extra_forbidden", found[0] or 0),
        )  # an unknown key first: a misspelt one also makes the right one "missing"
        line, error = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        place = shown(path_of(error["loc"]))
        detail = f"{place}: {message(error, Config)}" if place else message(error, Config)
        raise ConfigError(where, line, detail + more) from None
    folder = folder or Path(where).absolute().parent
    commands = [
        c.model_copy(update={"cwd": str(folder / Path(c.cwd or ".").expanduser())})
        for c in config.check_settings.command
    ]
    settings = config.check_settings.model_copy(update={"command": commands})
    return config.model_copy(update={"check_settings": settings})


rehome(globals())
