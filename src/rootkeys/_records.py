"""The journal's records: what rootkeys remembers of each key, one record at a time.

Every record names an account, a key and the run that wrote it, and says one thing
(`RecordKind`): a key seen, a change intended and its outcome, a window started and how
long it is, checks passed or failed, a hold lifted. Never a secret.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rootkeys._findings import KeyEvidence
from rootkeys._models import AccountId, Action, CredentialId, KeyState, StepStatus
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular, ago, clip, span, stamp

__all__ = ["JournalRecord", "KeyHistory", "RecordKind", "summary"]


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
    key_id: CredentialId
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
    key_id: CredentialId
    records: tuple[JournalRecord, ...]

    def _table(self, wide: bool = False) -> Table:
        title = f"History of {self.key_id} in account {self.account_id}"
        rows: list[tuple[str, ...]]
        if wide:
            rows = [
                (f"{r.at:%Y-%m-%d %H:%M:%S}Z", r.kind.value, r.run_id, summary(r, wide=True))
                for r in self.records
            ]
            return Table(title, ("at", "record", "run", "what"), rows, empty="no records")
        rows = [(stamp(r.at), r.kind.value, summary(r)) for r in self.records]
        return Table(title, ("at", "record", "what"), rows, empty="no records")


def summary(record: JournalRecord, *, wide: bool = False) -> str:
    """What a record says, for people: its fields and detail in a phrase, never raw JSON.

    ``wide`` keeps everything (a legacy evidence record's every finding); compact cuts
    an evidence record to its last use and an odd detail to 500 characters.
    """
    action = record.action.value if record.action else ""
    if record.kind is RecordKind.EVIDENCE:
        return _evidence(record, wide)
    detail = record.detail if wide else clip(record.detail, 500)
    if _is_json(detail):
        detail = "structured detail (see table(wide=True) or JSON)" if not wide else detail
    what = ""
    if record.kind is RecordKind.INTENT and action:
        what = f"{action} ({_state(record.from_state)} → {_state(record.to_state)})"
    elif record.kind is RecordKind.OUTCOME and record.status:
        code = f" [{record.error_code}]" if record.error_code else ""
        what = f"{action} {record.status.value}{code}".strip()
    elif record.kind is RecordKind.WINDOW and record.window is not None:
        length = span(record.window)
        why = detail.removesuffix(f": {length}")
        return f"window {length}" + (f" ({why})" if why else "")
    elif record.to_state:  # a sighting: what was seen, then the state it was seen in
        return ": ".join(part for part in (detail, record.to_state.value) if part)
    return ": ".join(part for part in (what, detail) if part)


def _state(state: KeyState | None) -> str:
    return state.value if state else "?"


def _is_json(text: str) -> bool:
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _evidence(record: JournalRecord, wide: bool) -> str:
    """A legacy evidence record (its detail is a `KeyEvidence` as JSON), in words."""
    try:
        found = KeyEvidence.model_validate_json(record.detail)
    except ValueError:
        return "evidence recorded (unreadable)"
    if wide:
        table = found._table(wide=True)
        return "; ".join(f"{label}: {value}" for label, value in table.rows)
    used = found.last_used
    iam = "IAM: never used"
    if used is not None:
        where = ", ".join(p for p in (used.service, used.region) if p)
        iam = f"IAM: last used {ago(used.at, record.at)} ({where})"
    trail = found.cloudtrail
    if trail is None:
        cloudtrail = f"CloudTrail unavailable: {clip(found.unavailable or '', 80)}"
    elif not trail.events or trail.last_seen is None:
        cloudtrail = f"CloudTrail: no events in {len(trail.regions)} region(s)"
    else:
        more = "" if trail.complete else "+"
        cloudtrail = (
            f"CloudTrail: {trail.events}{more} events, last {ago(trail.last_seen, record.at)}"
        )
        if trail.source_ips:
            cloudtrail += f" from {trail.source_ips[0].value}"
    return f"{cloudtrail}; {iam}"


rehome(globals())
