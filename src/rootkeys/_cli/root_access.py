"""``rootkeys org status`` and ``rootkeys org enable``: centralized root access itself.

Status reads what is on (trusted access for IAM, ``RootCredentialsManagement``,
``RootSessions``), what enabling would call and the permissions it needs. Enable shows
that plan, asks (``--yes`` answers), makes only the calls still needed, and prints the
result; with everything already on it changes nothing and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rootkeys
from rootkeys._cli.one import EXIT_DONE, EXIT_NOT_DONE
from rootkeys._cli.output import confirm, emit, must_ask
from rootkeys._errors import InputError

if TYPE_CHECKING:
    from rootkeys._cli.context import Context

__all__ = ["run_root_access"]


def run_root_access(context: Context) -> int:
    """Run ``rootkeys org status|enable``; its exit code."""
    args = context.args
    if args.account_id and "account_id" not in args.from_environment:
        raise InputError(
            "--account-id is for one account's commands: `rootkeys org` acts on the "
            "organization of the signed-in account"
        )
    root_sessions = not args.no_root_sessions
    organization = rootkeys.Organization(context.session(), region=args.region, journal=False)
    plan = organization.root_access(root_sessions=root_sessions)
    if args.action == "status":
        emit(context, plan)
        return EXIT_DONE
    if not plan.changes:
        emit(context, plan)
        context.say("centralized root access is already on: nothing changed")
        return EXIT_DONE
    context.say(plan.table(wide=args.wide))
    if not plan.may_enable:  # refused with the typed error, before any question or change
        organization.enable_root_access(root_sessions=root_sessions)
    must_ask(context)  # a change is due: no terminal and no --yes refuses (exit 2)
    if not confirm(context, f"Enable centralized root access ({len(plan.changes)} call(s))?"):
        return EXIT_NOT_DONE
    emit(context, organization.enable_root_access(root_sessions=root_sessions))
    return EXIT_DONE
