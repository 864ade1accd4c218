"""Helpers for the Lambda handler's tests: a context whose time we control, an invoker
that records continuations, and a day of invocations (the scheduled one, then each
continuation it asks for)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import rootkeys
from rootkeys.aws_lambda import Handler
from rootkeys.testing import FakeClock, Sandbox

ARN = "arn:aws:lambda:us-east-1:999988887777:function:rootkeys"
LOCATION = "dynamodb://rootkeys-journal?region=us-east-1"
"""The DynamoDB journal the tests name (made in the management account of the sandbox)."""


class FakeContext:
    """A Lambda context: the whole timeout left for the first ``accounts`` + 1 questions
    (the start, then one before each account), then less than the default reserve."""

    invoked_function_arn = ARN

    def __init__(self, accounts: int = 1000, *, timeout_ms: int = 900_000) -> None:
        self.accounts, self.timeout_ms, self.asked = accounts, timeout_ms, 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return self.timeout_ms if self.asked <= self.accounts + 1 else 30_000


@dataclass
class Invocations:
    """The continuations a handler asked for (function ARN, event as Lambda passes it)."""

    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, function_arn: str, payload: dict[str, Any]) -> None:
        self.asked.append((function_arn, json.loads(json.dumps(payload))))


@dataclass
class Function:
    """The function as Lambda runs it on the sandbox: its environment, clock and log."""

    sandbox: Sandbox
    clock: FakeClock
    environ: dict[str, str]
    invocations: Invocations = field(default_factory=Invocations)
    log: io.StringIO = field(default_factory=io.StringIO)

    def handler(self) -> Handler:
        return Handler(
            session=self.sandbox.management_session(),
            clock=self.clock,
            environ=self.environ,
            invoke=self.invocations,
            out=self.log,
        )

    def invoke(self, event: object = None, context: FakeContext | None = None) -> dict[str, Any]:
        """One invocation (a fresh handler, as a new execution environment would be)."""
        return self.handler()(event if event is not None else {}, context or FakeContext())

    def day(self, accounts_per_invocation: int = 1000) -> list[dict[str, Any]]:
        """The scheduled invocation, then every continuation it (and they) asked for."""
        responses = [self.invoke({}, FakeContext(accounts_per_invocation))]
        while self.invocations.asked:
            _, event = self.invocations.asked.pop(0)
            responses.append(self.invoke(event, FakeContext(accounts_per_invocation)))
        return responses

    def printed(self) -> list[dict[str, Any]]:
        """Every report the function printed, one JSON line each."""
        return [json.loads(line) for line in self.log.getvalue().splitlines()]


def outcome_of(function: Function, account_id: str) -> str:
    """The account's latest outcome in the function's printed reports."""
    found: list[str] = [
        a["outcome"]
        for report in function.printed()
        for a in report["accounts"]
        if a["account_id"] == account_id
    ]
    return found[-1]


def keys_of(sandbox: Sandbox, account_id: str) -> list[rootkeys.lifecycle.KeyStatus]:
    return [k.status for k in sandbox.root_keys(account_id)]
