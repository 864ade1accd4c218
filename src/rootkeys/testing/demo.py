"""A walk-through of rootkeys on the built-in sandbox: ``python -m rootkeys.testing.demo``.

Part one is the main job: an account whose root user has two access keys; show the
plan, deactivate both, observe a short window with a health check, delete, verify.
Part two shows what happens when the check fails during the window: rollback. Part
three is the staged way for long windows: a run that returns at once, run again later.
The demo keeps its journal in a temporary directory, not in your own.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import rootkeys
from rootkeys.testing import Sandbox


def main(out: TextIO = sys.stdout, window: timedelta = timedelta(seconds=3)) -> int:
    """Run the demo, writing to ``out``; return 0 when it went as it should.

    Raises:
        InputError: ``window`` is not positive (the demo shows a window at work).
    """
    given: object = window
    if not isinstance(given, timedelta) or given <= timedelta(0):
        raise rootkeys.InputError(
            f"the demo's window must be positive, like 3s or 1m (got {window!r}): it shows "
            "checks running during a window"
        )

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    def show(event: rootkeys.Event) -> None:
        say(f"    hook: {event}")

    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        journal = rootkeys.Journal(Path(tmp) / "journal.sqlite3")
        account = sandbox.create_account(root_keys=2)
        sandbox.use_root_key(account.account_id, account.root_key_ids[0], service="s3")
        say("rootkeys demo, on the built-in sandbox (moto plus a root user; no AWS account).")
        say(f"Account {account.account_id}: the root user has two active access keys.")
        say("We sign in as root the way AWS CloudShell does, so neither key signs our session.")
        say()

        health_checks = 0

        def app_is_healthy(key: rootkeys.AccessKey) -> bool:
            """Stand-in for your health check: is everything that matters still working."""
            nonlocal health_checks
            health_checks += 1
            return True

        manager = rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id),
            account_id=account.account_id,
            hooks=[show],
            checks=[app_is_healthy],
            journal=journal,
        )
        say("1. The plan: nothing changes yet.")
        plan = manager.plan(observe_for=window)
        say(plan.table())
        say()
        say(f"2. Deactivate, observe for {window.total_seconds():g}s running the check, delete:")
        report = manager.remove_all(observe_for=window, check_interval=window / 3)
        say()
        say("3. The report:")
        say(report.table())
        remaining = manager.verify()
        say(f"\n   verify(): no root access key remains = {remaining}")
        say()

        say("4. And when something breaks during the window? A second account, a check that")
        say("   fails on its second run: every key this run deactivated is made Active again.")
        other = sandbox.create_account(root_keys=1)
        runs = 0

        def breaks_later(key: rootkeys.AccessKey) -> rootkeys.CheckResult:
            nonlocal runs
            runs += 1
            if runs >= 2:
                return rootkeys.CheckResult(False, "nightly backup job failed: 403 from S3")
            return rootkeys.CheckResult(True)

        careful = rootkeys.RootKeyManager(
            sandbox.root_session(other.account_id),
            hooks=[show],
            checks=[breaks_later],
            journal=journal,
        )
        rolled = careful.remove_all(observe_for=window, check_interval=window / 3)
        say()
        say(rolled.table())
        say()

        say("5. The staged way, for windows of days: remove_all(wait=False) does what is safe")
        say("   now and returns; run it again (daily, from a scheduler) and it converges. The")
        say("   journal remembers when each window started.")
        staged_account = sandbox.create_account(root_keys=2)

        def staged_manager() -> rootkeys.RootKeyManager:  # a new process each time, really
            return rootkeys.RootKeyManager(
                sandbox.root_session(staged_account.account_id), journal=journal
            )

        first = staged_manager().remove_all(observe_for=window, wait=False)
        say(f"   first run: {first.outcome.value}")
        say(staged_manager().status().table())
        time.sleep(window.total_seconds())
        second = staged_manager().remove_all(observe_for=window, wait=False)
        say(f"   a window later: {second.outcome.value}")
        say(staged_manager().history(staged_account.root_key_ids[0]).table())
        say()
        ok = (
            report.outcome is rootkeys.RunOutcome.DONE
            and remaining
            and health_checks > 0
            and rolled.outcome is rootkeys.RunOutcome.ROLLED_BACK
            and all(
                k.status is rootkeys.lifecycle.KeyStatus.ACTIVE
                for k in sandbox.root_keys(other.account_id)
            )
            and first.outcome is rootkeys.RunOutcome.OBSERVING
            and second.outcome is rootkeys.RunOutcome.DONE
        )
        journal.close()
        say(
            "Demo finished as expected: deleted after a clean window, rolled back on failure, "
            "and staged across runs."
            if ok
            else "Demo did NOT go as expected."
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
