"""The commands for an organization's member accounts (``--org``, and ``audit``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import rootkeys
from rootkeys._cli.one import (
    EXIT_AWS,
    EXIT_DONE,
    EXIT_NOT_DONE,
    removal_code,
    resumed,
    resumed_table,
    rolled_back,
    steps_table,
)
from rootkeys._cli.output import confirm, emit, emit_each, tell
from rootkeys._errors import RootKeysError
from rootkeys._render import Table

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rootkeys._cli.context import Context

__all__ = ["each", "run_org"]

T = TypeVar("T")


def run_org(context: Context) -> int:
    """Run an organization command; its exit code."""
    args = context.args
    _scope_from_config(context)
    if context.command == "remove":
        return _remove(context)
    organization = context.organization()
    if context.command == "audit":
        emit_each(context, organization.audit(args.accounts, ou=args.ou))
        return EXIT_DONE
    if context.command == "plan":
        plans = organization.plan(
            context.window(), account_ids=args.accounts, ou=args.ou, credentials=args.credentials
        )
        emit_each(context, plans)
        return EXIT_DONE
    if context.command == "status":
        statuses = organization.status(
            context.window(), account_ids=args.accounts, ou=args.ou, credentials=args.credentials
        )
        emit_each(context, statuses)
        return EXIT_DONE
    if context.command == "verify":
        return _verify(context, organization)
    if context.command == "history":
        emit(context, organization.history(args.accounts[0], args.key_id))
        return EXIT_DONE
    if context.command == "resume":
        accounts = args.accounts or _held(organization)
        done, code = each(context, accounts, organization.resume)
        entries = [resumed(a, keys) for a, keys in done]
        emit(context, entries, resumed_table(entries, "rootkeys remove --org"))
        return code
    return _rollback(context, organization)


def _held(organization: rootkeys.Organization) -> list[str]:
    """The member accounts with a credential on hold (``resume --org`` without ``--accounts``).

    Every kind: a rollback holds the password and MFA devices its quarantine covered too.
    """
    from rootkeys._models import ALL_KINDS

    return [
        status.account_id
        for status in organization.status(credentials=ALL_KINDS)
        if any(key.next is rootkeys.Next.ON_HOLD for key in status.keys)
    ]


def each(
    context: Context, account_ids: Sequence[str], act: Callable[[str], T]
) -> tuple[list[tuple[str, T]], int]:
    """``act`` on each account in turn; an account's error is told and the others go on.

    Returns what ``act`` returned for each account it succeeded on, and the exit code: 0,
    or 3 when an account failed.
    """
    done: list[tuple[str, T]] = []
    code = EXIT_DONE
    for account_id in account_ids:
        try:
            done.append((account_id, act(account_id)))
        except RootKeysError as exc:
            print(f"rootkeys: error: account {account_id}: {exc}", file=context.err)
            code = EXIT_AWS
    return done, code


def _verify(context: Context, organization: rootkeys.Organization) -> int:
    """Every selected member account read: none may hold a root credential asked, none unread."""
    from rootkeys._management import MANAGEMENT_HOW
    from rootkeys._models import DEFAULT_KINDS
    from rootkeys._orgreports import AuditStatus

    kinds = context.args.credentials or DEFAULT_KINDS
    rows: list[tuple[str, str]] = []
    results: list[dict[str, object]] = []
    ok: bool | None
    found = list(organization.credentials(context.args.accounts, ou=context.args.ou))
    for member in found:
        left = member.remaining(kinds) if member.status is AuditStatus.AUDITED else ()
        if member.status is AuditStatus.FAILED:
            verdict, ok = "could not be read: not verified", None
        elif member.status is not AuditStatus.AUDITED:  # never read: no verdict either way
            verdict, ok = f"{member.status.value}: not verified", None
        elif left:
            verdict, ok = ", ".join(left) + " remain", False
        else:
            verdict, ok = f"no root {_words(kinds)} remains", True
        rows.append((member.account_id, verdict))
        results.append(
            {"account_id": member.account_id, "no_root_key_remains": ok, "remaining": list(left)}
        )
    chosen = context.args.accounts
    after = [] if chosen else [f"the management account is not verified here: {MANAGEMENT_HOW}"]
    table = Table(
        "Verify", ("account", "verdict"), rows, after=after, empty="no member account selected"
    )
    emit(context, results, table)
    if any(m.status is AuditStatus.FAILED for m in found):
        return EXIT_AWS
    remain = any(r["no_root_key_remains"] is False for r in results)
    return EXIT_NOT_DONE if remain else EXIT_DONE


def _scope_from_config(context: Context) -> None:
    """The config file's ``[organization]`` accounts or OU, for plan, status and remove.

    Used when neither ``--accounts`` nor ``--ou`` is given (the scheduled run's selection),
    and said aloud; its ``credentials`` are the scheduled run's only (flags choose here).
    """
    args = context.args
    if context.command not in ("plan", "status", "remove") or args.accounts or args.ou:
        return
    scope = context.config().organization
    if scope.account_ids:
        args.accounts = list(scope.account_ids)
        context.say(
            f"Only the {len(args.accounts)} member account(s) the config file's "
            "[organization] account_ids names (--accounts chooses others)"
        )
    elif scope.ou:
        args.ou = scope.ou
        context.say(f"Only the accounts under {scope.ou}, as the config file's [organization] says")


def _words(kinds: frozenset[rootkeys.lifecycle.CredentialKind]) -> str:
    """The kinds verified, in words: ``access key or signing certificate``."""
    from rootkeys._models import CredentialKind

    words = [k.noun for k in CredentialKind if k in kinds]
    return " or ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " or " + words[-1]


def _rollback(context: Context, organization: rootkeys.Organization) -> int:
    accounts = context.args.accounts
    from rootkeys._models import ALL_KINDS

    for status in organization.status(account_ids=accounts, credentials=ALL_KINDS):
        tell(context, status)
    asking = (
        f"Roll back {len(accounts)} member account(s): detach the quarantine SCP, and "
        "hold their root credentials until `rootkeys resume --org`?"
    )
    if not confirm(context, asking):
        return EXIT_NOT_DONE
    done, code = each(context, accounts, organization.rollback)
    results = [result for _, steps in done for result in steps]
    held = ",".join(dict.fromkeys(r.account_id for r in results))
    emit(context, results, steps_table(results, f"rootkeys resume --org --accounts {held}"))
    return max(code, rolled_back(results))


def _remove(context: Context) -> int:
    args = context.args
    chosen = context.removal_window()
    organization = context.organization()  # one: the plans before the question, the run after
    plans = list(
        organization.plan(
            chosen, account_ids=args.accounts, ou=args.ou, credentials=args.credentials
        )
    )
    for plan in plans:
        tell(context, plan)
    moving = [p for p in plans if any(_moves(k) for k in p.keys)]
    waiting = [k for p in plans for k in p.waiting]
    if not moving:
        if waiting:
            where = (
                "`rootkeys plan --org` shows why, and the command that resumes each account"
                if context.args.quiet
                else "each plan above names the command that resumes its account"
            )
            print(
                f"nothing rootkeys may remove now: {len(waiting)} root key(s) wait for a "
                f"person; {where}",
                file=context.err,
            )
            return EXIT_NOT_DONE
        context.say("nothing to remove: no member account holds a root key to remove")
        return EXIT_DONE
    from rootkeys._models import DEFAULT_KINDS, CredentialKind

    kinds = ", ".join(k.value for k in CredentialKind if k in (args.credentials or DEFAULT_KINDS))
    asking = (
        f"Remove the root credentials ({kinds}) of {len(moving)} member account(s) "
        "(quarantined by SCP first)?"
    )
    if not confirm(context, asking):
        return EXIT_NOT_DONE
    with context.progress():  # after the question: a live view would garble the prompt
        report = organization.remove_all(
            chosen,
            context.check_interval(),
            wait=args.wait,
            account_ids=args.accounts,
            ou=args.ou,
            keep_quarantine=args.keep_quarantine,
            credentials=args.credentials,
        )
    emit(context, report)
    held = [
        account.account_id
        for account in report.accounts
        if account.outcome in (rootkeys.AccountOutcome.ROLLED_BACK, rootkeys.AccountOutcome.ON_HOLD)
    ]
    if held:
        print(
            f"held until a person resumes: after fixing what the checks found, run "
            f"`rootkeys resume --org --accounts {','.join(held)}`",
            file=context.err,
        )
    outcomes = set(report.counts)
    if rootkeys.AccountOutcome.FAILED in outcomes:
        return EXIT_AWS
    fine = {
        rootkeys.AccountOutcome.DONE,
        rootkeys.AccountOutcome.NOTHING_TO_DO,
        rootkeys.AccountOutcome.OUT_OF_REACH,
        rootkeys.AccountOutcome.SKIPPED,
    }
    observing = outcomes - fine == {rootkeys.AccountOutcome.OBSERVING}
    return removal_code(observing, outcomes <= fine, context)


def _moves(key: rootkeys.PlannedKey) -> bool:
    return key.next.removes or key.next is rootkeys.Next.ROLL_BACK
