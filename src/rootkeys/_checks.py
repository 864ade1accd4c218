"""Built-in checks for the observation window: alarms, an HTTP health check, a command, drift.

Each is a class whose instances are `Check` callables: pass them to
``RootKeyManager(checks=[...])``. During a run each receives an `ObservedKey` (an
`AccessKey` that also knows when its window started), so a check can look back over
the whole window, across staged runs too. Each fails safe: a check that cannot tell
(AWS unreachable, an alarm that does not exist) says the key is not safe to delete.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import boto3

from rootkeys._errors import InputError
from rootkeys._models import AccessKey, KeyStatus, ObservedKey
from rootkeys._observe import CheckResult
from rootkeys._public import rehome
from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from mypy_boto3_cloudwatch.client import CloudWatchClient

    from rootkeys._iam import IamGateway

__all__ = ["CloudWatchAlarmCheck", "CommandCheck", "DriftCheck", "HttpHealthCheck"]

T = TypeVar("T")


def _since(key: AccessKey, fallback: datetime) -> datetime:
    return key.window_started_at if isinstance(key, ObservedKey) else fallback


class HttpHealthCheck:
    """Fails when an HTTP endpoint stops answering as expected (standard library only).

    Args:
        url: an ``http://`` or ``https://`` URL.
        expected_status: the status (or statuses) that mean healthy.
        timeout: how long to wait for an answer; no answer in time means unhealthy.
        method: the HTTP method.
        headers: extra request headers (e.g. an auth token of your app; never logged).
        name: the name in events and reports (default: the URL).
    """

    def __init__(
        self,
        url: str,
        *,
        expected_status: int | Collection[int] = 200,
        timeout: timedelta | float = 5.0,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        given: object = url
        if not isinstance(given, str) or not given.startswith(("http://", "https://")):
            raise InputError(f"url must start with http:// or https://, got {given!r}")
        seconds: object = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        if not isinstance(seconds, int | float) or seconds <= 0:
            raise InputError(f"timeout must be positive, got {timeout!r}")
        self.url = url
        self.expected = (
            frozenset({expected_status})
            if isinstance(expected_status, int)
            else frozenset(expected_status)
        )
        self.timeout = float(seconds)
        self.method = method
        self._headers = dict(headers or {})
        self.name = name or f"HTTP {method} {url}"

    def __repr__(self) -> str:
        return f"HttpHealthCheck({self.url!r}, expected_status={sorted(self.expected)})"

    def __call__(self, key: AccessKey, /) -> CheckResult:
        """Request the URL once; healthy when the status is expected."""
        request = urllib.request.Request(self.url, method=self.method, headers=self._headers)  # noqa: S310 - scheme checked
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return CheckResult(False, f"{self.url} did not answer: {reason}")
        if status in self.expected:
            return CheckResult(True, f"{self.url} answered {status}")
        wanted = ", ".join(map(str, sorted(self.expected)))
        return CheckResult(False, f"{self.url} answered {status}, expected {wanted}")


SECRET_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
"""The credential variables a command check never inherits (they may be root's)."""
_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

_REASON_LENGTH = 200


class CommandCheck:
    """Runs a program; healthy when it exits 0 (any program: a script, ``curl -f``, a test).

    The program is run directly, never through a shell: ``run`` is its argument list,
    or one string split as a shell would split it (``shlex``), without expanding
    anything. It gets no standard input, and its output (standard output and error
    together) is read; on failure the reason is its last line, shortened and with
    anything shaped like a secret removed. Not found, not executable, a non-zero exit,
    or no exit within ``timeout`` (the program and its children are then killed) are
    failures: a check that cannot tell says the key is not safe to delete.

    Its environment is the caller's, without the AWS credential variables
    (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ...: they
    may be the root user's), plus ``env`` and, for the key observed,
    ``ROOTKEYS_ACCOUNT_ID``, ``ROOTKEYS_KEY_ID``, ``ROOTKEYS_KEY_STATE`` and, during a
    run, ``ROOTKEYS_WINDOW_STARTED_AT`` (ISO 8601, UTC). A program that needs AWS uses
    its own credentials (a profile of its own, say).

    Args:
        run: the program and its arguments, or one string to split.
        timeout: how long the program may run.
        cwd: the directory to run it in (default: the current one); a relative program
            path (``./check.sh``) is found there.
        env: extra environment variables.
        name: the name in events and reports (default: ``command`` and the command line).
    """

    def __init__(
        self,
        run: Sequence[str] | str,
        *,
        timeout: timedelta | float = 30.0,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        given: object = run
        if isinstance(given, str):
            try:
                argv = shlex.split(given)
            except ValueError as exc:
                raise InputError(f"cannot split the command {given!r}: {exc}") from None
        elif isinstance(given, list | tuple) and all(isinstance(a, str) for a in given):
            argv = list(given)
        else:
            raise InputError("run must be a command line or a list of strings")
        if not argv or not argv[0]:
            raise InputError("run must name a program")
        seconds: object = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
            raise InputError(f"timeout must be positive, got {timeout!r}")
        extra: list[tuple[object, object]] = list((env or {}).items())
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra):
            raise InputError("env must map names to strings")
        self.argv = tuple(argv)
        self.timeout = float(seconds)
        self.cwd = None if cwd is None else os.fspath(cwd)
        self._env = {str(k): str(v) for k, v in extra}
        self.name = name or redact(f"command {shlex.join(argv)}")

    def __repr__(self) -> str:
        return f"CommandCheck({redact(shlex.join(self.argv))!r}, timeout={self.timeout:g})"

    def environment(self, key: AccessKey) -> dict[str, str]:
        """The program's environment when it checks ``key``."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_ENVIRONMENT}
        env.update(self._env)
        env["ROOTKEYS_KEY_ID"] = key.key_id
        env["ROOTKEYS_KEY_STATE"] = key.state.value
        if isinstance(key, ObservedKey):
            env["ROOTKEYS_ACCOUNT_ID"] = key.account_id
            env["ROOTKEYS_WINDOW_STARTED_AT"] = key.window_started_at.isoformat()
        return env

    def __call__(self, key: AccessKey, /) -> CheckResult:
        """Run the program once; healthy when it exits 0 in time."""
        program = self.argv[0]
        try:
            process = subprocess.Popen(  # noqa: S603 - an argument list, never a shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.environment(key),
                start_new_session=True,  # its own process group: a timeout kills its children
            )
        except OSError as exc:
            return CheckResult(False, self._said(f"{program} could not be run: {exc.strerror}"))
        with process:
            try:
                output, _ = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill(process)
                try:  # a child that left its process group may still hold the output open
                    output, _ = process.communicate(timeout=5)
                except subprocess.TimeoutExpired:  # pragma: no cover - such a child
                    output = b""
                said = f"{program} did not finish within {self.timeout:g}s (killed)"
                return CheckResult(False, self._said(said, output))
        if process.returncode == 0:
            return CheckResult(True, self._said(f"{program} exited 0", output))
        code = process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
        return CheckResult(False, self._said(f"{program} {how}", output))

    @staticmethod
    def _said(what: str, output: bytes = b"") -> str:
        """``what``, and the program's last line of output: short and without secrets."""
        lines = [ln.strip() for ln in output.decode(errors="replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else ""
        if len(last) > _REASON_LENGTH:
            last = last[: _REASON_LENGTH - 1] + "…"
        text = f"{what}: {last}" if last else what
        for name in _SECRETS:  # the very values, should the program know them
            value = os.environ.get(name)
            if value and len(value) >= 8:
                text = text.replace(value, "[redacted]")
        return redact(text)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and the children it started (its process group, on POSIX)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            process.kill()
    except ProcessLookupError:  # pragma: no cover - it ended just now
        pass


class CloudWatchAlarmCheck:
    """Fails when any watched CloudWatch alarm is, or was during the window, in ALARM.

    Watches the alarms named in ``names``, or every alarm whose name starts with
    ``prefix``. It reads each alarm's state and its history since the key's window
    started, so an alarm that fired and recovered between two checks (or overnight,
    between two staged runs) still counts. An alarm already in ALARM when the window
    starts fails too: it could not show whether removing the key breaks anything.
    A named alarm that does not exist, or a prefix that matches none, fails the check (a
    misspelt name must not pass).

    Args:
        session: a session allowed ``cloudwatch:DescribeAlarms`` and
            ``cloudwatch:DescribeAlarmHistory`` in ``region_name``.
        names: alarm names to watch.
        prefix: watch every alarm whose name starts with this.
        region_name: the alarms' region (default: the session's).
        client: a ready CloudWatch client instead of a session.
        name: the name in events and reports.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        names: Sequence[str] = (),
        prefix: str | None = None,
        region_name: str | None = None,
        client: CloudWatchClient | None = None,
        name: str = "CloudWatch alarms",
        retry: RetryPolicy | None = None,
    ) -> None:
        if isinstance(names, str):
            raise InputError("names must be a list of alarm names, not one string")
        if bool(names) == bool(prefix):
            raise InputError("give either names or a prefix of the alarms to watch")
        self.names = tuple(names)
        self.prefix = prefix
        self.name = name
        self._retry = retry or RetryPolicy()
        self._made_at = datetime.now(UTC)
        if client is None:
            session = session or boto3.Session()
            client = session.client("cloudwatch", region_name=region_name, config=BOTO_CONFIG)
        self._client = client

    def __repr__(self) -> str:
        watched = f"names={list(self.names)}" if self.names else f"prefix={self.prefix!r}"
        return f"CloudWatchAlarmCheck({watched})"

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        return call_with_retries(operation, fn, policy=self._retry, sleep=time.sleep)

    def __call__(self, key: AccessKey, /) -> CheckResult:
        """Read the watched alarms' states and history since the window started."""
        since = _since(key, self._made_at)
        alarms = self._alarms()
        if self.names:
            missing = sorted(set(self.names) - {a["AlarmName"] for a in alarms})
            if missing:
                return CheckResult(False, f"no such CloudWatch alarm: {', '.join(missing)}")
        elif not alarms:
            return CheckResult(False, f"no CloudWatch alarm's name starts with {self.prefix!r}")
        for alarm in alarms:
            if alarm["StateValue"] == "ALARM":
                entered = alarm["StateUpdatedTimestamp"]
                when = "during the window" if entered >= since else "since before the window"
                reason = alarm.get("StateReason", "")
                at = f"{entered:%Y-%m-%d %H:%M} UTC"
                return CheckResult(
                    False, f"alarm {alarm['AlarmName']} is in ALARM {when} ({at}): {reason}"
                )
        for item in self._history(since, {a["AlarmName"] for a in alarms}):
            return CheckResult(
                False,
                f"alarm {item['AlarmName']} went into ALARM at "
                f"{item['Timestamp']:%Y-%m-%d %H:%M} UTC during the window (now recovered)",
            )
        return CheckResult(True, f"{len(alarms)} alarm(s) quiet since {since:%Y-%m-%d %H:%M} UTC")

    def _alarms(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            pages = self._client.get_paginator("describe_alarms").paginate(
                **(
                    {"AlarmNames": list(self.names)}
                    if self.names
                    else {"AlarmNamePrefix": self.prefix or ""}
                ),
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            )
            for page in pages:
                found.extend(dict(a) for a in page.get("MetricAlarms", []))
                found.extend(dict(a) for a in page.get("CompositeAlarms", []))
            return found

        return self._call("DescribeAlarms", read)

    def _history(self, since: datetime, watched: set[str]) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            entered: list[dict[str, Any]] = []
            pages = self._client.get_paginator("describe_alarm_history").paginate(
                HistoryItemType="StateUpdate", StartDate=since, EndDate=datetime.now(UTC)
            )
            for page in pages:
                for item in page.get("AlarmHistoryItems", []):
                    if (
                        item.get("AlarmName") in watched
                        and item["Timestamp"] >= since
                        and _entered_alarm(item)
                    ):
                        entered.append(dict(item))
            return entered

        return self._call("DescribeAlarmHistory", read)


def _entered_alarm(item: Any) -> bool:
    try:
        data = json.loads(item.get("HistoryData") or "{}")
    except ValueError:
        return "to ALARM" in str(item.get("HistorySummary", ""))
    return bool(data.get("newState", {}).get("stateValue") == "ALARM")


class DriftCheck:
    """Fails when the root user's keys drift during the window.

    Drift is a key under observation made Active again, or a root access key created
    after the window started (someone recreated what is being removed). It lists the
    root user's keys, so it needs the same root session as the manager.

    Args:
        session: the root session the manager uses.
    """

    name = "drift"

    def __init__(
        self, session: boto3.Session | None = None, *, retry: RetryPolicy | None = None
    ) -> None:
        from rootkeys._iam import IamGateway

        self._made_at = datetime.now(UTC)
        self._gateway: IamGateway = IamGateway.from_session(
            session or boto3.Session(), policy=retry or RetryPolicy(), sleep=time.sleep
        )

    def __repr__(self) -> str:
        return "DriftCheck()"

    def __call__(self, key: AccessKey, /) -> CheckResult:
        """List the root keys; fail on a reactivated or newly created one."""
        since = _since(key, self._made_at)
        keys = self._gateway.list_keys(last_used=False)
        for other in keys:
            if other.key_id == key.key_id and other.status is KeyStatus.ACTIVE:
                return CheckResult(False, f"{key.key_id} is Active again: reactivated by someone")
            if other.created_at > since:
                return CheckResult(
                    False,
                    f"root key {other.key_id} was created at "
                    f"{other.created_at:%Y-%m-%d %H:%M} UTC, during the window",
                )
        return CheckResult(True, f"no drift among {len(keys)} root key(s)")


rehome(globals())
