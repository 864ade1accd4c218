"""What a command works with: its options, and what is built from them when needed.

Options are resolved against the environment; the session, journal, config and
progress are built from them, each only when a command needs it.

Precedence, as with the AWS CLI: a flag, then an environment variable, then the config
file, then the default. ``AWS_*`` variables are boto3's own (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL``, credentials); rootkeys reads ``ROOTKEYS_JOURNAL``,
``ROOTKEYS_CONFIG``, ``ROOTKEYS_OUTPUT`` and ``ROOTKEYS_ACCOUNT_ID``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import rootkeys
from rootkeys._cli.options import FINDINGS_OUTPUT, OUTPUTS
from rootkeys._errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import timedelta
    from typing import Literal

    import boto3  # noqa: TC004 (a field annotation, never evaluated)

    from rootkeys._config import Config  # noqa: TC004 (a field annotation, never evaluated)

__all__ = ["ENVIRONMENT", "Context", "Forward", "command_only"]

ENVIRONMENT = {
    "ROOTKEYS_JOURNAL": "journal",
    "ROOTKEYS_CONFIG": "config",
    "ROOTKEYS_OUTPUT": "output",
    "ROOTKEYS_ACCOUNT_ID": "account_id",
}
"""rootkeys' own environment variables, and the option each stands for."""
_PYTHON_CALL = re.compile(r", or \w+\.resume\('[^']*'\)")
"""The Python call a library resume hint offers after its command."""


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> argparse.Namespace:
    """Fill options not given as flags from ``ROOTKEYS_*``; refuse a bad value by name."""
    args.from_environment = set()
    for variable, option in ENVIRONMENT.items():
        value = environ.get(variable, "").strip()
        if value and hasattr(args, option) and getattr(args, option) is None:
            setattr(args, option, value)
            args.from_environment.add(option)
    if args.output is None:
        args.output = "table"
    elif args.output not in (*OUTPUTS, FINDINGS_OUTPUT):
        raise InputError(
            f"ROOTKEYS_OUTPUT={args.output!r} is not an output: use {', '.join(OUTPUTS)}"
        )
    return args


def command_only(text: str) -> str:
    """``text`` with each resume hint's Python call left out: the command alone."""
    return _PYTHON_CALL.sub("", text)


class Forward:
    """The one hook a command's manager or organization is built with.

    It passes each event on to the progress display while one is shown, and drops it
    otherwise: the plan shown before the question and the run after it use the same
    manager, and only the run's events are shown. The display names the command that
    resumes a key, not the Python call the library's hint adds.
    """

    def __init__(self) -> None:
        self.target: rootkeys.Hook | None = None

    def __call__(self, event: rootkeys.Event) -> None:
        """Show ``event`` on the progress display, if one is shown."""
        if self.target is None:
            return
        message = command_only(event.message)
        self.target(
            event if message == event.message else dataclasses.replace(event, message=message)
        )


@dataclass
class Context:
    """One command's options, streams, and what it builds from them (lazily)."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO
    _session: boto3.Session | None = field(default=None, repr=False)
    _progress: Forward = field(default_factory=Forward, repr=False)
    _checks: list[rootkeys.Check] | None = field(default=None, repr=False)
    _config: Config | None = field(default=None, repr=False)

    @property
    def command(self) -> str:
        """The subcommand's name."""
        return str(self.args.command)

    def option(self, name: str, default: Any = None) -> Any:
        """An option's value, or ``default`` when the command has no such option."""
        return getattr(self.args, name, default)

    def say(self, text: str) -> None:
        """Tell the person (stderr), unless ``--quiet``."""
        if not self.args.quiet:
            print(text, file=self.err, flush=True)

    def session(self) -> boto3.Session:
        """The boto3 session: ``--profile``, ``--region`` and ``--endpoint-url`` applied."""
        if self._session is None:
            self._session = _session(self.args)
        return self._session

    def journal(self) -> rootkeys.Journal:
        """The journal: ``--journal`` or ``ROOTKEYS_JOURNAL``, the config's, the per-user one.

        Each a path or a ``dynamodb://`` location.
        """
        chosen = self.args.journal or self.config_journal()
        if chosen:
            return rootkeys.Journal.open(chosen)
        from rootkeys._journal import open_journal

        return open_journal(None)  # ROOTKEYS_JOURNAL (a path or a location), the per-user one

    @contextlib.contextmanager
    def progress(self) -> Iterator[None]:
        """Show progress on stderr while the block runs (a live view on a terminal)."""
        if self.args.quiet:
            yield
            return
        from rootkeys._terminal import TerminalProgress

        with TerminalProgress(self.err, live=self.err.isatty()) as progress:
            self._progress.target = progress
            try:
                yield
            finally:
                self._progress.target = None

    def manager(self, *, journal: bool = True) -> rootkeys.RootKeyManager:
        """A manager for the signed-in account (``--account-id`` checked against it).

        Its events reach the progress display while `progress` shows one, and a
        removal's outcome the config file's notifiers (`notifications`). Without
        ``journal``, it opens none (the commands that only read AWS).
        """
        return rootkeys.RootKeyManager(
            self.session(),
            account_id=self.option("account_id"),
            hooks=[self._progress, *self.notifications()],
            journal=self._journal(journal),
            checks=self.checks(),
        )

    def organization(self, *, journal: bool = True) -> rootkeys.Organization:
        """The organization the signed-in management account runs (as `manager`).

        A removal tells the config file's notifiers each account's outcome too
        (`notifications`).
        """
        return rootkeys.Organization(
            self.session(),
            workers=self.option("workers", 16),
            region=self.args.region,
            hooks=[self._progress, *self.notifications()],
            journal=self._journal(journal),
            checks=self.checks(),
        )

    def notifications(self) -> list[rootkeys.Hook]:
        """The config file's notifiers, for a removal (none for the other commands)."""
        if self.command != "remove":
            return []
        return self.config().notifications(self.session())

    def _journal(self, wanted: bool) -> rootkeys.Journal | Literal[False]:
        return self.journal() if wanted else False

    def config_journal(self) -> str | None:
        """The config file's ``journal``.

        A command that uses the file reads it whole (a bad file is an error); the others
        (rollback, resume...) read only that key, so a broken file never stands in the way
        of a rollback, nor sends it to another journal than the runs used.
        """
        if self.command in ("plan", "status", "remove"):
            return self.config().journal
        import tomllib

        from rootkeys._config import ENVIRONMENT_VARIABLE, default_config_path

        named = self.args.config or os.environ.get(ENVIRONMENT_VARIABLE)
        path = Path(named).expanduser() if named else default_config_path()
        try:
            found = tomllib.loads(path.read_text(encoding="utf-8")).get("journal")
        except (OSError, ValueError):
            return None
        return found if isinstance(found, str) and found.strip() else None

    def config(self) -> Config:
        """The config file, with what the flags add to it or replace.

        ``--config``, else ``ROOTKEYS_CONFIG``, else the default file; loaded once,
        before any credential is needed.
        """
        if self._config is None:
            from rootkeys._config import load_config

            args = self.args
            self._config = load_config(args.config).extended(
                http=self.option("check_url", ()),
                alarms=self.option("alarm", ()),
                alarm_prefixes=self.option("alarm_prefix", ()),
                commands=self.option("check_command", ()),
                observe=self.option("observe"),
                policy=bool(self.option("policy", False)),
                check_interval=self.option("check_interval"),
            )
        return self._config

    def window(self) -> timedelta | rootkeys.RemovalPolicy | None:
        """The window a run gives keys: the flags', else the config file's (None: none)."""
        return self.config().observe_for()

    def removal_window(self) -> timedelta | rootkeys.RemovalPolicy:
        """The window a removal gives keys; `InputError` when neither flag nor file sets one."""
        chosen = self.window()
        if chosen is None:
            raise InputError(
                "remove needs a window: --observe DURATION (e.g. 7d), --policy, or `observe` "
                "in the config file"
            )
        return chosen

    def check_interval(self) -> timedelta | None:
        """The time between rounds of checks: the flag's, else the config file's."""
        return self.config().check_interval

    def checks(self) -> list[rootkeys.Check]:
        """The config file's checks and the flags', built once (none for the reads)."""
        if self._checks is None:
            wanted = self.command == "remove"
            self._checks = (
                self.config().checks(self.session(), region=self.args.region) if wanted else []
            )
        return self._checks


def _session(args: argparse.Namespace) -> boto3.Session:
    import boto3
    import botocore.exceptions
    import botocore.session

    core = botocore.session.get_session()
    if args.endpoint_url:
        core.get_component("config_store").set_config_variable("endpoint_url", args.endpoint_url)
    try:
        return boto3.Session(
            botocore_session=core, profile_name=args.profile, region_name=args.region
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise InputError(f"no AWS profile named {args.profile!r} is configured") from exc
