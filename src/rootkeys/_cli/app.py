"""``main``: parse, check every input before any credential is loaded, run, exit code."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from rootkeys._cli.context import Context, resolve
from rootkeys._cli.credentials import run_credentials
from rootkeys._cli.one import EXIT_AWS, EXIT_DONE, EXIT_NOT_DONE, EXIT_USAGE, run_one
from rootkeys._cli.options import FINDINGS_OUTPUT, joined_negatives
from rootkeys._cli.org import run_org
from rootkeys._cli.output import must_be_able_to_ask
from rootkeys._cli.parser import parser
from rootkeys._cli.recovery import run_recover_password
from rootkeys._cli.root_access import run_root_access
from rootkeys._errors import InputError, JournalError, JournalLockedError, RootKeysError
from rootkeys._render import span

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence
    from types import ModuleType

CONFIGURED = ("plan", "status", "remove")
"""The commands that use the config file (its window, interval and checks)."""
ORGANIZATION_ONLY = {
    "audit": "audit reads every member account",
    "org": "`rootkeys org` acts on the organization of the signed-in account",
    "recover-password": "choose the member accounts with --accounts",
}
"""The commands for an organization alone (no ``--org``), and why ``--account-id`` is not."""

__all__ = ["EXIT_INTERRUPTED", "INTERRUPTED", "exit_code", "main", "main_exit"]

EXIT_INTERRUPTED = 130
INTERRUPTED = """\
  Nothing was deleted by the interrupt. Keys made unusable stay so, their windows
  remembered: run the same `rootkeys remove` again to go on, `rootkeys status` to see
  where each key stands, or `rootkeys rollback` to make them usable again."""


def exit_code(error: BaseException) -> int:
    """The exit code for an error: 2 for input (nothing changed), 1 locked, 3 the rest."""
    if isinstance(error, JournalLockedError):
        return EXIT_NOT_DONE
    if isinstance(error, InputError | JournalError):
        return EXIT_USAGE
    return EXIT_AWS


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run the command line; return its exit code (``rootkeys`` and ``python -m rootkeys``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    given = sys.argv[1:] if argv is None else list(argv)
    try:
        with contextlib.redirect_stderr(err):  # usage errors go where errors go
            args = parser().parse_args(joined_negatives(given))
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    debug = _debug_logs(err) if args.debug and args.command not in ("demo", "sandbox") else None
    started = datetime.now(UTC)
    try:
        context = Context(resolve(args, os.environ if environ is None else environ), out, err)
        return _run(context)
    except RootKeysError as exc:
        if args.debug:
            raise
        print(f"rootkeys: error: {exc}", file=err)  # one line, for logs and grep
        return exit_code(exc)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"rootkeys: interrupted after {span(datetime.now(UTC) - started)}", file=err)
        if args.command == "remove":
            print(INTERRUPTED, file=err)
        return EXIT_INTERRUPTED
    finally:
        if debug is not None:
            logging.getLogger("rootkeys").removeHandler(debug)


EXIT_BROKEN_PIPE = 141
"""What a shell reports for a program its reader stopped reading (128 + SIGPIPE)."""


def main_exit() -> None:
    """The console script: run `main` and exit with its code."""
    raise SystemExit(main())


def _run(context: Context) -> int:
    if context.command == "demo":
        return _demo(context)
    if context.command == "sandbox":
        return _sandbox(context)
    if context.command == "journal":
        from rootkeys._cli.journal import run_journal

        return run_journal(context)
    must_be_able_to_ask(context)
    if context.args.output == FINDINGS_OUTPUT and context.command != "credentials":
        raise InputError("--output ocsf is for findings: rootkeys credentials")
    _check_scope(context.args)
    _check_inputs(context)
    if context.command == "org":
        return run_root_access(context)
    if context.command == "credentials":
        return run_credentials(context)
    if context.command == "recover-password":
        return run_recover_password(context)
    if context.command == "audit" or context.option("org", False):
        return run_org(context)
    return run_one(context)


def _check_scope(args: argparse.Namespace) -> None:
    """One account or an organization: refuse options of the other before any AWS call.

    ``ROOTKEYS_ACCOUNT_ID`` names the account of the one-account commands: an
    organization's commands ignore it (a flag ``--account-id`` they refuse).
    """
    alone = args.command in ORGANIZATION_ONLY  # an organization's, always (no --org)
    organization = alone or getattr(args, "org", False)
    if organization and "account_id" in args.from_environment:
        args.account_id = None
    if alone:
        if args.account_id:
            raise InputError(
                f"--account-id is for one account's commands, not {args.command}: "
                f"{ORGANIZATION_ONLY[args.command]}"
            )
        return
    if not organization:
        given = [
            flag
            for flag, option in (
                ("--accounts", "accounts"),
                ("--ou", "ou"),
                ("--keep-quarantine", "keep_quarantine"),
            )
            if getattr(args, option, None)
        ]
        if given:
            raise InputError(f"these options need --org: {', '.join(given)}")
        return
    if getattr(args, "account_id", None):
        raise InputError(
            "--account-id is for one account: with --org, choose members with --accounts"
        )
    if args.command == "history":
        if len(args.accounts or ()) != 1:
            raise InputError("history --org needs --accounts with one member account id")
    elif getattr(args, "key_id", None):
        raise InputError(
            f"KEY_ID is for one account: {args.command} --org acts on every key of each "
            "account in --accounts"
        )
    if args.command == "rollback" and not args.accounts:
        raise InputError("rollback --org needs --accounts: the member accounts to roll back")
    if getattr(args, "reevaluate", False):
        raise InputError("--reevaluate is for one account: run it signed in as its root user")
    if getattr(args, "regions", None):
        raise InputError("--regions is for one account's evidence: plan --org gathers none")


def _check_kinds(context: Context) -> None:
    """``--credentials``, ``--password``, ``--mfa`` as the set of kinds (None: the default)."""
    from rootkeys._models import (
        validate_account_credentials,
        validate_credentials,
        validate_member_credentials,
    )

    args = context.args
    chosen = context.option("credentials")
    extra = [kind for kind in ("password", "mfa") if context.option(kind)]
    if chosen is None and not extra:
        return
    if chosen is not None and set(chosen) & {"password", "mfa"}:
        raise InputError("--credentials takes keys and certificates: use --password and --mfa")
    kinds = set(chosen or ("keys", "certificates")) | set(extra)
    if context.command == "verify":  # a read: any kind may be confirmed gone
        args.credentials = validate_credentials(kinds)
    elif not context.option("org"):
        if extra:
            raise InputError(
                f"--{extra[0]} is for member accounts (--org): one account's root user signs "
                "in with its password and MFA, and rootkeys never removes them"
            )
        args.credentials = validate_account_credentials(kinds)
    elif context.command in ("plan", "remove"):
        args.credentials = validate_member_credentials(kinds)
    else:
        args.credentials = validate_credentials(kinds)


def _check_inputs(context: Context) -> None:
    """Refuse bad ids, windows and regions before any credential is loaded or AWS called."""
    from rootkeys._engine import Settings
    from rootkeys._evidence import validate_regions
    from rootkeys._models import (
        validate_account_credential_id,
        validate_account_id,
        validate_credential_id,
    )

    args = context.args
    if context.option("key_id") is not None:
        wide = context.command == "history"  # a read: a member's password or MFA id too
        (validate_credential_id if wide else validate_account_credential_id)(args.key_id)
    _check_kinds(context)
    if context.option("account_id") is not None:
        validate_account_id(args.account_id)
    for account_id in context.option("accounts") or ():
        validate_account_id(account_id)
    # the commands that use the config file read it here (a mistake named with its line);
    # the others never do, so a broken file cannot stand in the way of a rollback
    chosen = None
    if context.command == "remove":
        chosen = context.removal_window()
    elif context.command in CONFIGURED:
        chosen = context.window()
    if chosen is not None:
        Settings.of(chosen, context.check_interval())
    if context.option("regions") is not None:
        validate_regions(args.regions)
    if context.command == "verify":
        if args.timeout is not None and not args.reevaluate:
            raise InputError("--timeout is for --reevaluate: how long to wait for AWS Config")
        if args.timeout is not None and args.timeout <= timedelta(0):
            raise InputError("--timeout must be positive, e.g. 10m")


def _testing() -> ModuleType:
    """The sandbox (``rootkeys.testing``), or how to install it."""
    try:
        import rootkeys.testing
    except ImportError as exc:
        raise InputError(
            f"the sandbox needs its extra: pip install 'rootkeys[sandbox]' ({exc})"
        ) from exc
    return rootkeys.testing


def _demo(context: Context) -> int:
    _testing()
    from rootkeys.testing import demo

    code = demo.main(context.out, window=context.args.window)
    return EXIT_DONE if code == 0 else EXIT_NOT_DONE


def _sandbox(context: Context) -> int:
    args = context.args
    accounts = args.accounts if args.accounts is not None else (3 if args.org else 1)
    if args.root_access_off and not args.org:
        raise InputError("--root-access-off is for an organization: add --org")
    serve = _testing().serve_main
    return int(
        serve(
            context.out,
            port=args.port,
            organization=args.org,
            accounts=accounts,
            root_access=not args.root_access_off,
        )
    )


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
