"""``rootkeys recover-password``: the undo of deleting a member account's root password.

In an ``IAMCreateRootUserPassword`` AssumeRoot session, the member's root user is given a
login profile with no password, so it can set one through the console's "forgot
password" (`Organization.allow_password_recovery`). A change in AWS: it asks first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rootkeys._cli.one import EXIT_NOT_DONE
from rootkeys._cli.options import command, ids
from rootkeys._cli.org import each
from rootkeys._cli.output import confirm, emit
from rootkeys._render import Table

if TYPE_CHECKING:
    import argparse

    from rootkeys._cli.context import Context
    from rootkeys._cli.options import Parser

__all__ = ["add_recover_password", "run_recover_password"]


def add_recover_password(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add the ``recover-password`` command to the parser."""
    parser = command(
        commands,
        "recover-password",
        "let member accounts' root users set a password again (asks)",
        """
        Let each member account's root user recover a password: in an AssumeRoot session
        with the IAMCreateRootUserPassword task policy, a login profile with no password
        is created, and the root user sets one through the console's "forgot password".
        The undo of deleting a member's root password. An account whose root user already
        has a password is left as it is. Signed in to the management account (or as the
        delegated administrator); asks first (--yes answers).
        """,
        """
        rootkeys recover-password --accounts 111122223333
        rootkeys recover-password --accounts 111122223333,444455556666 --yes
        """,
    )
    parser.add_argument(
        "--accounts", type=ids, required=True, metavar="IDS", help="member account ids"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run_recover_password(context: Context) -> int:
    """Run ``rootkeys recover-password``; its exit code (3 if an account failed).

    The account ids were checked before (``app``); each is acted on once.
    """
    accounts = list(dict.fromkeys(context.args.accounts))
    organization = context.organization(journal=False)
    asking = (
        f"Let the root users of {len(accounts)} member account(s) set a password "
        "through 'forgot password'?"
    )
    if not confirm(context, asking):
        return EXIT_NOT_DONE
    results, code = each(context, accounts, organization.allow_password_recovery)
    done = [result for _, result in results]
    rows = [
        (
            r.account_id,
            "may set a password ('forgot password' on the sign-in page)"
            if r.allowed
            else "has a login profile already (a password, or recovery allowed): unchanged",
        )
        for r in done
    ]
    emit(context, done, Table("Password recovery", ("account", "root user"), rows))
    return code
