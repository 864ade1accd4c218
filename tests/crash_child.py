"""A rootkeys run in a child process that SIGKILLs itself at one step boundary.

Run by tests/test_crash.py against the parent's sandbox (over loopback HTTP). Settings
come from the environment:

- ROOTKEYS_JOURNAL: the journal file;
- ROOTKEYS_OFFSET: seconds to add to the real clock (so the parent can move time);
- ROOTKEYS_WINDOW: the observation window, in seconds;
- ROOTKEYS_KILL_AT: ``<boundary>:<action>``, boundary one of ``intent`` (after the intent
  is committed), ``call`` (after the AWS call returns), ``outcome`` (just before the
  outcome is written); action one of ``deactivate``, ``delete``; ``<boundary>:<action>:cert``
  kills at that boundary of a signing certificate's change instead. Empty: no kill.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

import rootkeys
from rootkeys import _iam, _journal, _records


class OffsetClock:
    def __init__(self, offset: float) -> None:
        self.offset = timedelta(seconds=offset)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill_at: str) -> None:
    boundary, action, *what = kill_at.split(":")
    cert = what == ["cert"]
    append = _journal.Journal.append
    credential = rootkeys.lifecycle.CredentialKind

    def append_then_maybe_die(self: _journal.Journal, **fields: Any) -> Any:
        is_cert = credential.of(str(fields.get("key_id"))) is credential.CERTIFICATES
        is_ours = fields.get("action") is rootkeys.lifecycle.Action(action) and is_cert == cert
        kind = fields.get("kind")
        if boundary == "outcome" and is_ours and kind is _records.RecordKind.OUTCOME:
            die()
        written = append(self, **fields)
        if boundary == "intent" and is_ours and kind is _records.RecordKind.INTENT:
            die()
        return written

    _journal.Journal.append = append_then_maybe_die  # type: ignore[method-assign]
    names = {"deactivate": "set_status", "delete": "delete_key"}
    if cert:
        names = {"deactivate": "set_certificate_status", "delete": "delete_certificate"}
    name = names[action]
    call = getattr(_iam.IamGateway, name)

    def call_then_die(self: _iam.IamGateway, *args: Any) -> Any:
        result = call(self, *args)
        if boundary == "call":
            die()
        return result

    setattr(_iam.IamGateway, name, call_then_die)


def main() -> int:
    kill_at = os.environ.get("ROOTKEYS_KILL_AT", "")
    if kill_at:
        arm(kill_at)
    manager = rootkeys.RootKeyManager(
        boto3.Session(),
        journal=os.environ["ROOTKEYS_JOURNAL"],
        clock=OffsetClock(float(os.environ.get("ROOTKEYS_OFFSET", "0"))),
        consistency_timeout=timedelta(seconds=5),
    )
    window = timedelta(seconds=float(os.environ["ROOTKEYS_WINDOW"]))
    report = manager.remove_all(observe_for=window, wait=False)
    print(report.outcome.value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
