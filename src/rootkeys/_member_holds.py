"""A member account's quarantine covers every root credential; a run, only the kinds asked.

So a run of some kinds must not release the quarantine while a credential of another
kind is in its window under it (a run with ``--password`` started one), and a rollback,
which releases it, holds the credentials of the other kinds it made usable again, as
its own. These read and write the journal only (inside the account's lock).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rootkeys._engine import covered
from rootkeys._models import ALL_KINDS, KeyState
from rootkeys._reconcile import replay
from rootkeys._records import RecordKind
from rootkeys._reports import RunOutcome

if TYPE_CHECKING:
    from rootkeys._clock import Clock
    from rootkeys._journal import Journal
    from rootkeys._member_keys import MemberGateway
    from rootkeys._reconcile import KeyMemory
    from rootkeys._reports import RemovalReport

__all__ = ["hold_the_others", "others_observed"]

log = logging.getLogger("rootkeys")


def _others(journal: Journal, member: MemberGateway) -> list[KeyMemory]:
    """The credentials a run leaves out that an earlier run's quarantine covers.

    As the journal knows them: quarantined by rootkeys, not gone (held or not).
    """
    others = ALL_KINDS - member.kinds
    if not others:
        return []
    known = replay(covered(journal, member.account_id, others))
    return [
        m
        for m in known.values()
        if m.state is KeyState.QUARANTINED and m.deactivated_by_rootkeys and m.gone_at is None
    ]


def others_observed(journal: Journal, member: MemberGateway) -> bool:
    """Whether a credential outside the run's kinds is in its window, quarantined.

    A run of ``--password`` started it: the SCP stays for it.
    """
    waiting = [m.key_id for m in _others(journal, member) if m.hold is None]
    if waiting:
        log.info(
            "account %s: quarantine kept for %s, observed by a run of other kinds",
            member.account_id,
            ", ".join(waiting),
        )
    return bool(waiting)


def hold_the_others(
    journal: Journal, clock: Clock, member: MemberGateway, report: RemovalReport
) -> None:
    """A rollback released the account's quarantine: hold what it covered of other kinds.

    Each is recorded as rolled back (on hold, as the run's own keys are), so no later run
    of its kind finds it "released outside rootkeys".
    """
    if report.outcome is not RunOutcome.ROLLED_BACK or member.is_quarantined(fresh=True):
        return
    why = report.check_failure.reason if report.check_failure else "a check failed"
    for known in _others(journal, member):
        if known.hold is None:
            journal.append(
                account_id=member.account_id,
                key_id=known.key_id,
                run_id=report.run_id,
                kind=RecordKind.WINDOW_FAILED,
                at=clock.now(),
                detail=f"rolled back with its account's quarantine: {why}",
            )
        journal.append(
            account_id=member.account_id,
            key_id=known.key_id,
            run_id=report.run_id,
            kind=RecordKind.SEEN,
            at=clock.now(),
            to_state=KeyState.ACTIVE,
            detail="made usable again by its account's rollback",
        )
