"""The engine on the in-memory fake: the one decision, and plan = status = run, by property.

`FakeAccount` stands behind the engine's seam (no moto), so hypothesis can drive hundreds
of random histories: runs with passing and failing checks, time passing, another admin
changing keys, crashes mid-run, rollbacks and resumes, for a single account and for a
member account (account-wide quarantine). After every step:

- what the plan says each key will undergo is exactly what the next pass does to it;
- status names the same next step and time;
- plan and status made no AWS call that changes anything, and wrote no journal record;
- no key was deleted while usable, and every delete was decided as one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rootkeys import KeyState, Next, RootKeysError, RunOutcome
from rootkeys._change import Stepper
from rootkeys._decide import AccountRules, Requested, decide
from rootkeys._engine import Settings, read_plan, resume, roll_back, run_pass
from rootkeys._journal import Journal
from rootkeys._observe import Emitter
from rootkeys._reconcile import KeyMemory
from rootkeys._reports import PlannedKey, RemovalReport
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeAccount, FakeClock, FakeCrash
from tests.onestory import assert_status_agrees, assert_the_run_did_the_plan

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
KEY = "AKIAAAAAAAAAAAAAAAAA"


# -- the decision, case by case ----------------------------------------------------------------


def _memory(**fields: object) -> dict[str, KeyMemory]:
    return {KEY: KeyMemory(KEY, **fields)}  # type: ignore[arg-type]


WEEK = Requested(timedelta(days=7), "asked for")

CASES = [
    ("active: make unusable", KeyState.ACTIVE, {}, WEEK, None, Next.MAKE_UNUSABLE),
    ("signing key: protected", KeyState.ACTIVE, {}, WEEK, KEY, Next.PROTECTED),
    (
        "active on hold",
        KeyState.ACTIVE,
        {"hold": "check failed", "state": KeyState.ACTIVE},
        WEEK,
        None,
        Next.ON_HOLD,
    ),
    (
        "inactive, window running",
        KeyState.INACTIVE,
        {"window_start": NOW - DAY, "state": KeyState.INACTIVE},
        WEEK,
        None,
        Next.OBSERVE,
    ),
    (
        "inactive, window over",
        KeyState.INACTIVE,
        {"window_start": NOW - 8 * DAY, "state": KeyState.INACTIVE},
        WEEK,
        None,
        Next.DELETE,
    ),
    (
        "rollback pending",
        KeyState.INACTIVE,
        {"hold": "check failed", "deactivated_by_rootkeys": True, "state": KeyState.INACTIVE},
        WEEK,
        None,
        Next.ROLL_BACK,
    ),
    (
        "remembered longer window wins over a shorter ask",
        KeyState.INACTIVE,
        {"window_start": NOW - 2 * DAY, "window": 3 * DAY, "state": KeyState.INACTIVE},
        Requested(DAY, "asked for"),
        None,
        Next.OBSERVE,
    ),
    (
        "a longer ask lengthens",
        KeyState.INACTIVE,
        {"window_start": NOW - 2 * DAY, "window": DAY, "state": KeyState.INACTIVE},
        Requested(3 * DAY, "asked for"),
        None,
        Next.OBSERVE,
    ),
    (
        "a policy never lengthens",
        KeyState.INACTIVE,
        {"window_start": NOW - 2 * DAY, "window": DAY, "state": KeyState.INACTIVE},
        Requested(3 * DAY, "policy", lengthens=False),
        None,
        Next.DELETE,
    ),
]


@pytest.mark.parametrize(
    ("state", "memory", "asked", "protected", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide_case_by_case(
    state: KeyState,
    memory: dict[str, object],
    asked: Requested,
    protected: str | None,
    expected: Next,
) -> None:
    """Each situation gets its one answer."""
    decision = decide(
        {KEY: state}, _memory(**memory), now=NOW, requested={KEY: asked}, protected=protected
    )[KEY]
    assert decision.next is expected
    if expected is Next.ON_HOLD:
        assert KEY in (decision.resume or "")


def test_held_key_blocks_the_account_wide_quarantine() -> None:
    """In a member account, an Active key on hold keeps every other Active key unquarantined."""
    other = "AKIABBBBBBBBBBBBBBBB"
    memory = {
        KEY: KeyMemory(KEY, state=KeyState.ACTIVE, hold="check failed"),
        other: KeyMemory(other, state=KeyState.ACTIVE),
    }
    rules = AccountRules(unusable=KeyState.QUARANTINED, resume="resume {account_id}")
    decisions = decide(
        {KEY: KeyState.ACTIVE, other: KeyState.ACTIVE},
        memory,
        now=NOW,
        requested={KEY: WEEK, other: WEEK},
        rules=rules,
        account_id="111122223333",
    )
    assert decisions[KEY].next is Next.ON_HOLD
    assert decisions[other].next is Next.BLOCKED
    assert decisions[other].resume == "resume 111122223333"


def test_the_scp_limit_blocks_active_keys_only() -> None:
    """At AWS's SCP limit, Active keys are blocked; an Inactive key still observes."""
    other = "AKIABBBBBBBBBBBBBBBB"
    rules = AccountRules(unusable=KeyState.QUARANTINED, cannot_make_unusable="5 SCPs")
    memory = {other: KeyMemory(other, state=KeyState.INACTIVE, window_start=NOW)}
    decisions = decide(
        {KEY: KeyState.ACTIVE, other: KeyState.INACTIVE},
        memory,
        now=NOW,
        requested={KEY: WEEK, other: WEEK},
        rules=rules,
    )
    assert decisions[KEY].next is Next.BLOCKED
    assert decisions[KEY].reason == "5 SCPs"
    assert decisions[other].next is Next.OBSERVE


# -- the property: plan = status = run ---------------------------------------------------------


@dataclass
class Engine:
    """The engine wired to a fake account, as RootKeyManager and Organization wire it."""

    account: FakeAccount
    clock: FakeClock

    def __post_init__(self) -> None:
        self.ends: dict[tuple[str, datetime | None], datetime] = {}
        self.starts: dict[str, datetime | None] = {}
        self.journal = Journal(":memory:")
        self.emit = Emitter((), self.clock)
        self.emit.account_id = self.account.account_id
        self.stepper = Stepper(
            self.account,
            clock=self.clock,
            emit=self.emit,
            consistency_timeout=timedelta(0),
            journal=self.journal,
        )

    def plan(self, settings: Settings | None, *, deleted: bool = False) -> dict[str, PlannedKey]:
        _, keys = read_plan(
            self.account,
            journal=self.journal,
            settings=settings,
            now=self.clock.now,
            deleted=deleted,
        )
        return {k.key_id: k for k in keys}

    def run(self, settings: Settings, *, ok: bool, break_rollback: bool = False) -> RemovalReport:
        def fails(key: object) -> bool:
            if break_rollback:  # the undo fails too, once: the next pass must finish it
                if self.account.quarantine:
                    self.account.fail_next("DetachPolicy", times=2)
                else:
                    self.account.fail_next("UpdateAccessKey", times=2)
                    self.account.fail_next("UpdateSigningCertificate", times=2)
            return False

        return run_pass(
            self.account,
            settings,
            journal=self.journal,
            stepper=self.stepper,
            emit=self.emit,
            clock=self.clock,
            checks=() if ok else (fails,),
        )


WINDOWS = [timedelta(0), HOUR, DAY, 7 * DAY]
OPERATIONS = [
    "UpdateAccessKey",
    "AttachPolicy",
    "DetachPolicy",
    "DeleteAccessKey",
    "ListAccessKeys",
    "UpdateSigningCertificate",
    "DeleteSigningCertificate",
]

steps = st.one_of(
    st.tuples(st.just("run"), st.sampled_from(WINDOWS), st.booleans()),
    st.tuples(st.just("run, rollback fails"), st.sampled_from(WINDOWS)),
    st.tuples(st.just("advance"), st.sampled_from([HOUR, DAY, 3 * DAY, 8 * DAY])),
    st.tuples(st.just("usable"), st.integers(0, 3)),
    st.tuples(st.just("unusable"), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 3)),
    st.tuples(st.just("add"), st.booleans()),
    st.tuples(st.just("add certificate"), st.booleans()),
    st.tuples(st.just("resume"), st.just(0)),
    st.tuples(st.just("rollback"), st.just(0)),
    st.tuples(
        st.just("fault"), st.sampled_from(OPERATIONS), st.booleans(), st.sampled_from(WINDOWS)
    ),
)


def _key(account: FakeAccount, index: int) -> str | None:
    keys = sorted(account.statuses)
    return keys[index % len(keys)] if keys else None


def _check_reads_are_reads(engine: Engine, settings: Settings) -> dict[str, PlannedKey]:
    """Plan and status: the same next step and time; no change in AWS or the journal."""
    calls, records = (
        len(engine.account.mutations),
        engine.journal.records(engine.account.account_id),
    )
    plan = engine.plan(settings)
    asked = engine.plan(settings, deleted=True)
    bare = engine.plan(None, deleted=True)
    assert len(engine.account.mutations) == calls
    assert engine.journal.records(engine.account.account_id) == records
    assert_status_agrees(plan, bare)
    for key_id, planned in plan.items():
        event(f"{'member' if engine.account.quarantine else 'single'}: {planned.next.value}")
        assert (asked[key_id].next, asked[key_id].until) == (planned.next, planned.until)
        if planned.next in (Next.OBSERVE, Next.DELETE):  # a window starts once, and stays put
            assert engine.starts.setdefault(key_id, planned.since) == planned.since
        if planned.next in (Next.OBSERVE, Next.DELETE) and planned.until is not None:
            window = (key_id, planned.since)  # a later run may lengthen it, never shorten it
            assert planned.until >= engine.ends.get(window, planned.until)
            engine.ends[window] = planned.until
    return plan


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    member=st.booleans(),
    protected=st.booleans(),
    scps=st.sampled_from([0, 0, 5]),
    inactive=st.integers(0, 1),
    certificates=st.integers(0, 1),
    sign_in=st.booleans(),
    history=st.lists(steps, max_size=14),
)
def test_plan_status_and_run_tell_one_story(
    member: bool,
    protected: bool,
    scps: int,
    inactive: int,
    certificates: int,
    sign_in: bool,
    history: list[tuple[object, ...]],
) -> None:
    """Random histories, one account (keys and signing certificates) or a member account
    (keys, certificates, password and MFA): plan = status = the next pass."""
    account = FakeAccount(
        keys=2 - inactive,
        inactive=inactive,
        quarantine=member,
        scps=scps,
        certificates=certificates,
        password=member and sign_in,
        mfa=1 if member and sign_in else 0,
    )
    if protected and not member:
        account.signing_key_id = _key(account, 0)
    engine = Engine(account, FakeClock(NOW))
    for step in [*history, ("run", DAY, True)]:
        kind = step[0]
        if kind == "run":
            window, ok = step[1], step[2]
            assert isinstance(window, timedelta)
            assert isinstance(ok, bool)
            settings_ = Settings(window, None, HOUR)
            plan = _check_reads_are_reads(engine, settings_)
            report = engine.run(settings_, ok=ok)
            assert_the_run_did_the_plan(plan, report, account.key_states(), ok=ok)
        elif kind == "run, rollback fails":
            assert isinstance(step[1], timedelta)
            settings_ = Settings(step[1], None, HOUR)
            plan = _check_reads_are_reads(engine, settings_)
            report = engine.run(settings_, ok=False, break_rollback=True)
            account._failures.clear()
            assert_the_run_did_the_plan(plan, report, account.key_states(), ok=False)
        elif kind == "advance":
            assert isinstance(step[1], timedelta)
            engine.clock.advance(step[1])
        elif kind in ("usable", "unusable", "delete"):
            key_id = _key(account, int(step[1]))  # type: ignore[call-overload]
            if key_id is None or key_id == account.signing_key_id:
                continue
            if kind == "delete":
                account.delete_key(key_id)
            elif kind == "usable" and member:
                account.detach_quarantine()
            else:
                usable = kind == "usable"
                account.set_status(key_id, KeyStatus.ACTIVE if usable else KeyStatus.INACTIVE)
        elif kind == "add" and len(account.statuses) < 2:
            account.add_key(KeyStatus.ACTIVE if step[1] else KeyStatus.INACTIVE)
        elif kind == "add certificate" and not member and len(account.statuses) < 4:
            account.add_certificate(KeyStatus.ACTIVE if step[1] else KeyStatus.INACTIVE)
        elif kind == "resume":
            resume(account, journal=engine.journal, clock=engine.clock, emit=engine.emit)
        elif kind == "rollback":
            roll_back(
                account,
                journal=engine.journal,
                stepper=engine.stepper,
                clock=engine.clock,
                emit=engine.emit,
            )
        elif kind == "fault":
            operation, crash, window = step[1], step[2], step[3]
            assert isinstance(operation, str)
            assert isinstance(window, timedelta)
            account.fail_next(operation, crash=bool(crash))
            with contextlib.suppress(FakeCrash, RootKeysError):  # a pass may die or fail
                engine.run(Settings(window, None, HOUR), ok=True)
            account._failures.clear()
        assert account.deleted_while_usable == []
        if kind not in ("run", "advance") or step[2:3] == (False,):
            engine.ends.clear()  # a window may start over: failed, voided, resumed, rolled back
            engine.starts.clear()
    final = engine.plan(Settings(DAY, None, HOUR), deleted=True)
    assert all(
        k.next is not Next.ROLL_BACK or k.state is not KeyState.ACTIVE for k in final.values()
    )


def test_a_clean_history_converges_to_done() -> None:
    """The simplest story end to end: make unusable, observe, delete; done, nothing left."""
    account = FakeAccount(keys=2)
    engine = Engine(account, FakeClock(NOW))
    first = engine.run(Settings(DAY, None, HOUR), ok=True)
    assert first.outcome is RunOutcome.OBSERVING
    engine.clock.advance(DAY)
    last = engine.run(Settings(DAY, None, HOUR), ok=True)
    assert last.outcome is RunOutcome.DONE
    assert account.statuses == {}
