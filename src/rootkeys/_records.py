"""The journal's records: what rootkeys remembers of each key, one record at a time.

Every record names an account, a key and the run that wrote it, and says one thing
(`RecordKind`): a key seen, a change intended and its outcome, a window started and how
long it is, checks passed or failed, a hold lifted. Never a secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rootkeys._models import AccessKeyId, AccountId, Action, KeyState, StepStatus
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular

__all__ = ["JournalRecord", "KeyHistory", "RecordKind"]


class RecordKind(StrEnum):
    """What a journal record says."""

    SEEN = "seen"
    """First sighting of a key, with its state (``to_state``)."""
    INTENT = "intent"
    """A change about to be made (``action``, ``from_state`` → ``to_state``)."""
    OUTCOME = "outcome"
    """How an intended change ended (``status``, ``error_code``; ``intent_seq``)."""
    WINDOW_STARTED = "window started"
    """The key is unusable; its observation window starts at ``at``."""
    WINDOW = "window"
    """The length of the key's observation window (``window``; ``detail``: why). Written
    when the window starts and whenever a later run lengthens it; never shortened."""
    CHECKS_PASSED = "checks passed"
    """A run's checks all passed for the key."""
    WINDOW_FAILED = "window failed"
    """A check failed during the key's window (``detail`` says which and why)."""
    WINDOW_VOID = "window void"
    """The key was found Active again during its window: made so outside rootkeys."""
    GONE = "gone"
    """The key disappeared without a delete of rootkeys'."""
    RESUMED = "resumed"
    """A person lifted the key's hold (`RootKeyManager.resume`): the next run starts it over."""
    EVIDENCE = "evidence"
    """What a plan found of the key's use. Written by rootkeys before 0.2 only (a plan
    writes nothing now); read and ignored."""


class JournalRecord(BaseModel):
    """One record of the journal. Never holds a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    seq: int
    at: datetime
    account_id: AccountId
    key_id: AccessKeyId
    run_id: str
    kind: RecordKind
    action: Action | None = None
    from_state: KeyState | None = None
    to_state: KeyState | None = None
    status: StepStatus | None = None
    error_code: str | None = None
    detail: str = ""
    intent_seq: int | None = None
    window: timedelta | None = None


class KeyHistory(Tabular, BaseModel):
    """A key's journal records, oldest first."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: AccountId
    key_id: AccessKeyId
    records: tuple[JournalRecord, ...]

    def _table(self) -> Table:
        rows = [
            (f"{r.at:%Y-%m-%d %H:%M:%S}", r.kind.value, _what(r), r.run_id, r.detail)
            for r in self.records
        ]
        return Table(
            f"History of {self.key_id} in account {self.account_id}",
            ("at (UTC)", "record", "what", "run", "detail"),
            rows,
            empty="no records",
        )


def _what(record: JournalRecord) -> str:
    if record.kind is RecordKind.INTENT and record.action:
        from_, to = record.from_state, record.to_state
        return (
            f"{record.action.value} ({from_.value if from_ else '?'} → {to.value if to else '?'})"
        )
    if record.kind is RecordKind.OUTCOME and record.status:
        code = f" [{record.error_code}]" if record.error_code else ""
        return f"{record.action.value if record.action else ''}: {record.status.value}{code}"
    if record.kind is RecordKind.WINDOW and record.window is not None:
        return str(record.window)
    if record.to_state:
        return record.to_state.value
    return ""


rehome(globals())
