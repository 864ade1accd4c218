"""The driver: passes over 1..N accounts, and waiting between them.

`drive` passes over every account (at most ``workers`` at once, results as they come);
when asked to wait, the accounts still observing are passed over again one check
interval apart, no lock held in between. One account (`RootKeyManager`) and many
(`Organization`) are driven by the same loop, and stopped the same way: ``stop_when``,
asked before each account's pass starts, ends a run at a safe boundary (no account is
left mid-pass). `combine` makes one account's report of a run out of its passes.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from rootkeys._models import KeyState
from rootkeys._reports import KeyOutcome, RemovalReport, RunOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from rootkeys._clock import Clock

__all__ = ["combine", "drive", "fan_out", "next_due", "observing_until"]

log = logging.getLogger("rootkeys")

A = TypeVar("A")
R = TypeVar("R")


def drive(
    accounts: Iterable[A],
    one: Callable[[A], R],
    *,
    wait: bool,
    interval: timedelta,
    clock: Clock,
    workers: int = 1,
    due: Callable[[R], datetime | None],
    again: Callable[[R], A],
    immediate: Callable[[A], R | None] | None = None,
    on_wait: Callable[[datetime, int], None] | None = None,
    stop_when: Callable[[], bool] | None = None,
) -> Iterator[R]:
    """Pass over every account; results as they come.

    With ``wait``, a result whose account still observes (``due`` gives when its next
    window ends) is held back, and its account (``again``) is passed over again one check
    interval later, or when its first window ends if sooner, until none observes. No lock
    is held while waiting: another process may pass over the account meanwhile.
    ``on_wait`` is told once per wait, before it, when the next pass starts and how many
    accounts it is for (the entry classes tell the hooks: ``EventKind.WAITING``).

    ``stop_when`` is asked before each account's pass starts (and before each wait): once
    it answers True, no pass starts, the passes running finish, and the results end. An
    account not passed over again keeps its latest result.
    """
    stop = stop_when or _go_on
    check = immediate or _never
    results = fan_out(accounts, one, check, workers, stop)
    left: Callable[[], list[R]] = list  # the results of accounts a round did not reach
    while True:
        observing: list[R] = []
        for result in results:
            if wait and due(result) is not None:
                observing.append(result)
            else:
                yield result
        observing += left()
        if not observing:
            return
        if stop():
            yield from observing
            return
        now = clock.now()
        soonest = min((d for r in observing if (d := due(r)) is not None), default=now)
        pause = min(interval, max(soonest - now, timedelta(0)))
        log.info("%d account(s) observing; next pass in %s", len(observing), pause)
        if on_wait is not None:
            on_wait(now + pause, len(observing))
        clock.sleep(pause.total_seconds())
        results, left = _again(observing, one, check, again, workers, stop)


def _again(
    earlier: list[R],
    one: Callable[[A], R],
    immediate: Callable[[A], R | None],
    again: Callable[[R], A],
    workers: int,
    stop: Callable[[], bool],
) -> tuple[Iterator[R], Callable[[], list[R]]]:
    """Another round over the accounts of ``earlier``; then, the ones it did not start.

    Returns the round's results, and (to call once they are read) the earlier results of
    the accounts a stop left out.
    """
    accounts = [again(r) for r in earlier]
    started: set[int] = set()

    def first(i: int) -> R | None:
        started.add(i)
        return immediate(accounts[i])

    results = fan_out(range(len(accounts)), lambda i: one(accounts[i]), first, workers, stop)
    return results, lambda: [r for i, r in enumerate(earlier) if i not in started]


def _never(_: object) -> None:
    return None


def _go_on() -> bool:
    return False


def fan_out(
    accounts: Iterable[A],
    work: Callable[[A], R],
    immediate: Callable[[A], R | None],
    workers: int,
    stop_when: Callable[[], bool] | None = None,
) -> Iterator[R]:
    """``work`` on each account, at most ``workers`` at once, results as they come.

    ``immediate`` answers for an account without work (out of reach, skipped). With one
    worker, work runs in the calling thread. ``stop_when`` is asked (in the calling
    thread) before each account is started, once a worker is free for it: once it answers
    True, no account is started, and the results end when the running ones are in.
    """
    stop = stop_when or _go_on
    if workers == 1:
        for account in accounts:
            if stop():
                return
            found = immediate(account)
            yield found if found is not None else work(account)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: set[Future[R]] = set()
        for account in accounts:
            if len(running) >= workers:
                done, running = wait_for(running, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
            if stop():
                break
            found = immediate(account)
            if found is not None:
                yield found
                continue
            running.add(pool.submit(work, account))
        while running:
            done, running = wait_for(running, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)


def combine(earlier: RemovalReport | None, latest: RemovalReport) -> RemovalReport:
    """One account's report over a run's passes.

    Each key's steps are joined in order, and a key gone from the latest pass keeps its
    last report. The latest pass gives each key's outcome; a rollback in any pass stays
    the run's outcome, unless the latest pass ended worse.
    """
    if earlier is None:
        return latest
    before = {k.key_id: k for k in earlier.keys}
    keys = []
    for key in latest.keys:
        old = before.pop(key.key_id, None)
        if old is not None:
            key = key.model_copy(
                update={"steps": old.steps + key.steps, "initial_status": old.initial_status}
            )
        keys.append(key)
    gone = "not listed any more: deleted outside rootkeys"
    keys = [
        *(
            old
            if old.outcome is KeyOutcome.DELETED
            else old.model_copy(
                update={
                    "outcome": KeyOutcome.DELETED,
                    "final_state": KeyState.DELETED,
                    "reason": gone,
                    "observing_until": None,
                }
            )
            for old in before.values()
        ),
        *keys,
    ]
    outcome = latest.outcome
    worse = (RunOutcome.INCOMPLETE, RunOutcome.ROLLED_BACK)
    if earlier.outcome is RunOutcome.ROLLED_BACK and outcome not in worse:
        outcome = RunOutcome.ROLLED_BACK
    return latest.model_copy(
        update={
            "started_at": earlier.started_at,
            "keys": tuple(keys),
            "outcome": outcome,
            "checks_run": earlier.checks_run + latest.checks_run,
            "check_failure": latest.check_failure or earlier.check_failure,
            "hook_errors": earlier.hook_errors + latest.hook_errors,
        }
    )


def observing_until(report: RemovalReport) -> datetime | None:
    """When the last still-observing key's window ends (None: nothing observes)."""
    return max((k.observing_until for k in report.keys if k.observing_until), default=None)


def next_due(report: RemovalReport) -> datetime | None:
    """When the first still-observing key's window ends (None: nothing observes)."""
    return min((k.observing_until for k in report.keys if k.observing_until), default=None)
