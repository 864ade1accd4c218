"""Notifications: SNS and a webhook told each account's outcome; a failure reported, never fatal.

SNS is moto's (through the sandbox, which intercepts every boto3 session); webhooks are
HTTP servers on loopback that answer as told (200, 500, or nothing in time).
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import rootkeys
from rootkeys import AccountOutcome, EventKind, RunOutcome
from rootkeys.cli import main
from rootkeys.notify import DEFAULT_OUTCOMES, SnsNotifier, WebhookNotifier
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount, SandboxOrganization
from tests.conftest import MakeManager, Recorder
from tests.orgtools import AppCheck
from tests.orgtools import organization as _organization

HOUR = timedelta(hours=1)
EVERY = timedelta(minutes=30)
SECRET = "T0000/B0000/xoxb-sekrit-token-4242"
"""What a Slack webhook URL's path holds: the token that lets anyone post."""


# -- a webhook on loopback ---------------------------------------------------------------------


@dataclass
class Webhook:
    """A loopback HTTP server that records each POST and answers ``status``, or stalls."""

    status: int = 200
    stall: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def serve(self) -> http.server.ThreadingHTTPServer:
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append(json.loads(body))
                hook.headers.append(dict(self.headers))
                hook.paths.append(self.path)
                if hook.stall:
                    hook.release.wait(10)  # longer than any notifier waits
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}/services/{SECRET}"
        return server


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    server = hook.serve()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.release.set()
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- SNS through moto --------------------------------------------------------------------------


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=3, root_keys=1)


@pytest.fixture
def journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


@pytest.fixture
def topic(sandbox: Sandbox, org: SandboxOrganization) -> str:
    sns = sandbox.management_session().client("sns", region_name="eu-west-1")
    arn: str = sns.create_topic(Name="rootkeys")["TopicArn"]
    return arn


def _published(topic_arn: str) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """What moto delivered to the topic: each message, subject and attributes."""
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":")
    sent = sns_backends[account][region].topics[topic_arn].sent_notifications
    return [(json.loads(message), subject, attrs) for _, message, subject, attrs, _ in sent]


def test_sns_tells_the_rolled_back_account_and_each_healthy_one_once(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    topic: str,
) -> None:
    """One account's check fails: its rollback is published with the check that failed;
    each healthy account's deletion once; no pass that only observes, by default."""
    app = org.member_account_ids[1]
    check = AppCheck(sandbox, app, sandbox.root_keys(app)[0].key_id)
    notifier = SnsNotifier(topic, session=sandbox.management_session())
    organization = _organization(sandbox, clock, journal, checks=[check], hooks=[notifier])

    report = organization.remove_all(HOUR, EVERY)

    assert report.counts[AccountOutcome.DONE] == 2
    assert all(not a.hook_errors for a in report.accounts)
    sent = _published(topic)
    by_account = {m["account_id"]: (m, subject, attrs) for m, subject, attrs in sent}
    assert len(sent) == len(by_account) == 3  # one each: the observing passes are not told
    message, subject, attrs = by_account[app]
    assert message["outcome"] == "rolled back"
    assert message["check_failure"]["check"] == "orders app"
    assert [(c["kind"], c["outcome"], c["state"]) for c in message["credentials"]] == [
        ("keys", "rolled back", "Active")
    ]
    assert message["source"] == "rootkeys"
    assert message["schema_version"] == 1
    assert (
        message["run_id"] == next(a for a in report.accounts if a.account_id == app).report.run_id
    )  # type: ignore[union-attr]
    assert message["at"].endswith("Z")
    name = next(a.name for a in report.accounts if a.account_id == app)
    assert message["account_name"] == name
    assert subject == f"rootkeys: account {app} ({name}): rolled back"
    assert attrs["outcome"] == {"Type": "String", "Value": "rolled back"}
    assert attrs["account_id"] == {"Type": "String", "Value": app}
    for member in set(org.member_account_ids) - {app}:
        healthy = by_account[member][0]
        assert healthy["outcome"] == "done"
        assert [c["outcome"] for c in healthy["credentials"]] == ["deleted"]
        assert healthy["check_failure"] is None

    # the next run finds it on hold: told again, since it still waits for a person
    organization.remove_all(HOUR, EVERY, account_ids=[app])
    assert [m["outcome"] for m, _, _ in _published(topic)[3:]] == ["on hold"]


def test_sns_on_chooses_the_outcomes_told(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    topic: str,
) -> None:
    """on=["observing"]: a staged run's first pass is told, per account; "done" is not."""
    notifier = SnsNotifier(topic, session=sandbox.management_session(), on=["OBSERVING"])
    organization = _organization(sandbox, clock, journal, hooks=[notifier])
    organization.remove_all(timedelta(days=1), wait=False)
    clock.advance(timedelta(days=2))
    organization.remove_all(timedelta(days=1), wait=False)
    sent = _published(topic)
    assert sorted(m["account_id"] for m, _, _ in sent) == sorted(org.member_account_ids)
    assert {m["outcome"] for m, _, _ in sent} == {"observing"}


def test_a_failed_publish_is_reported_and_the_run_goes_on(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A topic that does not exist: every account's removal still finishes, and each
    account's result, its report and the organization's table name the failure."""
    missing = "arn:aws:sns:eu-west-1:999988887777:nobody-made-me"
    notifier = SnsNotifier(missing, session=sandbox.management_session())
    organization = _organization(sandbox, clock, journal, hooks=[notifier])
    with caplog.at_level(logging.WARNING, logger="rootkeys"):
        report = organization.remove_all(timedelta(0))
    members = [a for a in report.accounts if a.account_id in org.member_account_ids]
    assert {a.outcome for a in members} == {AccountOutcome.DONE}
    for account in members:
        assert len(account.hook_errors) == 1
        assert account.hook_errors[0].startswith("SNS notifier (nobody-made-me) raised ")
        assert account.report is not None
        assert account.report.hook_errors == account.hook_errors
    assert all(" on account finished: " in a.hook_errors[0] for a in members)
    table = report.table()
    assert table.count("hook error in ") == len(members)
    assert "hook SNS notifier (nobody-made-me) raised" in caplog.text
    assert all(sandbox.root_keys(m) == [] for m in org.member_account_ids)


def test_a_failing_hook_on_a_failed_account_is_still_reported(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """An account whose pass failed has no report: the notifier's error is on its result."""
    member = org.member_account_ids[0]
    sandbox.inject_error("AccessDenied", operation="ListAccessKeys", account_id=member, times=None)

    def broken(event: rootkeys.Event) -> None:
        if event.kind is EventKind.ACCOUNT_FINISHED:
            raise RuntimeError("the pager is down")

    broken.name = "pager"  # type: ignore[attr-defined]
    report = _organization(sandbox, clock, journal, hooks=[broken]).remove_all(
        timedelta(0), account_ids=[member]
    )
    assert report.accounts[0].outcome is AccountOutcome.FAILED
    assert report.accounts[0].report is None
    assert report.accounts[0].hook_errors == (
        "pager raised RuntimeError on account finished: the pager is down",
    )


# -- the webhook -------------------------------------------------------------------------------


def test_a_webhook_gets_slack_compatible_json_with_the_structured_message(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    webhook: Webhook,
) -> None:
    """text and blocks for Slack; ``rootkeys`` holds the same message SNS gets; the
    headers given are sent."""
    notifier = WebhookNotifier(webhook.url, headers={"Authorization": "Bearer abc"})
    report = _organization(sandbox, clock, journal, hooks=[notifier]).remove_all(timedelta(0))
    assert all(not a.hook_errors for a in report.accounts)
    assert len(webhook.received) == len(org.member_account_ids)
    for body, headers, path in zip(webhook.received, webhook.headers, webhook.paths, strict=True):
        account = body["rootkeys"]["account_id"]
        assert body["text"].startswith(f"rootkeys: account {account} (")
        assert "): done: 1 key(s) deleted" in body["text"]
        assert body["blocks"][0]["type"] == "section"
        assert body["blocks"][0]["text"]["type"] == "mrkdwn"
        assert body["rootkeys"]["outcome"] == "done"
        assert headers["Authorization"] == "Bearer abc"
        assert headers["Content-Type"] == "application/json"
        assert path == f"/services/{SECRET}"


@pytest.mark.parametrize("how", ["500", "stalls", "unreachable"])
def test_a_failing_webhook_never_fails_the_run_and_never_shows_its_url(
    make_manager: MakeManager,
    account: SandboxAccount,
    webhook: Webhook,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    """500, no answer within the timeout, nothing listening: the one-account run ends
    as it would have, the failure is in its report, and the URL's token is nowhere."""
    url = webhook.url
    if how == "500":
        webhook.status = 500
    elif how == "stalls":
        webhook.stall = True
    else:
        url = f"http://127.0.0.1:{_closed_port()}/services/{SECRET}"
    notifier = WebhookNotifier(url, timeout=timedelta(milliseconds=300))
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="rootkeys"):
        report = make_manager(hooks=[notifier], journal=False).remove_all(timedelta(0))
    assert time.monotonic() - started < 10  # the stalled webhook held it 0.3 s, not 10
    assert report.outcome is RunOutcome.DONE
    assert account.root_key_ids
    assert report.deleted == tuple(account.root_key_ids)
    assert len(report.hook_errors) == 1
    error = report.hook_errors[0]
    expected = {
        "500": "answered HTTP 500",
        "stalls": "not reached within 0.3s: TimeoutError",
        "unreachable": "not reached within 0.3s: ConnectionRefusedError",
    }[how]
    assert error.startswith("webhook 127.0.0.1 raised NotificationError on account finished: ")
    assert expected in error
    shown = [error, caplog.text, repr(notifier), report.model_dump_json(), report.table()]
    assert not [text for text in shown if SECRET in text or "sekrit" in text]


def test_a_webhook_posts_only_the_outcomes_asked(
    make_manager: MakeManager, account: SandboxAccount, webhook: Webhook
) -> None:
    """on=["rolled back"]: a run that deletes is not told; the default tells it."""
    assert AccountOutcome.DONE in DEFAULT_OUTCOMES
    make_manager(
        hooks=[WebhookNotifier(webhook.url, on=["rolled back"])], journal=False
    ).remove_all(timedelta(0))
    assert webhook.received == []


def test_a_one_account_run_tells_its_rollback_once(
    make_manager: MakeManager, account: SandboxAccount, webhook: Webhook
) -> None:
    """RootKeyManager: ACCOUNT_FINISHED once, at the end of the run, after every pass."""
    recorder = Recorder()
    manager = make_manager(
        hooks=[recorder, WebhookNotifier(webhook.url)],
        checks=[lambda key: rootkeys.CheckResult(False, "orders API down")],
        journal=False,
    )
    report = manager.remove_all(timedelta(minutes=2))
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert len(recorder.of(EventKind.ACCOUNT_FINISHED)) == 1
    (body,) = webhook.received
    assert body["rootkeys"]["outcome"] == "rolled back"
    assert body["rootkeys"]["account_name"] == ""
    assert "orders API down" in body["text"]
    assert body["rootkeys"]["check_failure"]["reason"] == "orders API down"


# -- the config file and the CLI ---------------------------------------------------------------


def test_the_config_file_builds_the_notifiers(
    tmp_path: Path, sandbox: Sandbox, account: SandboxAccount
) -> None:
    """[[notify.sns]] and [[notify.webhook]]: notifiers with their settings; the URL and
    headers are not in the config's repr."""
    path = tmp_path / "config.toml"
    path.write_text(
        "[[notify.sns]]\n"
        'topic_arn = "arn:aws:sns:eu-west-1:111122223333:security"\n'
        "[[notify.sns]]\n"
        'topic_arn = "arn:aws:sns:eu-west-1:111122223333:audit"\n'
        'region = "eu-west-1"\n'
        'on = ["rolled_back", "on hold"]\n'
        "[[notify.webhook]]\n"
        f'url = "https://hooks.slack.com/services/{SECRET}"\n'
        'headers = { Authorization = "Bearer sekrit" }\n'
        'timeout = "2s"\n'
    )
    config = rootkeys.load_config(path)
    assert SECRET not in repr(config)
    assert "sekrit" not in repr(config)
    first, second, hook = config.notifications(sandbox.admin_session(account.account_id))
    assert isinstance(first, SnsNotifier)
    assert isinstance(second, SnsNotifier)
    assert first.on == DEFAULT_OUTCOMES
    assert second.on == {AccountOutcome.ROLLED_BACK, AccountOutcome.ON_HOLD}
    assert isinstance(hook, WebhookNotifier)
    assert (hook.host, hook.timeout, hook.on) == ("hooks.slack.com", 2.0, DEFAULT_OUTCOMES)
    assert SECRET not in repr(hook)
    assert rootkeys.config.Config().notifications() == []


def test_cli_remove_org_tells_the_config_webhook_and_shows_its_failure(
    sandbox: Sandbox,
    org_signed_in: SandboxOrganization,
    webhook: Webhook,
    tmp_path: Path,
) -> None:
    """remove --org with a webhook that answers 500: the run is done (exit 0); the JSON
    output and the table both name the failure; the URL is in neither."""
    webhook.status = 500
    config = tmp_path / "config.toml"
    config.write_text(f'[[notify.webhook]]\nurl = "{webhook.url}"\ntimeout = "2s"\n')
    argv = ["remove", "--org", "--observe", "0", "--yes", "--config", str(config)]
    out, err = io.StringIO(), io.StringIO()
    assert main([*argv, "--output", "json"], out=out, err=err) == 0, err.getvalue()
    accounts = json.loads(out.getvalue())["result"]["accounts"]
    members = [a for a in accounts if a["account_id"] in org_signed_in.member_account_ids]
    assert {a["outcome"] for a in members} == {"done"}
    for account in members:
        assert account["hook_errors"] == [
            "webhook 127.0.0.1 raised NotificationError on account finished: "
            "webhook 127.0.0.1 answered HTTP 500"
        ]
    assert len(webhook.received) == len(members)
    assert SECRET not in out.getvalue() + err.getvalue()
