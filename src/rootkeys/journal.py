"""The journal: where every intended change, its outcome and each key's window are recorded."""

from rootkeys._journal import Journal, Lease, default_journal_path
from rootkeys._records import JournalRecord, KeyHistory, RecordKind

__all__ = [
    "Journal",
    "JournalRecord",
    "KeyHistory",
    "Lease",
    "RecordKind",
    "default_journal_path",
]
