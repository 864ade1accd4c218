"""The commands for one account: the signed-in root user's (``--account-id`` checked)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rootkeys
from rootkeys._cli.output import confirm, emit, tell
from rootkeys._render import Table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rootkeys._cli.context import Context

__all__ = [
    "EXIT_AWS",
    "EXIT_DONE",
    "EXIT_NOT_DONE",
    "EXIT_USAGE",
    "held_note",
    "removal_code",
    "resumed",
    "resumed_table",
    "run_one",
    "steps_table",
]

EXIT_DONE = 0
EXIT_NOT_DONE = 1
EXIT_USAGE = 2
EXIT_AWS = 3


def removal_code(observing: bool, finished: bool, context: Context) -> int:
    """0 done (or observing, all fine); 1 not done (or observing with --fail-if-observing)."""
    if finished:
        return EXIT_DONE
    if observing and not context.option("fail_if_observing", False):
        return EXIT_DONE
    return EXIT_NOT_DONE


def run_one(context: Context) -> int:
    """Run a single-account command; its exit code."""
    command = context.command
    if command == "remove":
        return _remove(context)
    manager = context.manager()
    if command == "plan":
        plan = manager.plan(
            context.window(),
            evidence=not context.args.no_evidence,
            regions=context.args.regions,
            credentials=context.args.credentials,
        )
        emit(context, plan)
        return EXIT_DONE
    if command == "status":
        status = manager.status(observe_for=context.window(), credentials=context.args.credentials)
        emit(context, status)
        return EXIT_DONE
    if command == "verify":
        return _verify(context, manager)
    if command == "history":
        emit(context, manager.history(context.args.key_id))
        return EXIT_DONE
    if command == "resume":
        key_ids = manager.resume(context.args.key_id)
        entries = [resumed(manager.account_id, key_ids)]
        emit(context, entries, resumed_table(entries, "rootkeys remove"))
        return EXIT_DONE
    return _rollback(context, manager)


def _verify(context: Context, manager: rootkeys.RootKeyManager) -> int:
    ok = manager.verify(credentials=context.args.credentials)
    result = {"account_id": manager.account_id, "no_root_key_remains": ok}
    verdict = (
        "no root access key remains"
        if ok
        else "root access keys remain: `rootkeys status` shows where each stands"
    )
    table = Table("Verify", ("account", "verdict"), [(manager.account_id, verdict)], empty="")
    if not context.args.reevaluate:
        emit(context, result, table)
        return EXIT_DONE if ok else EXIT_NOT_DONE
    context.say("asking AWS Config to evaluate its root-key rule (IAM.4) now…")
    waits = {} if context.args.timeout is None else {"timeout": context.args.timeout}
    confirmation = manager.confirm_control(region=context.args.region, **waits)
    if context.args.output == "table":
        emit(context, result, table)
        emit(context, confirmation)
    else:
        emit(context, {**result, "config": confirmation.model_dump(mode="json")})
    return EXIT_DONE if ok and confirmation.compliant else EXIT_NOT_DONE


def resumed(account_id: str, key_ids: Sequence[str]) -> dict[str, Any]:
    """One account's resumed keys, as JSON and CSV show them."""
    return {"account_id": account_id, "resumed": list(key_ids)}


def resumed_table(entries: Sequence[dict[str, Any]], remove: str) -> Table:
    """What resume did, and the command that goes on."""
    rows = [(e["account_id"], ", ".join(e["resumed"]) or "nothing was on hold") for e in entries]
    after = [f"the next `{remove}` starts each resumed key over: made unusable, a new window"]
    return Table(
        "Resumed",
        ("account", "keys"),
        rows,
        after=after if any(e["resumed"] for e in entries) else (),
    )


def held_note(context: Context) -> str:
    """What to repeat on a printed resume command: the flags (not variables) this had."""
    inherited = context.option("from_environment", set())
    same = [
        flag
        for flag, option in (
            ("--profile", "profile"),
            ("--endpoint-url", "endpoint_url"),
            ("--journal", "journal"),
            ("--account-id", "account_id"),
        )
        if context.option(option) and option not in inherited
    ]
    return f"(with the same {', '.join(same)} as this command)" if same else ""


def steps_table(results: Sequence[rootkeys.StepResult], resume: str) -> Table:
    """A rollback's steps, and the command that lifts the hold it leaves."""
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
    )


def rolled_back(results: Sequence[rootkeys.StepResult]) -> int:
    """0 if every rollback step was verified, else 1."""
    return EXIT_DONE if all(r.verified for r in results) else EXIT_NOT_DONE


def _rollback(context: Context, manager: rootkeys.RootKeyManager) -> int:
    tell(context, manager.status())
    which = context.args.key_id or "every root key"
    asking = (
        f"Roll back: make {which} that rootkeys made unusable Active again, and hold it "
        "until `rootkeys resume`?"
    )
    if not confirm(context, asking):
        return EXIT_NOT_DONE
    results = list(manager.rollback(context.args.key_id))
    emit(context, results, steps_table(results, "rootkeys resume"))
    return rolled_back(results)


def _remove(context: Context) -> int:
    chosen = context.removal_window()
    kinds = context.args.credentials
    manager = context.manager()  # one manager: the plan before the question, the run after
    plan = manager.plan(
        chosen, evidence=isinstance(chosen, rootkeys.RemovalPolicy), credentials=kinds
    )
    tell(context, plan)
    waiting = plan.waiting
    moving = [k for k in plan.keys if k.next.removes or k.next is rootkeys.Next.ROLL_BACK]
    if waiting and not moving:
        _tell_waiting(context, waiting)
        return EXIT_NOT_DONE
    asking = f"Remove {len(plan.removable)} root key(s)?"
    if waiting:
        asking += f" ({len(waiting)} on hold or blocked stay as they are: see the plan.)"
    if plan.removable and not confirm(context, asking):
        return EXIT_NOT_DONE
    with context.progress():  # after the question: a live view would garble the prompt
        report = manager.remove_all(
            chosen, context.check_interval(), wait=context.args.wait, credentials=kinds
        )
    emit(context, report)
    if report.outcome in (rootkeys.RunOutcome.ROLLED_BACK, rootkeys.RunOutcome.ON_HOLD):
        _tell_resume(
            context,
            [k.key_id for k in report.keys if k.outcome is rootkeys.KeyOutcome.ROLLED_BACK],
        )
    return removal_code(
        report.outcome is rootkeys.RunOutcome.OBSERVING,
        report.outcome in (rootkeys.RunOutcome.DONE, rootkeys.RunOutcome.NOTHING_TO_DO),
        context,
    )


def _tell_waiting(context: Context, waiting: Sequence[rootkeys.PlannedKey]) -> None:
    """Every key waits for a person: say so, and the command that moves each on."""
    err = context.err
    print(
        f"nothing rootkeys may remove now: {len(waiting)} root key(s) wait for a person "
        "(the plan says why)",
        file=err,
    )
    note = held_note(context)
    for key in waiting:
        if key.next is rootkeys.Next.ON_HOLD:
            print(
                f"  to resume {key.key_id}: rootkeys resume {key.key_id} {note}".rstrip(), file=err
            )
        else:
            print(f"  {key.key_id}: {key.next.value}", file=err)


def _tell_resume(context: Context, key_ids: Sequence[str]) -> None:
    """After a rollback: the command that moves on, never a dead end."""
    note = held_note(context)
    for key_id in key_ids:
        print(f"to resume {key_id}: rootkeys resume {key_id} {note}".rstrip(), file=context.err)
    print(
        "  (then the next `rootkeys remove` starts it over: a whole new window)", file=context.err
    )
