"""``rootkeys org status`` and ``rootkeys org enable``: centralized root access itself.

Status reads what is on (trusted access for IAM, ``RootCredentialsManagement``,
``RootSessions``), what enabling would call and the permissions it needs. Enable reads
that plan once, shows it, refuses if this session may not make the calls, asks
(``--yes`` answers), makes only the calls still needed, and prints the result; with
everything already on it changes nothing and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rootkeys._cli.one import EXIT_DONE, EXIT_NOT_DONE
from rootkeys._cli.output import confirm, emit, must_ask, tell
from rootkeys._errors import OrganizationSetupError

if TYPE_CHECKING:
    from rootkeys._cli.context import Context

__all__ = ["run_root_access"]


def run_root_access(context: Context) -> int:
    """Run ``rootkeys org status|enable``; its exit code."""
    root_sessions = not context.args.no_root_sessions
    organization = context.organization(journal=False)
    plan = organization.root_access(root_sessions=root_sessions)
    if context.args.action == "status":
        emit(context, plan)
        return EXIT_DONE
    if not plan.changes:
        emit(context, plan)
        context.say("centralized root access is already on: nothing changed")
        return EXIT_DONE
    tell(context, plan)
    if plan.refusal is not None:  # before any question or change (exit 3)
        raise OrganizationSetupError(plan.refusal)
    must_ask(context)  # a change is due: no terminal and no --yes refuses (exit 2)
    if not confirm(context, f"Enable centralized root access ({len(plan.changes)} call(s))?"):
        return EXIT_NOT_DONE
    emit(context, organization.enable_root_access(root_sessions=root_sessions))
    return EXIT_DONE
