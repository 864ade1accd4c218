"""What "one story" means, asserted: shared by the engine's and the public API's property tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from rootkeys import KeyState, Next, PlannedKey, RemovalReport


def assert_status_agrees(plan: Mapping[str, PlannedKey], status: Mapping[str, PlannedKey]) -> None:
    """status() (remembered windows only) names the plan's next step and time, for every key
    whose window it knows and the plan does not lengthen; otherwise the same kind of step."""
    for key_id, planned in plan.items():
        remembered = status[key_id]
        if remembered.window is not None and not planned.window_reason.startswith("lengthened"):
            assert (remembered.next, remembered.until) == (planned.next, planned.until), key_id
        else:
            assert remembered.next is planned.next or {remembered.next, planned.next} <= {
                Next.OBSERVE,
                Next.DELETE,
            }, key_id


def assert_the_run_did_the_plan(
    plan: Mapping[str, PlannedKey],
    report: RemovalReport,
    states: Mapping[str, KeyState],
    *,
    ok: bool,
) -> None:
    """The pass decided what the plan said for every key, and AWS (``states``, read after
    the run) shows the effect that goes with it: with every check passing, the step; with
    a check failing, nothing deleted."""
    decided = {k.key_id: k for k in report.keys}
    assert {k: d.decision for k, d in decided.items()} == {k: p.next for k, p in plan.items()}
    for key_id, planned in plan.items():
        now = states.get(key_id, KeyState.DELETED)
        if planned.next in (Next.PROTECTED, Next.ON_HOLD, Next.BLOCKED):
            assert now is planned.state, key_id
        elif not ok:
            assert now is not KeyState.DELETED or planned.state is KeyState.DELETED, key_id
        elif planned.next is Next.DELETE:
            assert now is KeyState.DELETED, key_id
        elif planned.next is Next.MAKE_UNUSABLE:
            gone = planned.window == timedelta(0)
            assert now is KeyState.DELETED if gone else not now.usable, key_id
            if not gone:
                assert decided[key_id].observing_until == planned.until, key_id
        elif planned.next is Next.OBSERVE:
            assert now not in (KeyState.DELETED, KeyState.ACTIVE), key_id
            assert decided[key_id].observing_until == planned.until, key_id
        elif planned.next is Next.ROLL_BACK:
            assert now is KeyState.ACTIVE, key_id
    if not ok:
        assert report.deleted == ()
