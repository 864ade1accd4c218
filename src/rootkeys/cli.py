"""The ``rootkeys`` command: a thin layer over the public API.

Subcommands: ``plan``, ``remove``, ``status``, ``history``, ``resume``, ``rollback`` (one
account, or with ``--org`` the member accounts of an organization), ``audit`` (an
organization) and ``demo`` (the sandbox walk-through). Standard library only (argparse),
and never imported by ``import rootkeys``.

Exit codes: 0 done or nothing to do; 1 rolled back, blocked, still observing or
incomplete; 2 a usage or input error (nothing was changed); 3 an AWS or permission error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import rootkeys
from rootkeys._errors import (
    InputError,
    JournalError,
    JournalLockedError,
    RootKeysError,
)
from rootkeys._models import validate_account_id
from rootkeys._render import Table, Tabular

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    import boto3

__all__ = [
    "EXIT_AWS",
    "EXIT_DONE",
    "EXIT_NOT_DONE",
    "EXIT_USAGE",
    "exit_code",
    "main",
    "main_exit",
    "parse_duration",
]

EXIT_DONE = 0
EXIT_NOT_DONE = 1
EXIT_USAGE = 2
EXIT_AWS = 3
JSON_SCHEMA_VERSION = 1

T = TypeVar("T")


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``1d12h``, ``30m``, ``45s``, ``2w`` or ``0`` as a `timedelta`.

    Raises:
        argparse.ArgumentTypeError: anything else (negative durations included).
    """
    from rootkeys._clock import parse_duration as parse

    try:
        return parse(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# -- the parser ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="the AWS CLI profile to use (default: environment)")
    common.add_argument("--region", help="the region for STS, EC2 and CloudTrail calls")
    common.add_argument("--journal", help="the journal file (default: the per-user journal)")
    common.add_argument(
        "--output", choices=("table", "json"), default="table", help="table (default) or json"
    )
    common.add_argument("--quiet", action="store_true", help="no progress on stderr")
    common.add_argument("--debug", action="store_true", help="debug logs and tracebacks")

    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("--account-id", help="the account you intend to change (others are refused)")

    parser = argparse.ArgumentParser(
        prog="rootkeys",
        description="Remove AWS root user access keys safely: make unusable, observe, delete.",
        epilog="Exit codes: 0 done or nothing to do; 1 rolled back, blocked, observing or "
        "incomplete; 2 usage or input error; 3 AWS or permission error.",
    )
    parser.add_argument("--version", action="version", version=rootkeys.__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser(
        "plan", parents=[common, one], help="what remove would do, key by key (no change)"
    )
    _windows(plan, required=False)
    plan.add_argument("--no-evidence", action="store_true", help="skip CloudTrail evidence")
    plan.add_argument("--regions", type=_ids, help="regions for CloudTrail (comma-separated)")
    _org(plan, "every member account's plan (AssumeRoot; no evidence)")
    _members(plan)

    remove = commands.add_parser(
        "remove", parents=[common, one], help="make unusable, observe, then delete"
    )
    _windows(remove, required=True)
    remove.add_argument(
        "--check-interval", type=parse_duration, help="time between check runs (e.g. 10m)"
    )
    remove.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="block until every window has passed (--no-wait: one staged pass)",
    )
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _org(remove, "every member account (AssumeRoot)")
    _members(remove)
    remove.add_argument(
        "--keep-quarantine", action="store_true", help="with --org: keep the SCP as a guardrail"
    )

    status = commands.add_parser(
        "status", parents=[common, one], help="where each key stands (no change)"
    )
    status.add_argument(
        "--observe",
        type=parse_duration,
        help="the window a run would give keys whose window is not set yet (e.g. 7d)",
    )
    _org(status, "every member account (AssumeRoot)")
    _members(status)

    history = commands.add_parser(
        "history", parents=[common, one], help="a key's journal records (no change)"
    )
    history.add_argument("key_id", metavar="KEY_ID", help="the access key id")

    resume = commands.add_parser(
        "resume",
        parents=[common, one],
        help="lift the hold on keys a rollback left usable (journal only, no AWS change)",
    )
    resume.add_argument("key_id", metavar="KEY_ID", nargs="?", help="one key (default: all)")
    _org(resume, "member accounts (--accounts): lift every hold in each")
    _chosen_members(resume)

    rollback = commands.add_parser(
        "rollback",
        parents=[common, one],
        help="make usable again what a removal made unusable, and hold it (changes AWS)",
    )
    rollback.add_argument("key_id", metavar="KEY_ID", nargs="?", help="one key (default: all)")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _org(rollback, "member accounts (--accounts): detach the quarantine SCP from each")
    _chosen_members(rollback)

    audit = commands.add_parser(
        "audit", parents=[common], help="every member account's root keys (organization)"
    )
    _members(audit)

    demo = commands.add_parser("demo", help="the walk-through on the built-in sandbox")
    demo.add_argument("--window", type=parse_duration, default=timedelta(seconds=3))
    return parser


def _windows(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(
        "--observe", type=parse_duration, help="one observation window for every key (e.g. 7d)"
    )
    group.add_argument(
        "--policy",
        action="store_true",
        help="each key's window from its evidence (rootkeys.RemovalPolicy defaults)",
    )


def _org(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--org", action="store_true", help=what)


def _members(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=_ids, help="member account ids (comma-separated)")
    parser.add_argument("--ou", help="an organizational unit id (and every OU under it)")
    parser.add_argument("--workers", type=int, default=16, help="accounts worked on at once")


def _chosen_members(parser: argparse.ArgumentParser) -> None:
    """Commands that act on accounts named one by one (no --ou: a person picks each)."""
    parser.add_argument("--accounts", type=_ids, help="member account ids (comma-separated)")
    parser.set_defaults(ou=None, workers=16)


# -- running ---------------------------------------------------------------------------------


class Progress:
    """A hook that tells the terminal how a run goes: steps, checks, time left."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._until: datetime | None = None
        self._checks = 0
        self._deleted = 0
        self._last_tick: datetime | None = None

    def __call__(self, event: rootkeys.Event) -> None:
        """Print the events a person watching wants to see (on stderr)."""
        kind = rootkeys.EventKind
        if event.kind is kind.OBSERVING:
            self._until = event.until
        if event.kind is kind.CHECK_PASSED:
            self._checks += 1
            if self._last_tick == event.at:
                return  # one line per tick of the window, not per check
            self._last_tick = event.at
            left = (self._until - event.at) if self._until else None
            when = f"; {_human(left)} left in the window" if left and left > timedelta(0) else ""
            self._say(event, f"checks passing ({self._checks} run){when}")
            return
        if event.kind is kind.DELETED:
            self._deleted += 1
        if event.kind in (kind.RECONCILED, kind.KEY_FOUND) and not event.message:
            return
        text = f"{event.kind.value}{' ' + event.key_id if event.key_id else ''}"
        self._say(event, f"{text}: {event.message}" if event.message else text)

    def _say(self, event: rootkeys.Event, text: str) -> None:
        where = f"{event.account_id} " if event.account_id else ""
        print(f"[{event.at:%H:%M:%S}] {where}{text}", file=self._out, flush=True)


def _human(left: timedelta) -> str:
    seconds = int(left.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    return "".join(parts) if days or hours else f"{minutes}m{seconds:02d}s"


def _session(args: argparse.Namespace) -> boto3.Session:
    import boto3
    import botocore.exceptions

    try:
        return boto3.Session(profile_name=args.profile, region_name=args.region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise InputError(f"no AWS profile named {args.profile!r} is configured") from exc


def _journal(args: argparse.Namespace) -> rootkeys.Journal:
    return rootkeys.Journal(args.journal) if args.journal else rootkeys.Journal()


def _hooks(args: argparse.Namespace, err: TextIO) -> list[rootkeys.Hook]:
    return [] if args.quiet else [Progress(err)]


def _manager(args: argparse.Namespace, err: TextIO) -> rootkeys.RootKeyManager:
    return rootkeys.RootKeyManager(
        _session(args),
        account_id=args.account_id,
        hooks=_hooks(args, err),
        journal=_journal(args),
    )


def _organization(args: argparse.Namespace, err: TextIO) -> rootkeys.Organization:
    return rootkeys.Organization(
        _session(args),
        workers=args.workers,
        region=args.region,
        hooks=_hooks(args, err),
        journal=_journal(args),
    )


def _window(args: argparse.Namespace) -> timedelta | rootkeys.RemovalPolicy | None:
    return rootkeys.RemovalPolicy() if getattr(args, "policy", False) else args.observe


def _emit(args: argparse.Namespace, out: TextIO, result: Any, table: str | None = None) -> None:
    """Print a result: its table (or ``table``), or one JSON document (see docs/cli.md)."""
    if args.output == "json":
        document = {
            "command": args.command,
            "schema_version": JSON_SCHEMA_VERSION,
            "result": _jsonable(result),
        }
        print(json.dumps(document, indent=2, sort_keys=True), file=out)
        return
    if table is not None:
        print(table, file=out)
        return
    items = result if isinstance(result, list) else [result]
    for item in items:
        print(item.table(), file=out)


def _emit_each(args: argparse.Namespace, out: TextIO, results: Iterable[Tabular]) -> None:
    """Print results that stream (one per account): each table as it comes, or one list."""
    if args.output == "json":
        _emit(args, out, list(results))
        return
    for result in results:
        print(result.table(), file=out, flush=True)


def _jsonable(result: Any) -> Any:
    if isinstance(result, list):
        return [_jsonable(item) for item in result]
    return result if isinstance(result, dict) else result.model_dump(mode="json")


def _confirm(args: argparse.Namespace, err: TextIO, what: str) -> bool:
    """Ask before a change; ``--yes`` answers for automation."""
    if args.yes:
        return True
    print(f"{what} Proceed? [y/N] ", end="", file=err, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


_CHANGES_AWS = ("remove", "rollback")


def _must_be_able_to_ask(args: argparse.Namespace) -> None:
    if args.command in _CHANGES_AWS and not args.yes and not sys.stdin.isatty():
        raise InputError(
            "refusing to change anything without confirmation: no terminal to ask on "
            "(pass --yes to confirm in automation)"
        )


def _check_scope(args: argparse.Namespace) -> None:
    """One account or an organization: refuse options of the other before any AWS call."""
    if not hasattr(args, "org"):
        return
    if not args.org:
        given = [
            flag
            for flag, value in (
                ("--accounts", args.accounts),
                ("--ou", args.ou),
                ("--keep-quarantine", getattr(args, "keep_quarantine", False)),
            )
            if value
        ]
        if given:
            raise InputError(f"these options need --org: {', '.join(given)}")
        return
    if args.account_id:
        raise InputError(
            "--account-id is for one account: with --org, choose members with --accounts"
        )
    if getattr(args, "key_id", None):
        raise InputError(
            f"KEY_ID is for one account: {args.command} --org acts on every key of each "
            "account in --accounts"
        )
    if args.command in ("resume", "rollback"):
        if not args.accounts:
            raise InputError(f"{args.command} --org needs --accounts: the member accounts")
        for account_id in args.accounts:
            validate_account_id(account_id)
    if getattr(args, "regions", None):
        raise InputError("--regions is for one account's evidence: plan --org gathers none")


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "demo":
        return _demo(args, out)
    _must_be_able_to_ask(args)
    _check_scope(args)
    _check_inputs(args)
    if args.command == "audit":
        _emit_each(args, out, _organization(args, err).audit(args.accounts, ou=args.ou))
        return EXIT_DONE
    if getattr(args, "org", False):
        return _run_org(args, out, err)
    manager = _manager(args, err)
    if args.command == "plan":
        plan = manager.plan(_window(args), evidence=not args.no_evidence, regions=args.regions)
        _emit(args, out, plan)
        return EXIT_DONE
    if args.command == "status":
        _emit(args, out, manager.status(observe_for=args.observe))
        return EXIT_DONE
    if args.command == "history":
        _emit(args, out, manager.history(args.key_id))
        return EXIT_DONE
    if args.command == "resume":
        key_ids = manager.resume(args.key_id)
        resumed = [_resumed(manager.account_id, key_ids)]
        _emit(args, out, resumed, _resumed_text(resumed, "rootkeys remove"))
        return EXIT_DONE
    if args.command == "rollback":
        return _rollback_one(args, manager, out, err)
    return _remove_one(args, manager, out, err)


def _check_inputs(args: argparse.Namespace) -> None:
    """Refuse bad ids, windows and regions before any credential is loaded or AWS called."""
    from rootkeys._engine import Settings
    from rootkeys._evidence import validate_regions
    from rootkeys._models import validate_account_id, validate_key_id

    if getattr(args, "key_id", None) is not None:
        validate_key_id(args.key_id)
    if getattr(args, "account_id", None) is not None:
        validate_account_id(args.account_id)
    for account_id in getattr(args, "accounts", None) or ():
        validate_account_id(account_id)
    window = _window(args) if hasattr(args, "policy") else getattr(args, "observe", None)
    if window is not None:
        Settings.of(window, getattr(args, "check_interval", None))
    if getattr(args, "regions", None) is not None:
        validate_regions(args.regions)


def _run_org(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    organization = _organization(args, err)
    if args.command == "plan":
        plans = organization.plan(_window(args), account_ids=args.accounts, ou=args.ou)
        _emit_each(args, out, plans)
        return EXIT_DONE
    if args.command == "status":
        statuses = organization.status(args.observe, account_ids=args.accounts, ou=args.ou)
        _emit_each(args, out, statuses)
        return EXIT_DONE
    if args.command == "resume":
        resumed, code = _each(args.accounts, organization.resume, err)
        entries = [_resumed(a, keys) for a, keys in resumed]
        _emit(args, out, entries, _resumed_text(entries, "rootkeys remove --org"))
        return code
    if args.command == "rollback":
        return _rollback_org(args, organization, out, err)
    return _remove_org(args, organization, out, err)


def _each(
    account_ids: Sequence[str], act: Callable[[str], T], err: TextIO
) -> tuple[list[tuple[str, T]], int]:
    """``act`` on each account in turn; an account's error is told and the others go on.

    Returns what worked, and the exit code: 3 if any account failed, else 0.
    """
    done: list[tuple[str, T]] = []
    code = EXIT_DONE
    for account_id in account_ids:
        try:
            done.append((account_id, act(account_id)))
        except RootKeysError as exc:
            print(f"rootkeys: error: account {account_id}: {exc}", file=err)
            code = EXIT_AWS
    return done, code


def _resumed(account_id: str, key_ids: Sequence[str]) -> dict[str, Any]:
    return {"account_id": account_id, "resumed": list(key_ids)}


def _resumed_text(entries: Sequence[dict[str, Any]], remove: str) -> str:
    lines = []
    for entry in entries:
        if entry["resumed"]:
            lines.append(
                f"account {entry['account_id']}: resumed {', '.join(entry['resumed'])}; "
                f"the next `{remove}` starts each over: made unusable, a whole new window"
            )
        else:
            lines.append(f"account {entry['account_id']}: nothing was on hold")
    return "\n".join(lines)


def _held_note(args: argparse.Namespace) -> str:
    """What to repeat on the resume command a plan prints, if this one was not the default."""
    same = [
        flag
        for flag, value in (
            ("--profile", args.profile),
            ("--journal", args.journal),
            ("--account-id", getattr(args, "account_id", None)),
        )
        if value
    ]
    return f"(with the same {', '.join(same)} as this command)" if same else ""


def _steps_table(results: Sequence[rootkeys.StepResult], resume: str) -> str:
    rows = [
        (
            r.account_id,
            r.key_id,
            r.action.value,
            r.from_state.value,
            r.to_state.value,
            r.step.status.value if r.step.status else "in flight",
        )
        for r in results
    ]
    after = [f"held: no run makes these keys unusable again until `{resume}`"] if rows else []
    return Table(
        "Rollback",
        ("account", "key", "action", "was", "now", "step"),
        rows,
        after=after,
        empty="nothing to roll back: no key rootkeys made unusable is left",
    ).text()


def _rolled_back(results: Sequence[rootkeys.StepResult]) -> int:
    return EXIT_DONE if all(r.verified for r in results) else EXIT_NOT_DONE


def _rollback_one(
    args: argparse.Namespace, manager: rootkeys.RootKeyManager, out: TextIO, err: TextIO
) -> int:
    print(manager.status().table(), file=err)
    which = args.key_id or "every root key"
    asking = (
        f"Roll back: make {which} that rootkeys made unusable Active again, and hold it "
        "until `rootkeys resume`?"
    )
    if not _confirm(args, err, asking):
        print("nothing changed", file=err)
        return EXIT_NOT_DONE
    results = list(manager.rollback(args.key_id))
    _emit(args, out, results, _steps_table(results, "rootkeys resume"))
    return _rolled_back(results)


def _rollback_org(
    args: argparse.Namespace, organization: rootkeys.Organization, out: TextIO, err: TextIO
) -> int:
    for status in organization.status(account_ids=args.accounts):
        print(status.table(), file=err)
    asking = (
        f"Roll back {len(args.accounts)} member account(s): detach the quarantine SCP, and "
        "hold their keys until `rootkeys resume --org`?"
    )
    if not _confirm(args, err, asking):
        print("nothing changed", file=err)
        return EXIT_NOT_DONE
    done, code = _each(args.accounts, organization.rollback, err)
    results = [result for _, steps in done for result in steps]
    held = ",".join(dict.fromkeys(r.account_id for r in results))
    _emit(args, out, results, _steps_table(results, f"rootkeys resume --org --accounts {held}"))
    return max(code, _rolled_back(results))


def _remove_one(
    args: argparse.Namespace, manager: rootkeys.RootKeyManager, out: TextIO, err: TextIO
) -> int:
    window = _window(args)
    assert window is not None  # the parser requires --observe or --policy
    plan = manager.plan(window, evidence=args.policy)
    print(plan.table(), file=err)
    waiting = plan.waiting
    moving = [k for k in plan.keys if k.next.removes or k.next is rootkeys.Next.ROLL_BACK]
    if waiting and not moving:
        print(
            f"nothing rootkeys may remove now: {len(waiting)} root key(s) wait for a person",
            file=err,
        )
        for key in waiting:
            print(f"  {key.key_id} ({key.next.value}): {key.reason}", file=err)
            if key.resume:
                print(f"    to resume: {key.resume}", file=err)
        if note := _held_note(args):
            print(f"  {note}", file=err)
        return EXIT_NOT_DONE
    asking = f"Remove {len(plan.removable)} root key(s)?"
    if waiting:
        asking += f" ({len(waiting)} on hold or blocked stay as they are: see the plan.)"
    if plan.removable and not _confirm(args, err, asking):
        print("nothing changed", file=err)
        return EXIT_NOT_DONE
    report = manager.remove_all(window, args.check_interval, wait=args.wait)
    _emit(args, out, report)
    done = (rootkeys.RunOutcome.DONE, rootkeys.RunOutcome.NOTHING_TO_DO)
    return EXIT_DONE if report.outcome in done else EXIT_NOT_DONE


def _remove_org(
    args: argparse.Namespace, organization: rootkeys.Organization, out: TextIO, err: TextIO
) -> int:
    window = _window(args)
    assert window is not None
    audits = list(organization.audit(args.accounts, ou=args.ou))
    with_keys = [a for a in audits if a.keys]
    for audit in audits:
        print(audit.table(), file=err)
    if not _confirm(
        args,
        err,
        f"Remove the root keys of {len(with_keys)} member account(s) "
        "(Active keys quarantined by SCP first)?",
    ):
        print("nothing changed", file=err)
        return EXIT_NOT_DONE
    report = organization.remove_all(
        window,
        args.check_interval,
        wait=args.wait,
        account_ids=args.accounts,
        ou=args.ou,
        keep_quarantine=args.keep_quarantine,
    )
    _emit(args, out, report)
    outcomes = set(report.counts)
    if rootkeys.AccountOutcome.FAILED in outcomes:
        return EXIT_AWS
    fine = {
        rootkeys.AccountOutcome.DONE,
        rootkeys.AccountOutcome.NOTHING_TO_DO,
        rootkeys.AccountOutcome.OUT_OF_REACH,
        rootkeys.AccountOutcome.SKIPPED,
    }
    return EXIT_DONE if outcomes <= fine else EXIT_NOT_DONE


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from rootkeys.testing import demo
    except ImportError as exc:
        raise InputError(
            f"the demo needs the sandbox's extra: pip install 'rootkeys[sandbox]' ({exc})"
        ) from exc
    return EXIT_DONE if demo.main(out, window=args.window) == 0 else EXIT_NOT_DONE


def exit_code(error: BaseException) -> int:
    """The exit code for an error: 2 for input (nothing changed), 1 locked, 3 the rest."""
    if isinstance(error, JournalLockedError):
        return EXIT_NOT_DONE
    if isinstance(error, InputError | JournalError):
        return EXIT_USAGE
    return EXIT_AWS


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return its exit code (``rootkeys`` and ``python -m rootkeys``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    try:
        with contextlib.redirect_stderr(err):  # usage errors go where errors go
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    debug = _debug_logs(err) if args.command != "demo" and args.debug else None
    started = datetime.now(UTC)
    try:
        return _run(args, out, err)
    except RootKeysError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"rootkeys: error: {exc}", file=err)
        return exit_code(exc)
    except KeyboardInterrupt:
        print(f"rootkeys: interrupted after {_human(datetime.now(UTC) - started)}", file=err)
        return 130
    finally:
        if debug is not None:
            logging.getLogger("rootkeys").removeHandler(debug)


class _Redacted(logging.Filter):
    """Removes anything shaped like a secret from a log line before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        from rootkeys._retry import redact

        record.msg, record.args = redact(record.getMessage()), None
        return True


def _debug_logs(err: TextIO) -> logging.Handler:
    """``--debug``: rootkeys' own debug log on stderr, redacted.

    Only the ``rootkeys`` logger: botocore's debug log prints every request's headers,
    the root session token among them (a secret in the logs, against promise 5).
    """
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redacted())
    logger = logging.getLogger("rootkeys")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return handler


def main_exit() -> None:
    """The console script: run `main` and exit with its code."""
    raise SystemExit(main())
