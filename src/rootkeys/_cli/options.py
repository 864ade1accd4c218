"""The options of the ``rootkeys`` parser: global ones that go anywhere, and shared ones.

Global options (``--profile``, ``--region``, ``--endpoint-url``, ``--output``, ...) may
come before or after the subcommand, as with the AWS CLI: each subcommand declares them
again with ``SUPPRESS`` as default, so a value given after the subcommand wins and one
given before is kept. Durations are parsed here (``7d``, ``1d12h``), and a negative one
(``--observe -1d``) is refused as a duration rather than mistaken for an option.
"""

from __future__ import annotations

import argparse
import re
import textwrap
from typing import TYPE_CHECKING, NoReturn

from rootkeys._clock import parse_duration
from rootkeys._errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import timedelta

__all__ = [
    "DURATION_OPTIONS",
    "EXIT_CODES",
    "FINDINGS_OUTPUT",
    "OUTPUTS",
    "Help",
    "Parser",
    "checks",
    "command",
    "credentials",
    "duration",
    "globals_",
    "ids",
    "joined_negatives",
    "members",
    "org",
    "windows",
]

OUTPUTS = ("table", "json", "csv")
FINDINGS_OUTPUT = "ocsf"
"""OCSF Detection Findings: only for commands whose results are findings (credentials)."""
DURATION_OPTIONS = ("--observe", "--check-interval", "--window")
EXIT_CODES = """\
exit codes:
  0  done, nothing to do, or observing with every check passing
  1  rolled back, on hold, blocked, or incomplete (or observing, with --fail-if-observing)
  2  usage or input error: nothing was changed
  3  AWS or permission error
  130  interrupted (Ctrl-C): nothing deleted by it; run the command again to go on
"""
_INPUT_AWS = """\
  2  usage or input error: nothing was changed
  3  AWS or permission error (with --org: an account failed)
"""
CODES = {
    "remove": EXIT_CODES,
    "verify": "exit codes:\n  0  no root credential of the kinds asked remains (with "
    "--reevaluate: and AWS Config agrees)\n  1  some remain (with --reevaluate: or Config "
    "does not say "
    "COMPLIANT,\n     has no such rule, or did not finish in --timeout)\n" + _INPUT_AWS,
    "rollback": "exit codes:\n  0  every step seen in IAM\n"
    "  1  a step not confirmed, or you answered no\n" + _INPUT_AWS,
    "resume": "exit codes:\n  0  done (the journal only)\n" + _INPUT_AWS,
    "journal": "exit codes:\n  0  done\n" + _INPUT_AWS,
    "recover-password": "exit codes:\n  0  done\n  1  you answered no: nothing changed\n"
    "  2  usage or input error: nothing was changed\n  3  AWS or permission error (an "
    "account failed; the others went on)\n",
    "org": "exit codes:\n  0  read (status), or enabled / already on (enable)\n"
    "  1  you answered no: nothing changed\n"
    "  2  usage or input error (enable with no terminal and no --yes): nothing changed\n"
    "  3  AWS or permission error (e.g. not the management account): nothing changed\n",
    "sandbox": "exit codes:\n  0  stopped (Ctrl-C or SIGTERM)\n  2  usage or input error\n",
    "demo": "exit codes:\n  0  the walk-through went as it should\n  1  it did not\n"
    "  2  usage or input error\n",
}
"""Each command's exit codes, as its help shows them (the reads: `READ_CODES`)."""
READ_CODES = "exit codes:\n  0  done (nothing was changed)\n" + _INPUT_AWS
_NEGATIVE = re.compile(r"-\d")


def duration(text: str) -> timedelta:
    """An argparse type: ``7d``, ``12h``, ``1d12h``, ``30m``, ``45s``, ``2w`` or ``0``.

    Raises:
        argparse.ArgumentTypeError: anything else, negative durations included.
    """
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"{text!r}: a duration cannot be negative")
    try:
        return parse_duration(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def joined_negatives(argv: Sequence[str]) -> list[str]:
    """``--observe -1d`` as ``--observe=-1d``, so the duration check explains the refusal."""
    joined: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        following = items[index + 1] if index + 1 < len(items) else ""
        if item in DURATION_OPTIONS and _NEGATIVE.match(following):
            joined.append(f"{item}={following}")
            index += 2
            continue
        joined.append(item)
        index += 1
    return joined


def ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class Parser(argparse.ArgumentParser):
    """A usage error is one line naming the help to read, not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line and exit 2."""
        self.exit(2, f"rootkeys: error: {message} (see `{self.prog} --help`)\n")


class Help(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions and examples as written; wraps option help at 100 columns."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=100)


def globals_(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--profile", default=default(None), help="AWS profile (default: AWS_PROFILE, then default)"
    )
    group.add_argument(
        "--region", default=default(None), help="AWS region (default: AWS_REGION as boto3 reads it)"
    )
    group.add_argument(
        "--endpoint-url",
        default=default(None),
        metavar="URL",
        help="send every AWS call here (default: AWS_ENDPOINT_URL; e.g. the sandbox server)",
    )
    group.add_argument(
        "--account-id",
        default=default(None),
        metavar="ID",
        help="one account's commands: the account you intend to change; credentials of "
        "another are refused (default: ROOTKEYS_ACCOUNT_ID)",
    )
    group.add_argument(
        "--journal",
        default=default(None),
        metavar="LOCATION",
        help="the journal: a file, or dynamodb://TABLE?region=REGION (default: "
        "ROOTKEYS_JOURNAL, the config file's journal, then the per-user journal file)",
    )
    group.add_argument(
        "--config",
        default=default(None),
        metavar="PATH",
        help="a TOML config file (default: ROOTKEYS_CONFIG, then ~/.config/rootkeys/config.toml)",
    )
    group.add_argument(
        "--output",
        choices=(*OUTPUTS, FINDINGS_OUTPUT),
        default=default(None),
        help="table, json or csv; ocsf for credentials (default: ROOTKEYS_OUTPUT, then table)",
    )
    group.add_argument(
        "--wide",
        action="store_true",
        default=default(False),
        help="tables in full, not fitted to 100 columns",
    )
    group.add_argument(
        "--quiet",
        action="store_true",
        default=default(False),
        help="print only the result: no plan, no progress",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="rootkeys' debug log (redacted) and the traceback of an error",
    )


def command(
    commands: argparse._SubParsersAction[Parser],
    name: str,
    summary: str,
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.dedent(description).strip(),
        epilog="examples:\n"
        + textwrap.indent(textwrap.dedent(examples).strip(), "  ")
        + "\n\n"
        + CODES.get(name, READ_CODES),
        formatter_class=Help,
    )
    globals_(parser, top=False)
    return parser


def windows(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--observe",
        type=duration,
        metavar="DURATION",
        help="one observation window for every key, e.g. 7d (default: the config file's)",
    )
    group.add_argument(
        "--policy",
        action="store_true",
        help="each key's window from its evidence (RemovalPolicy: 14d recent, 8d active, "
        "1d dormant, 1h never used)",
    )


def checks(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("checks run during the window (added to the config's)")
    group.add_argument(
        "--check-url",
        action="append",
        default=[],
        metavar="URL",
        help="an HTTP health URL that must answer 200 (repeatable)",
    )
    group.add_argument(
        "--alarm",
        action="append",
        default=[],
        metavar="NAME",
        help="a CloudWatch alarm that must not go into ALARM (repeatable)",
    )
    group.add_argument(
        "--alarm-prefix",
        action="append",
        default=[],
        metavar="PREFIX",
        help="every CloudWatch alarm whose name starts with PREFIX (repeatable)",
    )
    group.add_argument(
        "--check-command",
        action="append",
        default=[],
        metavar="COMMAND",
        help="a program to run (no shell); exit 0 means healthy (repeatable)",
    )
    group.add_argument(
        "--check-interval",
        type=duration,
        metavar="DURATION",
        help="time between rounds of checks, e.g. 10m (default: a tenth of the window, at most 1h)",
    )


def credentials(parser: argparse.ArgumentParser) -> None:
    """``--credentials keys,certificates``, ``--password``, ``--mfa``: the kinds covered."""
    parser.add_argument(
        "--credentials",
        type=ids,
        metavar="KINDS",
        help="keys, certificates or both, comma-separated (default: both)",
    )
    parser.add_argument(
        "--password",
        action="store_true",
        help="with --org: the member accounts' root passwords too",
    )
    parser.add_argument(
        "--mfa",
        action="store_true",
        help="with --org: their root MFA devices too (removed only with --password)",
    )


def org(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--org", action="store_true", help=what)


def members(parser: argparse.ArgumentParser, *, ou: bool = True) -> None:
    parser.add_argument(
        "--accounts", type=ids, metavar="IDS", help="member account ids, comma-separated"
    )
    if ou:
        parser.add_argument(
            "--ou", metavar="OU", help="an organizational unit (and every OU under it)"
        )
        parser.add_argument(
            "--workers", type=int, default=16, help="accounts worked on at once (default: 16)"
        )
    else:
        parser.set_defaults(ou=None, workers=16)
