"""A process holding a journal lease, for tests/test_journal_contract.py.

``python -m tests.journal_child MODE LOCATION ACCOUNT`` with the journal's lease length
in ``ROOTKEYS_LEASE`` (seconds). For a DynamoDB location, the AWS_* variables point at
the parent's sandbox endpoint.

- ``race``: wait until ``ROOTKEYS_START`` (epoch seconds), take the account's lease, and
  act (an intent and its outcome) only if nobody has yet; print ``acted`` or ``saw``.
- ``hold``: take the lease, write an intent, print ``held``; then wait for the file
  ``ROOTKEYS_GO`` and write the outcome: print ``wrote``, or ``fenced`` (exit 3) if the
  lease was taken over meanwhile.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import rootkeys
from rootkeys.errors import JournalFencedError

KEY = "AKIAIOSFODNN7EXAMPLE"


def main() -> int:
    mode, location, account = sys.argv[1:4]
    lease = timedelta(seconds=float(os.environ.get("ROOTKEYS_LEASE", "60")))
    journal = rootkeys.Journal.open(location, lease=lease, lock_timeout=timedelta(seconds=30))
    run = f"pid-{os.getpid()}"
    fields = {"account_id": account, "key_id": KEY, "run_id": run}
    if mode == "race":
        time.sleep(max(0.0, float(os.environ["ROOTKEYS_START"]) - time.time()))
        with journal.lock(account):
            if any(r.kind == "intent" for r in journal.records(account)):
                print("saw", flush=True)
                return 0
            intent = journal.append(kind="intent", action="deactivate", **fields)
            time.sleep(0.2)  # the other process tries meanwhile
            journal.append(kind="outcome", status="done", intent_seq=intent.seq, **fields)
            print("acted", flush=True)
        return 0
    go = Path(os.environ["ROOTKEYS_GO"])
    with journal.lock(account):
        intent = journal.append(kind="intent", action="deactivate", **fields)
        print("held", flush=True)
        while not go.exists():
            time.sleep(0.02)
        try:
            journal.append(kind="outcome", status="done", intent_seq=intent.seq, **fields)
        except JournalFencedError:
            print("fenced", flush=True)
            return 3
        print("wrote", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
