"""What the journal remembers of each key, and how it is reconciled with AWS.

`replay` folds an account's records into one `KeyMemory` per key. `reconcile` compares
that memory with what IAM shows now and returns the records that make the journal true
again: outcomes for intents a crash left open, keys seen for the first time, windows
started, windows voided by someone else's reactivation, keys deleted by someone else.
Both are pure: callers decide whether to write the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys._models import Action, KeyState, StepStatus
from rootkeys._records import JournalRecord, RecordKind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["KeyMemory", "reconcile", "replay"]

_UNUSABLE = (Action.DEACTIVATE, Action.QUARANTINE)
_USABLE = (Action.REACTIVATE, Action.RELEASE)
_VOID = (
    "Active again during its window: reactivated outside rootkeys; it will not be "
    "deactivated again until it is resumed"
)
_VOID_QUARANTINE = (
    "Active again during its window: the account's quarantine SCP was detached outside "
    "rootkeys; it will not be quarantined again until it is resumed"
)


@dataclass
class KeyMemory:
    """One key as the journal knows it."""

    key_id: str
    state: KeyState | None = None
    """The last state the journal saw or made."""
    window_start: datetime | None = None
    """When the key's current observation window started (None: not observing)."""
    window: timedelta | None = None
    """How long the current window lasts, as a run set it (None: not set yet)."""
    window_reason: str = ""
    """Why the window is that long (the policy's reason, or the window asked for)."""
    deactivated_by_rootkeys: bool = False
    """Whether the key's unusable state is rootkeys' doing (a rollback undoes it)."""
    hold: str | None = None
    """Why rootkeys will not deactivate the key again on its own, if it will not."""
    hold_since: datetime | None = None
    """When the hold began."""
    pending: JournalRecord | None = None
    """An intent with no outcome: a run stopped mid-change."""
    gone_at: datetime | None = None
    records: list[JournalRecord] = field(default_factory=list)

    @property
    def rollback_pending(self) -> bool:
        """Whether a check failed and rootkeys has not yet made the key usable again."""
        return (
            self.hold is not None
            and self.deactivated_by_rootkeys
            and self.state in (KeyState.INACTIVE, KeyState.QUARANTINED)
        )


def replay(records: Sequence[JournalRecord]) -> dict[str, KeyMemory]:
    """Fold records (oldest first) into what the journal knows of each key."""
    keys: dict[str, KeyMemory] = {}
    for record in records:
        memory = keys.setdefault(record.key_id, KeyMemory(record.key_id))
        memory.records.append(record)
        _apply(memory, record)
    return keys


def _apply(memory: KeyMemory, record: JournalRecord) -> None:
    kind = record.kind
    if kind is RecordKind.SEEN:
        if memory.state is not None and record.to_state is not memory.state:
            memory.deactivated_by_rootkeys = False  # changed by someone else: not ours to undo
        memory.state = record.to_state
        memory.gone_at = None
    elif kind is RecordKind.INTENT:
        memory.pending = record
    elif kind is RecordKind.OUTCOME:
        if record.status is StepStatus.UNVERIFIED:
            return  # made or not, unseen: the intent stays pending until a reconcile settles it
        memory.pending = None
        if record.status in (StepStatus.DONE, StepStatus.ALREADY_DONE) and record.to_state:
            memory.state = record.to_state
            if record.action in _UNUSABLE:  # its window starts when it is seen done
                memory.deactivated_by_rootkeys = True
                _start(memory, record.at)
                memory.hold = memory.hold_since = None  # a deliberate deactivation starts over
            elif record.action in _USABLE:
                memory.deactivated_by_rootkeys = False
                _start(memory, None)
            elif record.action is Action.DELETE:
                _start(memory, None)
                memory.gone_at = record.at
    elif kind is RecordKind.WINDOW_STARTED:
        _start(memory, record.at)
    elif kind is RecordKind.WINDOW:
        memory.window = record.window
        memory.window_reason = record.detail
    elif kind is RecordKind.WINDOW_FAILED:  # the window is void; a new one must start over
        _start(memory, None)
        memory.hold = record.detail or "a check failed during its window"
        memory.hold_since = record.at
    elif kind is RecordKind.WINDOW_VOID:
        _start(memory, None)
        memory.deactivated_by_rootkeys = False
        memory.state = KeyState.ACTIVE
        memory.hold = record.detail or "reactivated outside rootkeys during its window"
        memory.hold_since = record.at
    elif kind is RecordKind.RESUMED:
        memory.hold = memory.hold_since = None
    elif kind is RecordKind.GONE:
        memory.state = KeyState.DELETED
        _start(memory, None)
        memory.gone_at = record.at


def _start(memory: KeyMemory, at: datetime | None) -> None:
    """A new window starts at ``at`` (None: none runs); its length is set afresh."""
    memory.window_start = at
    memory.window = None
    memory.window_reason = ""


def reconcile(
    account_id: str,
    memory: Mapping[str, KeyMemory],
    states: Mapping[str, KeyState],
    now: datetime,
    run_id: str,
) -> list[JournalRecord]:
    """The records that bring the journal in line with the keys' ``states`` as of ``now``.

    They are returned unsaved (``seq`` 0); `replay` of the old records plus these gives
    what the journal will know once they are written.
    """
    out: list[JournalRecord] = []

    def add(key_id: str, kind: RecordKind, **fields: Any) -> None:
        out.append(
            JournalRecord(
                seq=0,
                at=now,
                account_id=account_id,
                key_id=key_id,
                run_id=run_id,
                kind=kind,
                **fields,
            )
        )

    for key_id, known in memory.items():
        seen = states.get(key_id)
        actual = KeyState.DELETED if seen is None else seen
        if known.pending is not None:
            intent = known.pending
            made = intent.to_state is actual
            add(
                key_id,
                RecordKind.OUTCOME,
                action=intent.action,
                from_state=intent.from_state,
                to_state=actual,
                status=StepStatus.DONE if made else StepStatus.FAILED,
                error_code=None if made else "Interrupted",
                intent_seq=intent.seq,
                detail="reconciled after an interrupted or unconfirmed change: it had "
                + ("been made" if made else "not been made"),
            )
            if made:  # a deactivation found done starts its window now (the outcome's time)
                continue
        if seen is None:
            if known.state is not KeyState.DELETED:
                add(
                    key_id,
                    RecordKind.GONE,
                    to_state=KeyState.DELETED,
                    detail="deleted outside rootkeys",
                )
            continue
        if known.window_start is not None and actual is KeyState.ACTIVE:
            add(
                key_id,
                RecordKind.WINDOW_VOID,
                to_state=KeyState.ACTIVE,
                detail=_VOID_QUARANTINE if known.state is KeyState.QUARANTINED else _VOID,
            )
            continue
        changed = known.state is not None and known.state is not actual
        if known.state is None:  # known only from evidence so far: this is its first sighting
            add(key_id, RecordKind.SEEN, to_state=actual, detail="first seen")
        elif changed:  # by someone else: no longer rootkeys' to roll back (see `_apply`)
            add(key_id, RecordKind.SEEN, to_state=actual, detail="changed outside rootkeys")
        pending = known.hold is not None and known.deactivated_by_rootkeys and not changed
        if actual is not KeyState.ACTIVE and known.window_start is None and not pending:
            add(
                key_id, RecordKind.WINDOW_STARTED, detail=f"found {actual.value}; window starts now"
            )
    for key_id, state in states.items():
        if key_id not in memory:
            add(key_id, RecordKind.SEEN, to_state=state, detail="first seen")
            if state is not KeyState.ACTIVE:
                add(
                    key_id,
                    RecordKind.WINDOW_STARTED,
                    detail=f"first seen {state.value}; window starts now",
                )
    return out
