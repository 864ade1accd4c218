"""A Lambda invocation in a child process that SIGKILLs itself in the middle of an account.

Run by tests/test_aws_lambda_crash.py against the parent's sandbox (over loopback HTTP),
as Lambda would run `rootkeys.aws_lambda.Handler`: the configuration and journal from
the environment (``ROOTKEYS_CONFIG_TOML``, ``ROOTKEYS_JOURNAL``), the management
account's credentials from ``AWS_*``. Settings of the test itself:

- ROOTKEYS_OFFSET: seconds to add to the real clock (so the parent can move time);
- ROOTKEYS_LEASE: seconds an account's lease lasts (short: the parent takes over soon);
- ROOTKEYS_KILL_AT: ``<action>:<account id>``: the process dies right after the AWS call
  of that change (``quarantine`` or ``delete``) in that account, before its outcome is
  written. Empty: no kill.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

import boto3

from rootkeys import _scheduled
from rootkeys._journal import Journal
from rootkeys._member_keys import MemberGateway
from rootkeys.aws_lambda import Handler
from rootkeys.lifecycle import Action


class OffsetClock:
    def __init__(self, offset: float) -> None:
        self.offset = timedelta(seconds=offset)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:999988887777:function:rootkeys"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def arm(kill_at: str) -> None:
    action, account_id = kill_at.split(":")
    make = MemberGateway.make

    def make_then_die(self: MemberGateway, step: Action, key_id: str) -> None:
        make(self, step, key_id)
        if step is Action(action) and self.account_id == account_id:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    MemberGateway.make = make_then_die  # type: ignore[method-assign,assignment]


def short_leases(seconds: float) -> None:
    def opened(location: str, session: boto3.Session) -> Journal:
        return Journal.open(location, session=session, lease=timedelta(seconds=seconds))

    _scheduled._opened = opened


def main() -> int:
    short_leases(float(os.environ.get("ROOTKEYS_LEASE", "60")))
    kill_at = os.environ.get("ROOTKEYS_KILL_AT", "")
    if kill_at:
        arm(kill_at)
    handler = Handler(
        clock=OffsetClock(float(os.environ.get("ROOTKEYS_OFFSET", "0"))),
        invoke=lambda arn, event: print(json.dumps({"invoke": [arn, event]})),
    )
    handler({}, Context())
    return 0


if __name__ == "__main__":
    sys.exit(main())
