"""plan = status = the next run, by property, through the public API on the sandbox.

The engine's own property test (tests/test_engine.py) runs thousands of histories on
the in-memory fake. This one runs fewer, through what users call (`RootKeyManager`,
`Organization`) and through boto3, botocore and moto, so the wiring is covered too:
random runs (checks passing or failing), time passing, another administrator, resumes,
rollbacks and interrupts; after every step, the plan is what the next
`remove_all(wait=False)` does to each key, `status()` agrees, and `plan()`, `status()`
and `audit()` changed nothing in AWS and wrote nothing to the journal.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rootkeys
from rootkeys import KeyState
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, Sandbox
from tests.onestory import assert_status_agrees, assert_the_run_did_the_plan

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WINDOWS = [timedelta(0), HOUR, DAY]

steps = st.one_of(
    st.tuples(st.just("run"), st.sampled_from(WINDOWS), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([HOUR, DAY, 3 * DAY])),
    st.tuples(st.just("usable"), st.integers(0, 1)),
    st.tuples(st.just("unusable"), st.integers(0, 1)),
    st.tuples(st.just("delete"), st.integers(0, 1)),
    st.tuples(st.just("resume"), st.just(0)),
    st.tuples(st.just("rollback"), st.just(0)),
    st.tuples(st.just("interrupt"), st.sampled_from(WINDOWS)),
)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, pressed while a check runs."""


def _interrupt(key: object) -> bool:
    raise Interrupted


class Story:
    """One account (or one member account of an organization) and what users call on it."""

    def __init__(self, box: Sandbox, clock: FakeClock, journal: Path, *, member: bool) -> None:
        self.box, self.clock, self.member = box, clock, member
        if member:
            org = box.create_organization(members=1, root_keys=2)
            self.account_id = org.member_account_ids[0]
            self.org = rootkeys.Organization(
                box.management_session(), clock=clock, journal=journal, workers=1
            )
        else:
            self.account_id = box.create_account("111122223333", root_keys=2).account_id
        self.journal = rootkeys.Journal(journal)

    def manager(self, checks: tuple[object, ...] = ()) -> rootkeys.RootKeyManager:
        return rootkeys.RootKeyManager(
            self.box.root_session(self.account_id),
            clock=self.clock,
            journal=self.journal,
            checks=checks,  # type: ignore[arg-type]
        )

    def organization(self, checks: tuple[object, ...] = ()) -> rootkeys.Organization:
        return rootkeys.Organization(
            self.box.management_session(),
            clock=self.clock,
            journal=self.journal,
            workers=1,
            checks=checks,  # type: ignore[arg-type]
        )

    def plan(self, window: timedelta) -> dict[str, rootkeys.PlannedKey]:
        if self.member:
            (plan,) = self.organization().plan(window, account_ids=[self.account_id])
        else:
            plan = self.manager().plan(window, evidence=False, preflight=False)
        return {k.key_id: k for k in plan.keys}

    def status(self) -> dict[str, rootkeys.PlannedKey]:
        if self.member:
            (status,) = self.organization().status(account_ids=[self.account_id])
        else:
            status = self.manager().status()
        return {k.key_id: k for k in status.keys}

    def run(self, window: timedelta, checks: tuple[object, ...]) -> rootkeys.RemovalReport:
        if self.member:
            report = self.organization(checks).remove_all(
                window, HOUR, account_ids=[self.account_id], wait=False
            )
            (account,) = report.accounts
            assert account.report is not None, account.reason
            return account.report
        return self.manager(checks).remove_all(window, HOUR, wait=False)

    def audit(self) -> None:
        if self.member:
            list(self.organization().audit([self.account_id]))
        else:
            self.manager().verify()

    def resume(self) -> None:
        if self.member:
            self.organization().resume(self.account_id)
        else:
            self.manager().resume()

    def rollback(self) -> None:
        if self.member:
            self.organization().rollback(self.account_id)
        else:
            self.manager().rollback()

    def states(self) -> dict[str, KeyState]:
        quarantined = self.member and self._quarantined()
        return {
            k.key_id: KeyState.QUARANTINED
            if quarantined and k.status is KeyStatus.ACTIVE
            else KeyState(k.status.value)
            for k in self.box.root_keys(self.account_id)
        }

    def _quarantined(self) -> bool:
        return bool(self.org.is_quarantined(self.account_id))


def _reads_are_reads(story: Story, window: timedelta) -> dict[str, rootkeys.PlannedKey]:
    records = story.journal.records(story.account_id)
    writes = len(story.box.mutations())
    plan = story.plan(window)
    status = story.status()
    story.audit()
    assert len(story.box.mutations()) == writes
    assert story.journal.records(story.account_id) == records
    assert_status_agrees(plan, status)
    return plan


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(member=st.booleans(), history=st.lists(steps, min_size=1, max_size=6))
def test_plan_status_and_the_next_run_agree_through_the_public_api(
    tmp_path: Path, member: bool, history: list[tuple[object, ...]]
) -> None:
    """Random histories on the sandbox, one account or a member: plan = status = the run."""
    clock = FakeClock(START)
    journal = tmp_path / f"journal-{id(history)}.sqlite3"
    with Sandbox(clock=clock) as box:
        story = Story(box, clock, journal, member=member)
        for step in [*history, ("run", DAY, True)]:
            kind = step[0]
            keys = [k.key_id for k in box.root_keys(story.account_id)]  # oldest first
            if kind == "run":
                window, ok = step[1], step[2]
                assert isinstance(window, timedelta)
                plan = _reads_are_reads(story, window)
                report = story.run(window, () if ok else (lambda key: False,))
                assert_the_run_did_the_plan(plan, report, story.states(), ok=bool(ok))
            elif kind == "interrupt":
                assert isinstance(step[1], timedelta)
                with contextlib.suppress(Interrupted):
                    story.run(step[1], (_interrupt,))
            elif kind == "advance":
                assert isinstance(step[1], timedelta)
                clock.advance(step[1])
            elif kind in ("usable", "unusable", "delete") and keys:
                key_id = keys[int(step[1]) % len(keys)]  # type: ignore[call-overload]
                if kind == "delete":
                    box.delete_root_key(story.account_id, key_id)
                elif kind == "usable" and member:
                    policy = story.org.quarantine_policy_id()
                    if policy and story._quarantined():
                        box.management_session().client("organizations").detach_policy(
                            PolicyId=policy, TargetId=story.account_id
                        )
                else:
                    status = KeyStatus.ACTIVE if kind == "usable" else KeyStatus.INACTIVE
                    box.set_root_key_status(story.account_id, key_id, status)
            elif kind == "resume":
                story.resume()
            elif kind == "rollback":
                story.rollback()
        assert not [
            c for c in box.key_changes() if c.deleted and c.was_usable and c.by != "sandbox"
        ]
