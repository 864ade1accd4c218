"""``rootkeys journal``: make a shared journal, export the record, copy one into another.

A journal is where every intended change and its outcome are recorded: a SQLite file
(the default) or a DynamoDB table (``dynamodb://TABLE?region=REGION``). These commands
reach only the journal, never an account's credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import rootkeys
from rootkeys._cli.options import command, globals_
from rootkeys._errors import InputError

if TYPE_CHECKING:
    import argparse

    from rootkeys._cli.context import Context
    from rootkeys._cli.options import Parser

__all__ = ["add_journal", "run_journal"]

_LOCATION = "a file path, or dynamodb://TABLE?region=REGION (&profile=PROFILE)"


def add_journal(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add the ``journal`` command (create, export, copy) to the parser."""
    parser = command(
        commands,
        "journal",
        "make a shared journal, export it, or copy one into another",
        """
        create: make the journal at LOCATION (a DynamoDB table: pay per request,
        point-in-time recovery; nothing if it exists). export: write every record as
        JSON Lines, account by account (an auditor's artefact). copy: copy every record
        of SOURCE into DESTINATION, each account under its lock, read back and compared.
        LOCATION: a file path, or dynamodb://TABLE?region=REGION (&profile=PROFILE); a
        DynamoDB journal is reached with the location's profile, else the environment's
        credentials (not --profile: that signs in to an account).
        """,
        """
        rootkeys journal create dynamodb://rootkeys-journal?region=us-east-1
        rootkeys journal export --journal dynamodb://rootkeys-journal > journal.jsonl
        rootkeys journal copy ~/.local/state/rootkeys/journal.sqlite3 dynamodb://rootkeys-journal
        """,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make the journal (a DynamoDB table)")
    create.add_argument("location", metavar="LOCATION", help=_LOCATION)
    export = actions.add_parser("export", help="write every record as JSON Lines")
    export.add_argument(
        "location",
        nargs="?",
        metavar="LOCATION",
        help="the journal (default: --journal, ROOTKEYS_JOURNAL, the per-user journal)",
    )
    export.add_argument("--to", metavar="FILE", help="write here instead of to stdout")
    copy = actions.add_parser("copy", help="copy every record into another journal")
    copy.add_argument("source", metavar="SOURCE", help=_LOCATION)
    copy.add_argument("destination", metavar="DESTINATION", help=_LOCATION)
    for action in (create, export, copy):
        globals_(action, top=False)  # --journal, --quiet... after the action too


def _existing(location: str) -> rootkeys.Journal:
    """A journal to read: a file must exist (a mistyped path is not a new, empty one)."""
    if not location.startswith("dynamodb://") and not Path(location).expanduser().is_file():
        raise InputError(f"no journal at {location}: no such file")
    return rootkeys.Journal.open(Path(location).expanduser() if "://" not in location else location)


def _target(name: str) -> Path:
    """Where an export goes: a new file (never over one: the journal itself, by a slip)."""
    target = Path(name).expanduser()
    if target.exists():
        raise InputError(f"{target} exists: export to a new file (never written over)")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {target}: no such directory")
    return target


def _export_to(journal: rootkeys.Journal, target: Path) -> int:
    """Write the export to ``target`` whole, or not at all; how many lines."""
    partial = target.with_name(target.name + ".partial")
    lines = 0
    try:
        with open(partial, "x", encoding="utf-8") as out:
            for line in journal.export():
                out.write(line + "\n")
                lines += 1
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc}") from exc
    return lines


def run_journal(context: Context) -> int:
    """Run ``rootkeys journal ACTION``; its exit code."""
    args = context.args
    if args.action == "create":
        journal = rootkeys.Journal.open(args.location, create=True)
        context.say(f"Journal ready: {journal.location} (schema {journal.schema_version})")
        journal.close()
        return 0
    if args.action == "export":
        target = _target(args.to) if args.to else None  # before any AWS call
        chosen = args.location or args.journal or context.config_journal()
        from rootkeys._journal import default_journal_path

        journal = _existing(chosen or str(default_journal_path()))
        lines = 0
        try:
            if target is None:
                for line in journal.export():
                    context.out.write(line + "\n")
                    lines += 1
            else:
                lines = _export_to(journal, target)
        finally:
            journal.close()
        context.say(f"Exported {lines} record(s) from {journal.location}")
        return 0
    if str(args.source) == str(args.destination):
        raise InputError("journal copy: SOURCE and DESTINATION are the same journal")
    source = _existing(args.source)
    destination = rootkeys.Journal.open(args.destination)
    try:
        copied = source.copy_to(destination)
        accounts = len(source.accounts())
    finally:
        source.close()
        destination.close()
    context.say(
        f"Copied {copied} record(s) of {accounts} account(s) from {source.location} "
        f"to {destination.location}, each read back in order"
    )
    return 0
