"""The engine: plans, statuses and passes, for one account and for member accounts alike.

An entry class (`RootKeyManager`, `Organization`) hands the engine an `Account`: the
adapter of one kind of account (its `KeyGateway`, how its caller is proven root, its
`AccountRules`). The engine then does the same thing for every kind:

- `read_plan`: read the keys and the journal, reconcile in memory only, `decide`: a
  plan or a status. Nothing is written, in AWS or in the journal.
- `run_pass`: hold the account's journal lock, reconcile (written), `decide`, and let an
  `AccountPass` act on the decisions.
- `resume`, `roll_back`: the explicit calls that move held keys on, or undo.

`rootkeys._driver` runs passes over 1..N accounts and waits between them.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Protocol

from rootkeys._decide import AccountRules, Decision, Next, Settings, decide
from rootkeys._errors import KeyNotFoundError
from rootkeys._models import (
    ALL_KINDS,
    AccessKey,
    CredentialKind,
    KeyState,
    Step,
    StepResult,
    StepStatus,
)
from rootkeys._observe import EventKind
from rootkeys._pass import AccountPass
from rootkeys._reconcile import KeyMemory, reconcile, replay
from rootkeys._records import RecordKind
from rootkeys._reports import PlannedKey, RemovalReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from datetime import datetime

    from rootkeys._change import KeyGateway, Stepper
    from rootkeys._clock import Clock
    from rootkeys._findings import KeyEvidence, Risk
    from rootkeys._journal import Journal
    from rootkeys._models import CallerIdentity
    from rootkeys._observe import Check, Emitter
    from rootkeys._records import JournalRecord

__all__ = [
    "Account",
    "Settings",
    "new_run_id",
    "read_plan",
    "reconciled",
    "resume",
    "roll_back",
    "run_pass",
    "step_result",
]

log = logging.getLogger("rootkeys")


def new_run_id() -> str:
    """A short id naming one pass (or one explicit step) in reports and the journal."""
    return uuid.uuid4().hex[:12]


class Account(Protocol):
    """One account as the engine sees it: the adapter of one kind of account."""

    @property
    def account_id(self) -> str:
        """The account's id."""
        ...

    @property
    def gateway(self) -> KeyGateway:
        """Its root keys' reads and writes."""
        ...

    def prove_root(self) -> CallerIdentity:
        """Who signs: must be the account's root user (or an AssumeRoot session in it).

        Raises:
            NotRootError: it is not; nothing may change.
        """
        ...

    def rules(self, states: Mapping[str, KeyState]) -> AccountRules:
        """What this kind of account changes in the decision, for keys in ``states``."""
        ...

    def last_sign_in(self) -> datetime | None:
        """When the root user last signed in with its password (None: never, or no password).

        Read only when a policy's ``sign_in_blocks`` asks, in an account made unusable by
        a quarantine (one account's deactivated keys leave the console alone: None).
        """
        ...


# -- reading: plans and statuses ---------------------------------------------------------------


def covered(
    journal: Journal, account_id: str, kinds: frozenset[CredentialKind]
) -> list[JournalRecord]:
    """The account's records of credentials of ``kinds`` (what a gateway over them lists).

    A run over access keys alone must not take the journal's certificates for deleted
    because its listing does not show them, and the other way round.
    """
    records = journal.records(account_id)
    if kinds == ALL_KINDS:
        return records
    return [r for r in records if CredentialKind.of(r.key_id) in kinds]


def remembered(
    journal: Journal,
    account_id: str,
    states: Mapping[str, KeyState],
    now: datetime,
    kinds: frozenset[CredentialKind] = ALL_KINDS,
) -> dict[str, KeyMemory]:
    """What the journal knows of each credential of ``kinds``, reconciled in memory only."""
    records = covered(journal, account_id, kinds)
    return replay([*records, *reconcile(account_id, replay(records), states, now, "")])


def read_plan(
    account: Account,
    *,
    journal: Journal,
    settings: Settings | None,
    now: Callable[[], datetime],
    evidence: Callable[[Sequence[AccessKey]], Mapping[str, KeyEvidence]] | None = None,
    deleted: bool = False,
    last_used: bool = True,
) -> tuple[CallerIdentity, tuple[PlannedKey, ...]]:
    """Each key's decision, read-only: what the next run does (and, ``deleted``, the gone).

    Without ``settings`` (a status), windows are the remembered ones only. ``last_used``:
    read each key's last use (a plan shows it; a status need not).
    """
    identity = account.prove_root()
    keys = account.gateway.list_keys(last_used=last_used or evidence is not None)
    found = evidence(keys) if evidence is not None else {}
    at = now()
    states = {k.key_id: k.state for k in keys}
    memory = remembered(journal, account.account_id, states, at, account.gateway.kinds)
    rules = account.rules(states)
    if settings is not None:
        rules = settings.restrict(rules, keys, at, account.last_sign_in)
    requested, risks = (
        settings.requested(keys, memory, found, at, account.account_id) if settings else ({}, {})
    )
    decisions = decide(
        states,
        memory,
        now=at,
        requested=requested,
        protected=identity.signing_key_id,
        rules=rules,
        account_id=account.account_id,
    )
    planned = [
        _planned(decisions[k.key_id], k, found.get(k.key_id), risks.get(k.key_id), rules)
        for k in keys
    ]
    if deleted:
        planned += [
            _planned(
                Decision(key_id, KeyState.DELETED, Next.DONE, "deleted", since=known.gone_at),
                None,
                None,
                None,
                rules,
            )
            for key_id, known in memory.items()
            if key_id not in states and known.gone_at is not None
        ]
    return identity, tuple(planned)


def _planned(
    d: Decision,
    key: AccessKey | None,
    evidence: KeyEvidence | None,
    risk: Risk | None,
    rules: AccountRules,
) -> PlannedKey:
    return PlannedKey(
        key_id=d.key_id,
        state=d.state,
        next=d.next,
        reason=d.reason,
        window=d.window,
        window_reason=d.window_reason,
        since=d.since,
        until=d.until,
        resume=d.resume,
        key=key,
        evidence=evidence,
        risk=risk,
        unusable=rules.unusable,
    )


# -- acting: one pass --------------------------------------------------------------------------


@contextlib.contextmanager
def reconciled(
    journal: Journal,
    account_id: str,
    read_states: Callable[[], Mapping[str, KeyState]],
    *,
    clock: Clock,
    emit: Emitter,
    run_id: str,
    kinds: frozenset[CredentialKind] = ALL_KINDS,
) -> Iterator[dict[str, KeyMemory]]:
    """Hold the account's journal lock, and bring the journal in line with AWS first.

    Yields what the journal knows of each credential once reconciled. ``kinds``: the
    kinds ``read_states`` lists (the journal's others are left alone).
    """
    with journal.lock(account_id):
        records = covered(journal, account_id, kinds)
        found = reconcile(account_id, replay(records), read_states(), clock.now(), run_id)
        for record in found:
            journal.append(**record.model_dump(exclude={"seq"}))
            emit(
                EventKind.RECONCILED,
                key_id=record.key_id,
                message=f"{record.kind.value}: {record.detail}",
            )
        yield replay([*records, *found])


def run_pass(
    account: Account,
    settings: Settings,
    *,
    journal: Journal,
    stepper: Stepper,
    emit: Emitter,
    clock: Clock,
    checks: Sequence[Check],
    evidence: Callable[[Sequence[AccessKey]], Mapping[str, KeyEvidence]] | None = None,
    after: Callable[[RemovalReport, Mapping[str, KeyMemory]], None] | None = None,
    run_id: str | None = None,
) -> RemovalReport:
    """One pass over the account, under its journal lock; ``after`` runs inside the lock.

    ``run_id`` names the run the pass belongs to (every pass of one blocking run shares
    it); by default the pass is a run of its own.
    """
    identity = account.prove_root()  # before any change
    run_id = run_id or new_run_id()
    gateway = account.gateway
    with reconciled(
        journal,
        account.account_id,
        gateway.key_states,
        clock=clock,
        emit=emit,
        run_id=run_id,
        kinds=gateway.kinds,
    ) as memory:
        keys = gateway.list_keys(last_used=settings.needs_evidence)
        now = clock.now()
        undecided = [
            k
            for k in keys
            if not _window_known(memory.get(k.key_id))
            and settings.chosen(k.key_id, account.account_id) is None
        ]
        found = evidence(undecided) if evidence is not None and undecided else {}
        requested, _ = settings.requested(keys, memory, found, now, account.account_id)
        states = {k.key_id: k.state for k in keys}
        rules = settings.restrict(account.rules(states), keys, now, account.last_sign_in)
        decisions = decide(
            states,
            memory,
            now=now,
            requested=requested,
            protected=identity.signing_key_id,
            rules=rules,
            account_id=account.account_id,
        )
        report = AccountPass(
            account_id=account.account_id,
            gateway=gateway,
            stepper=stepper,
            emit=emit,
            clock=clock,
            checks=checks,
            journal=journal,
            run_id=run_id,
            unusable=rules.unusable,
            window=settings.longest,
        ).run(keys, decisions, memory)
        if after is not None:
            after(report, memory)
        return report


def _window_known(known: KeyMemory | None) -> bool:
    return known is not None and known.window is not None


# -- explicit: resume and roll back ------------------------------------------------------------


def resume(
    account: Account,
    *,
    journal: Journal,
    clock: Clock,
    emit: Emitter,
    key_id: str | None = None,
) -> tuple[str, ...]:
    """Lift the hold on every held key (or on ``key_id``): journal only, under the lock.

    Raises:
        KeyNotFoundError: ``key_id`` is neither listed nor remembered.
    """
    account.prove_root()
    resumed: list[str] = []
    with _locked(account, journal, clock, emit) as (run_id, memory):
        if key_id is not None and key_id not in memory:
            raise KeyNotFoundError(key_id, account.account_id)
        for known in memory.values():
            if known.hold is None or key_id not in (None, known.key_id):
                continue
            journal.append(
                account_id=account.account_id,
                key_id=known.key_id,
                run_id=run_id,
                kind=RecordKind.RESUMED,
                at=clock.now(),
                detail=f"resumed by a person (was on hold: {known.hold})",
            )
            resumed.append(known.key_id)
    return tuple(resumed)


def roll_back(
    account: Account,
    *,
    journal: Journal,
    stepper: Stepper,
    clock: Clock,
    emit: Emitter,
    key_id: str | None = None,
    why: str = "rolled back on request",
    finally_: Callable[[], object] | None = None,
) -> tuple[StepResult, ...]:
    """Make usable again what rootkeys made unusable (or ``key_id``), and hold it.

    Each key is recorded as a failed window first (so it is held: no run makes it
    unusable again until it is resumed), then made usable. In a member account the
    quarantine is account-wide: every quarantined key is released with it.
    ``finally_`` runs last, still under the account's lock (a member's guardrail
    detached), so no other run can quarantine the account in between.

    Raises:
        KeyNotFoundError: ``key_id`` is not listed.
    """
    identity = account.prove_root()  # before any change
    results: list[StepResult] = []
    with _locked(account, journal, clock, emit) as (run_id, memory):
        states = account.gateway.key_states()
        if key_id is not None and key_id not in states:
            raise KeyNotFoundError(key_id, account.account_id)
        wide = account.rules(states).account_wide
        for found, current in states.items():
            known = memory.get(found)
            if key_id not in (None, found) or current.usable or found == identity.signing_key_id:
                continue
            ours = known is not None and known.deactivated_by_rootkeys
            if not (ours or (wide and current is KeyState.QUARANTINED)):
                continue
            if known is None or known.hold is None:
                journal.append(
                    account_id=account.account_id,
                    key_id=found,
                    run_id=run_id,
                    kind=RecordKind.WINDOW_FAILED,
                    at=clock.now(),
                    detail=why,
                )
            step = stepper.change(found, current, KeyState.ACTIVE, [], run_id=run_id)
            results.append(step_result(account.account_id, found, current, KeyState.ACTIVE, step))
        if finally_ is not None:
            finally_()
    return tuple(results)


@contextlib.contextmanager
def _locked(
    account: Account, journal: Journal, clock: Clock, emit: Emitter
) -> Iterator[tuple[str, dict[str, KeyMemory]]]:
    """A new run id, and the account's lock held with the journal reconciled."""
    run_id = new_run_id()
    read = account.gateway.key_states
    kinds = account.gateway.kinds
    with reconciled(
        journal, account.account_id, read, clock=clock, emit=emit, run_id=run_id, kinds=kinds
    ) as memory:
        yield run_id, memory


def step_result(
    account_id: str, key_id: str, current: KeyState, target: KeyState, step: Step
) -> StepResult:
    """What an explicit step did, as `StepResult`."""
    return StepResult(
        account_id=account_id,
        key_id=key_id,
        action=step.action,
        from_state=current,
        to_state=current if step.status is StepStatus.UNVERIFIED else target,
        step=step,
    )
