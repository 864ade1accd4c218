"""Built-in checks: CloudWatch alarms, HTTP health, drift; and what checks receive."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import RunOutcome
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager, statuses

DAY = timedelta(days=1)


# -- HTTP ---------------------------------------------------------------------------------


class _App(http.server.BaseHTTPRequestHandler):
    status = 200
    delay = 0.0

    def do_GET(self) -> None:
        time.sleep(type(self).delay)
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[tuple[str, type[_App]]]:
    handler = type("App", (_App,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", handler
    server.shutdown()
    server.server_close()


def _key() -> rootkeys.AccessKey:
    return rootkeys.AccessKey(
        key_id="AKIAAAAAAAAAAAAAAAAA", status=KeyStatus.INACTIVE, created_at=FakeClock().now()
    )


def test_http_check_passes_on_the_expected_status(app: tuple[str, type[_App]]) -> None:
    """A 200 from the health endpoint is healthy."""
    url, _ = app
    verdict = rootkeys.checks.HttpHealthCheck(url)(_key())
    assert verdict.ok
    assert "answered 200" in verdict.reason


def test_http_check_fails_on_another_status(app: tuple[str, type[_App]]) -> None:
    """A 503 fails, naming what was expected."""
    url, handler = app
    handler.status = 503
    verdict = rootkeys.checks.HttpHealthCheck(url, expected_status={200, 204})(_key())
    assert not verdict.ok
    assert verdict.reason.endswith("answered 503, expected 200, 204")


def test_http_check_fails_when_nothing_answers(tmp_path: Path) -> None:
    """A closed port fails (fail safe), saying it did not answer."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verdict = rootkeys.checks.HttpHealthCheck(f"http://127.0.0.1:{port}/", timeout=1)(_key())
    assert not verdict.ok
    assert "did not answer" in verdict.reason


def test_http_check_times_out(app: tuple[str, type[_App]]) -> None:
    """An answer slower than the timeout fails."""
    url, handler = app
    handler.delay = 0.5
    verdict = rootkeys.checks.HttpHealthCheck(url, timeout=timedelta(milliseconds=100))(_key())
    assert not verdict.ok


@pytest.mark.parametrize(
    "kwargs",
    [{"url": "ftp://x"}, {"url": "example.com"}, {"url": "http://x", "timeout": 0}],
    ids=["ftp", "no-scheme", "zero-timeout"],
)
def test_http_check_refuses_bad_settings(kwargs: dict[str, object]) -> None:
    """Bad URLs and timeouts are input errors when the check is made."""
    with pytest.raises(rootkeys.InputError):
        rootkeys.checks.HttpHealthCheck(**kwargs)  # type: ignore[arg-type]


# -- CloudWatch alarms ----------------------------------------------------------------------


@pytest.fixture
def alarm(sandbox: Sandbox, account: SandboxAccount) -> str:
    sandbox.create_alarm(account.account_id, "orders-5xx")
    return "orders-5xx"


def _alarm_check(sandbox: Sandbox, account: SandboxAccount, **kwargs: object):
    kwargs.setdefault("names", ["orders-5xx"])
    return rootkeys.checks.CloudWatchAlarmCheck(sandbox.admin_session(account.account_id), **kwargs)


def test_alarm_going_off_during_the_window_rolls_back(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    alarm: str,
) -> None:
    """The orders alarm enters ALARM mid-window: the keys are made Active again."""
    ticks = 0

    def app_breaks(key: rootkeys.AccessKey) -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            sandbox.set_alarm_state(account.account_id, alarm, "ALARM", reason="5xx > 1")
        return True

    check = _alarm_check(sandbox, account)
    report = make_manager(checks=[app_breaks, check]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert report.check_failure.check == "CloudWatch alarms"
    assert "orders-5xx is in ALARM during the window" in report.check_failure.reason
    assert set(statuses(sandbox, account.account_id).values()) == {KeyStatus.ACTIVE}


def test_quiet_alarms_let_the_removal_finish(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    alarm: str,
) -> None:
    """With every watched alarm OK all window, the keys are deleted."""
    check = _alarm_check(sandbox, account, names=(), prefix="orders")
    report = make_manager(checks=[check]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.DONE


def test_alarm_that_fired_and_recovered_between_staged_runs_rolls_back(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    alarm: str,
    tmp_path: Path,
) -> None:
    """An alarm that went off overnight and recovered still fails the next daily run."""

    def run() -> rootkeys.RemovalReport:
        return rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id),
            clock=clock,
            journal=tmp_path / "j.sqlite3",
            checks=[_alarm_check(sandbox, account)],
        ).remove_all(observe_for=timedelta(days=7), wait=False)

    assert run().outcome is RunOutcome.OBSERVING
    clock.advance(timedelta(hours=10))
    sandbox.set_alarm_state(account.account_id, alarm, "ALARM")
    clock.advance(timedelta(hours=1))
    sandbox.set_alarm_state(account.account_id, alarm, "OK")
    clock.advance(timedelta(hours=13))
    report = run()
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert "now recovered" in report.check_failure.reason


def test_alarm_fired_before_the_window_does_not_count(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    alarm: str,
    clock: FakeClock,
) -> None:
    """A past alarm, over before the window began, does not fail the window."""
    sandbox.set_alarm_state(account.account_id, alarm, "ALARM")
    clock.advance(timedelta(hours=1))
    sandbox.set_alarm_state(account.account_id, alarm, "OK")
    clock.advance(timedelta(hours=1))
    report = make_manager(checks=[_alarm_check(sandbox, account)]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.DONE


def test_alarm_already_alarming_fails_safe(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    alarm: str,
    clock: FakeClock,
) -> None:
    """An alarm in ALARM from before the window fails: it cannot show new breakage."""
    sandbox.set_alarm_state(account.account_id, alarm, "ALARM")
    clock.advance(timedelta(minutes=1))
    report = make_manager(checks=[_alarm_check(sandbox, account)]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert "since before the window" in report.check_failure.reason


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"names": ["orders-5xxx"]}, "no such CloudWatch alarm: orders-5xxx"),
        ({"names": (), "prefix": "billing"}, "no CloudWatch alarm's name starts with 'billing'"),
    ],
    ids=["misspelt-name", "prefix-matches-none"],
)
def test_misconfigured_alarm_check_fails_safe(
    sandbox: Sandbox,
    account: SandboxAccount,
    alarm: str,
    kwargs: dict[str, object],
    reason: str,
) -> None:
    """A name that does not exist, or a prefix matching nothing, fails rather than passes."""
    verdict = _alarm_check(sandbox, account, **kwargs)(_key())
    assert not verdict.ok
    assert verdict.reason == reason


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"names": ["a"], "prefix": "b"}, {"names": "orders-5xx"}],
    ids=["neither", "both", "names-a-string"],
)
def test_alarm_check_refuses_bad_settings(sandbox: Sandbox, kwargs: dict[str, object]) -> None:
    """Names or a prefix, one of the two, as a list: else an InputError."""
    with pytest.raises(rootkeys.InputError):
        rootkeys.checks.CloudWatchAlarmCheck(**kwargs)  # type: ignore[arg-type]


# -- drift ----------------------------------------------------------------------------------


def test_key_recreated_during_the_window_is_drift(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """Someone creates a new root key mid-window: drift fails the window."""
    sandbox.delete_root_key(account.account_id, account.root_key_ids[1])
    ticks = 0

    def someone_recreates(key: rootkeys.AccessKey) -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            sandbox.add_root_key(account.account_id, status=KeyStatus.INACTIVE)
        return True

    drift = rootkeys.checks.DriftCheck(sandbox.root_session(account.account_id))
    report = make_manager(checks=[someone_recreates, drift]).remove_all(observe_for=DAY)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert report.check_failure.check == "drift"
    assert "during the window" in report.check_failure.reason


def test_no_drift_passes(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """Keys untouched by anyone else: drift passes and the removal completes."""
    drift = rootkeys.checks.DriftCheck(sandbox.root_session(account.account_id))
    assert make_manager(checks=[drift]).remove_all(observe_for=DAY).outcome is RunOutcome.DONE


# -- what checks receive --------------------------------------------------------------------


def test_checks_receive_the_window_start_across_staged_runs(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """Checks get an ObservedKey whose window_started_at is the journal's, days later too."""
    seen: list[rootkeys.ObservedKey] = []

    def spy(key: rootkeys.AccessKey) -> bool:
        assert isinstance(key, rootkeys.ObservedKey)
        seen.append(key)
        return True

    def run() -> None:
        rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id),
            clock=clock,
            journal=tmp_path / "j.sqlite3",
            checks=[spy],
        ).remove_all(observe_for=timedelta(days=7), wait=False)

    started = clock.now()
    run()
    clock.advance(timedelta(days=3))
    run()
    assert {k.window_started_at for k in seen} == {started}
    assert {k.account_id for k in seen} == {account.account_id}
    assert {k.status for k in seen} == {KeyStatus.INACTIVE}
