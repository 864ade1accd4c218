"""The scheduled run inside AWS: one staged organization pass per Lambda invocation.

`Handler` reads the configuration (the config file's TOML from S3, a file or the
environment), opens the organization with the journal ``ROOTKEYS_JOURNAL`` names, and
makes one ``wait=False`` pass over the member accounts in order of their id. Before each
account's pass it asks whether the time left is still more than the reserve; when it is
not, no account is started, the running passes finish, and the function invokes itself
again (asynchronously) with a cursor: the last account id passed over. Until the first
invocation, nothing heavier than pydantic is imported (no boto3, no organization code).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rootkeys._errors import ConfigError, InputError, RootKeysError
from rootkeys._kinds import validate_account_id
from rootkeys._lambda_setup import (
    CONFIG_S3_VARIABLE,
    CONFIG_TOML_VARIABLE,
    CONFIG_VARIABLE,
    JOURNAL_VARIABLE,
    invoker,
    journal_spec,
    read_config,
)
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

    import boto3

    from rootkeys._clock import Clock
    from rootkeys._config import Config
    from rootkeys._journal import Journal
    from rootkeys._observe import Event, Hook
    from rootkeys._org import Organization
    from rootkeys._orgreports import AccountRemoval

__all__ = [
    "CONFIG_S3_VARIABLE",
    "CONFIG_TOML_VARIABLE",
    "CONFIG_VARIABLE",
    "JOURNAL_VARIABLE",
    "AccountLine",
    "Continuation",
    "Handler",
    "LambdaContext",
    "ScheduledRunReport",
]

EVENT_KEY = "rootkeys"
"""The key of an invocation's event that carries a continuation; other keys are ignored."""
_PROBE_KEY = "AKIA" + "0" * 16  # a key id no account has: reading it proves the journal reads
_URL = re.compile(r"(?i)\b(https?://[^/\s'\"?#]+)[^\s'\"]*")


class LambdaContext(Protocol):
    """What the handler needs of AWS Lambda's context object."""

    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function was invoked by (continuations invoke it again)."""

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""


class Continuation(BaseModel):
    """A continuation's event: ``{"rootkeys": {"start_after": ..., "continuation": n}}``.

    The scheduled invocation carries none (its event, whatever it is, is ignored).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    start_after: str
    continuation: int = Field(ge=1)


class AccountLine(BaseModel):
    """One account's result in the scheduled run's report (no secret: ids and words)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str
    outcome: str
    reason: str
    quarantine: str
    observing_until: datetime | None
    deleted: tuple[str, ...]


class ScheduledRunReport(BaseModel):
    """What one invocation did: the handler's response, printed as one JSON line.

    Attributes:
        complete: every selected account was passed over (the scheduled run is done).
        stopped: why this invocation stopped early (None when complete).
        start_after: where this invocation started (None: from the first account).
        cursor: where the next invocation starts: after this account id (None when complete).
        continuation: 0 for the scheduled invocation, then 1, 2, ... for its continuations.
        continued: this invocation asked for the next one (Lambda ``InvokeFunction``).
        counts: how many accounts ended with each outcome.
        accounts: each account passed over, in order of id.
        hook_errors: every notification (hook) that failed, in words; the run went on.
    """

    model_config = ConfigDict(frozen=True)

    complete: bool
    stopped: str | None
    start_after: str | None
    cursor: str | None
    continuation: int
    continued: bool
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int]
    accounts: tuple[AccountLine, ...]
    hook_errors: tuple[str, ...]


class Handler:
    """The Lambda entry point, as an object (`rootkeys.aws_lambda.handler` is one).

    Args:
        session: the session every AWS call is made with (default: a new default session,
            the function's role in Lambda).
        clock: where time comes from (tests pass a `FakeClock`).
        environ: the environment read (default: ``os.environ``).
        invoke: how a continuation is started: called with the function's ARN and the
            event (default: Lambda ``InvokeFunction``, ``InvocationType=Event``).
        out: where the report's JSON line is printed (default: standard output).
    """

    def __init__(
        self,
        *,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        invoke: Callable[[str, dict[str, Any]], None] | None = None,
        out: TextIO | None = None,
    ) -> None:
        self._session = session
        self._clock = clock
        self._environ = environ
        self._invoke = invoke
        self._out = out

    def __call__(self, event: object, context: LambdaContext) -> dict[str, Any]:
        """One invocation: one staged pass (or its continuation); the report as JSON.

        Raises:
            ConfigError: no usable configuration, or the journal is missing or local.
            InputError: a malformed continuation event, or no time for even one account.
            RootKeysError: the organization cannot be reached (preflight, listing), the
                journal cannot be read, or a continuation was needed and could not be
                started (the report is printed first).
        """
        from rootkeys._clock import clock_or_default

        environ = os.environ if self._environ is None else self._environ
        clock = clock_or_default(self._clock)
        started = clock.now()
        resumed = _continuation(event)
        session = self._session or _default_session()
        config, source = read_config(environ, session)
        window = config.observe_for()
        if window is None:
            raise ConfigError(
                source, None, 'an organization run needs a window: observe = "7d", or [policy]'
            )
        journal = journal_spec(environ, config)
        reserve = config.aws_lambda.time_reserve
        left = context.get_remaining_time_in_millis() / 1000
        if left <= reserve.total_seconds():
            raise InputError(
                f"{left:.0f}s left at the start is not more than lambda.time_reserve "
                f"({reserve.total_seconds():.0f}s): make the function's timeout longer"
            )
        errors: list[str] = []
        organization = _organization(config, session, clock, _opened(journal, session), errors)
        management = organization.preflight()
        organization.history(management, _PROBE_KEY)  # the journal answers, or JournalError
        stopped: list[str] = []

        def stop() -> bool:
            remaining = context.get_remaining_time_in_millis() / 1000
            if remaining < reserve.total_seconds():
                stopped.append(
                    f"{remaining:.0f}s left, less than the time reserve "
                    f"({reserve.total_seconds():.0f}s)"
                )
                return True
            return False

        chosen = config.organization
        results = organization.removals(
            window,
            config.check_interval,
            wait=False,
            account_ids=chosen.account_ids,
            ou=chosen.ou,
            keep_quarantine=chosen.keep_quarantine,
            credentials=chosen.kinds(),
            start_after=resumed.start_after if resumed else None,
            stop_when=stop,
        )
        accounts = sorted(results, key=lambda a: a.account_id)
        continuation = resumed.continuation if resumed else 0
        report = _report(accounts, stopped, resumed, continuation, errors, started, clock.now())
        report, problem = self._go_on(report, config, session, context)
        response = report.model_dump(mode="json")
        print(json.dumps(response, separators=(",", ":")), file=self._out or sys.stdout)
        if problem is not None:
            raise problem
        return response

    def _go_on(
        self,
        report: ScheduledRunReport,
        config: Config,
        session: boto3.Session,
        context: LambdaContext,
    ) -> tuple[ScheduledRunReport, RootKeysError | None]:
        """A pass stopped early: the next invocation asked for, or why it cannot be."""
        if report.complete:
            return report, None
        if report.cursor is None or not report.accounts:
            return report, RootKeysError(
                "the time reserve was reached before any account was started: make the "
                "function's timeout longer than lambda.time_reserve"
            )
        if report.continuation >= config.aws_lambda.max_continuations:
            return report, RootKeysError(
                f"stopped after {report.continuation} continuation(s), the most lambda."
                f"max_continuations allows; accounts after {report.cursor} were not passed "
                "over: give the function more time, more workers, or more continuations"
            )
        after = {"start_after": report.cursor, "continuation": report.continuation + 1}
        payload: dict[str, Any] = {EVENT_KEY: after}
        try:
            (self._invoke or invoker(session))(context.invoked_function_arn, payload)
        except RootKeysError as exc:
            return report, exc
        return report.model_copy(update={"continued": True}), None


def _default_session() -> boto3.Session:
    import boto3

    return boto3.Session()


def _continuation(event: object) -> Continuation | None:
    """The continuation an event carries, if any (strictly checked)."""
    if not isinstance(event, dict) or EVENT_KEY not in event:
        return None
    try:
        found = Continuation.model_validate(event[EVENT_KEY])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"the event's {EVENT_KEY!r} is not a continuation: {where}: {first['msg']}"
        ) from None
    validate_account_id(found.start_after)
    return found


def _opened(location: str, session: boto3.Session) -> Journal:
    """The journal at ``location``, reached with the handler's session (its table must exist).

    Raises:
        JournalError: the table is missing, not a rootkeys journal, or unreachable.
    """
    from rootkeys._journal import Journal

    return Journal.open(location, session=session)


def _organization(
    config: Config, session: boto3.Session, clock: Clock, journal: Journal, errors: list[str]
) -> Organization:
    """The organization, with the config file's checks and notifications (each watched)."""
    from rootkeys._org import Organization

    found = getattr(config, "notifications", None)
    hooks: list[Hook] = list(found(session)) if callable(found) else []
    chosen = config.organization
    return Organization(
        session,
        workers=chosen.workers,
        region=chosen.region,
        clock=clock,
        hooks=[_Watched(hook, errors) for hook in hooks],
        checks=config.checks(session),
        journal=journal,
    )


class _Watched:
    """A hook whose failures are also kept for the report (the run goes on)."""

    def __init__(self, hook: Hook, errors: list[str]) -> None:
        from rootkeys._observe import check_name

        self._hook = hook
        self._errors = errors
        self.name = check_name(hook)

    def __call__(self, event: Event) -> None:
        from rootkeys._retry import redact

        try:
            self._hook(event)
        except Exception as exc:
            text = f"{self.name} on {event.kind.value}: {type(exc).__name__}: {exc}"
            where = f"account {event.account_id}: " if event.account_id else ""
            self._errors.append(where + _URL.sub(r"\1/...", redact(text)))
            raise


def _report(
    accounts: list[AccountRemoval],
    stopped: list[str],
    resumed: Continuation | None,
    continuation: int,
    errors: list[str],
    started: datetime,
    finished: datetime,
) -> ScheduledRunReport:
    """The invocation's report; the cursor is the last account id passed over.

    Accounts start in order of id and every started pass finishes before the results end,
    so every account up to the last id reported was passed over, and none after it.
    """
    counts: dict[str, int] = {}
    for account in accounts:
        counts[account.outcome.value] = counts.get(account.outcome.value, 0) + 1
    after = resumed.start_after if resumed else None
    cursor = None
    if stopped:
        cursor = accounts[-1].account_id if accounts else after
    lines = tuple(
        AccountLine(
            account_id=a.account_id,
            name=a.name,
            outcome=a.outcome.value,
            reason=a.reason,
            quarantine=a.quarantine.value,
            observing_until=a.observing_until,
            deleted=a.report.deleted if a.report else (),
        )
        for a in accounts
    )
    return ScheduledRunReport(
        complete=not stopped,
        stopped=stopped[0] if stopped else None,
        start_after=after,
        cursor=cursor,
        continuation=continuation,
        continued=False,
        started_at=started,
        finished_at=finished,
        counts=counts,
        accounts=lines,
        hook_errors=tuple(errors),
    )


rehome(globals())
