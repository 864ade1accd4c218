"""The scheduled run inside AWS: `rootkeys.aws_lambda.handler` on the sandbox organization.

The function is a `Handler` with the sandbox's management session, a fake clock, a
Lambda context whose remaining time the test controls and an invoker that records the
continuations it asks for (tests/lambdatools.py). The journal is a parameter: every test
runs on each journal the handler may be given (``ROOTKEYS_JOURNAL``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import rootkeys
from rootkeys import AccountOutcome
from rootkeys._member_keys import MemberGateway
from rootkeys.aws_lambda import Handler
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import Action, KeyStatus
from rootkeys.reports import StepStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization
from tests import campaign
from tests.lambdatools import ARN, LOCATION, FakeContext, Function, keys_of, outcome_of
from tests.orgtools import quarantined

DAY = timedelta(days=1)
CONFIG = """\
observe = "3d"

[organization]
workers = 2
"""


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=4, root_keys=1)


@pytest.fixture(params=["sqlite", "dynamodb"])
def journal(request: pytest.FixtureRequest, tmp_path: Path, sandbox: Sandbox) -> str:
    """What ``ROOTKEYS_JOURNAL`` holds: a SQLite file's path (tests only: in Lambda a
    path under /tmp is refused), or a DynamoDB table's location (the table made)."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite3")
    rootkeys.Journal.open(LOCATION, session=sandbox.management_session(), create=True)
    return LOCATION


@pytest.fixture
def function(sandbox: Sandbox, clock: FakeClock, journal: str) -> Function:
    return Function(sandbox, clock, {"ROOTKEYS_CONFIG_TOML": CONFIG, "ROOTKEYS_JOURNAL": journal})


def members(org: SandboxOrganization) -> list[str]:
    return sorted(org.member_account_ids)


def test_one_invocation_makes_one_staged_pass_and_reports_it(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    """Every member quarantined and observing; the response is the printed JSON line,
    accounts in order of id, counts, complete, no cursor, no continuation."""
    response = function.invoke()

    assert function.printed() == [response]
    assert response["complete"] is True
    assert response["cursor"] is None
    assert response["continued"] is False
    assert function.invocations.asked == []
    assert response["counts"] == {"observing": 4, "out of reach": 1}
    ids = [a["account_id"] for a in response["accounts"]]
    assert ids == sorted([*org.member_account_ids, org.management_account_id])
    for member in org.member_account_ids:
        assert quarantined(sandbox, member)
        assert keys_of(sandbox, member) == [KeyStatus.ACTIVE]
    assert response["hook_errors"] == []


def test_the_output_holds_no_secret(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    function.day(accounts_per_invocation=2)
    printed = function.log.getvalue()
    assert printed
    for secret in sandbox.secrets():
        assert secret not in printed


def test_config_from_s3(sandbox: Sandbox, org: SandboxOrganization, function: Function) -> None:
    """``ROOTKEYS_CONFIG_S3``: the config file read with S3 GetObject, used as is."""
    s3 = sandbox.management_session().client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="rootkeys-config")
    chosen = members(org)[:2]
    text = CONFIG + f"account_ids = {json.dumps(chosen)}\n"
    s3.put_object(Bucket="rootkeys-config", Key="prod/rootkeys.toml", Body=text.encode())
    del function.environ["ROOTKEYS_CONFIG_TOML"]
    function.environ["ROOTKEYS_CONFIG_S3"] = "s3://rootkeys-config/prod/rootkeys.toml"

    response = function.invoke()

    assert [a["account_id"] for a in response["accounts"]] == chosen
    for member in members(org)[2:]:
        assert not quarantined(sandbox, member)


def test_config_s3_object_missing_raises_a_config_error(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    sandbox.management_session().client("s3", region_name="us-east-1").create_bucket(
        Bucket="rootkeys-config"
    )
    del function.environ["ROOTKEYS_CONFIG_TOML"]
    function.environ["ROOTKEYS_CONFIG_S3"] = "s3://rootkeys-config/missing.toml"
    made = len(sandbox.mutations())
    with pytest.raises(rootkeys.errors.ConfigError, match=r"s3://rootkeys-config/missing\.toml"):
        function.invoke()
    assert len(sandbox.mutations()) == made  # nothing changed


def test_config_from_a_file(
    sandbox: Sandbox, org: SandboxOrganization, function: Function, tmp_path: Path
) -> None:
    path = tmp_path / "rootkeys.toml"
    path.write_text(CONFIG + 'credentials = ["keys"]\n')
    del function.environ["ROOTKEYS_CONFIG_TOML"]
    function.environ["ROOTKEYS_CONFIG"] = str(path)
    assert function.invoke()["counts"] == {"observing": 4, "out of reach": 1}


def test_a_bad_organization_section_is_a_config_error_with_its_line(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    """Raised (the alarm fires), before any AWS call."""
    function.environ["ROOTKEYS_CONFIG_TOML"] = CONFIG + "keep_quarentine = true\n"
    made = len(sandbox.calls)
    with pytest.raises(rootkeys.errors.ConfigError, match=r"ROOTKEYS_CONFIG_TOML, line 5: .*"):
        function.invoke()
    assert len(sandbox.calls) == made


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ROOTKEYS_JOURNAL": "x"}, "set exactly one of ROOTKEYS_CONFIG_S3"),
        (
            {"ROOTKEYS_CONFIG_TOML": CONFIG, "ROOTKEYS_CONFIG": "/etc/x.toml"},
            "set exactly one of .*ROOTKEYS_CONFIG, ROOTKEYS_CONFIG_TOML",
        ),
        ({"ROOTKEYS_CONFIG_TOML": CONFIG}, "ROOTKEYS_JOURNAL must name the journal"),
        (
            {"ROOTKEYS_CONFIG_TOML": "[organization]\n", "ROOTKEYS_JOURNAL": "j"},
            "needs a window",
        ),
        (
            {"ROOTKEYS_CONFIG_S3": "s3:/bucket", "ROOTKEYS_JOURNAL": "j"},
            "must be s3://bucket/key",
        ),
        (
            {
                "ROOTKEYS_CONFIG_TOML": CONFIG,
                "ROOTKEYS_JOURNAL": "/tmp/journal.sqlite3",  # noqa: S108 - refused
                "AWS_LAMBDA_FUNCTION_NAME": "rootkeys",
            },
            "is in /tmp, lost when Lambda ends",
        ),
    ],
    ids=["no config", "two configs", "no journal", "no window", "bad s3 url", "journal in tmp"],
)
def test_configuration_errors_raise_before_any_aws_call(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    environ: dict[str, str],
    message: str,
) -> None:
    made = len(sandbox.calls)
    with pytest.raises(rootkeys.errors.ConfigError, match=message):
        Function(sandbox, clock, environ).invoke()
    assert len(sandbox.calls) == made


def test_a_malformed_continuation_is_refused(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    made = len(sandbox.calls)
    for event in (
        {"rootkeys": {"start_after": "12", "continuation": 1}},
        {"rootkeys": {"start_after": "123456789012", "continuation": 0}},
        {"rootkeys": {"start_after": "123456789012", "continuation": 1, "x": 1}},
    ):
        with pytest.raises(rootkeys.InputError):
            function.invoke(event)
    assert len(sandbox.calls) == made


def test_no_time_for_one_account_is_refused_at_the_start(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    made = len(sandbox.calls)
    with pytest.raises(rootkeys.InputError, match="time_reserve"):
        function.invoke({}, FakeContext(timeout_ms=60_000))
    assert len(sandbox.calls) == made


def test_an_unreachable_journal_raises(
    sandbox: Sandbox, org: SandboxOrganization, function: Function, tmp_path: Path
) -> None:
    function.environ["ROOTKEYS_JOURNAL"] = str(tmp_path / "no" / "such" / "dir" / "j.sqlite3")
    made = len(sandbox.mutations())
    with pytest.raises(rootkeys.errors.JournalError):
        function.invoke()
    assert len(sandbox.mutations()) == made


def test_a_pass_stopped_early_is_finished_by_the_next_invocation(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    """Time for two accounts: the first invocation stops with a cursor and invokes the
    function again with it; the continuation passes over the rest. Every member is
    quarantined once, none twice."""
    first = function.invoke({}, FakeContext(accounts=2))
    assert first["complete"] is False
    assert "less than the time reserve (120s)" in first["stopped"]
    assert first["continued"] is True
    passed = [a["account_id"] for a in first["accounts"]]
    assert len(passed) == 2
    assert first["cursor"] == passed[-1]
    assert function.invocations.asked == [
        (ARN, {"rootkeys": {"start_after": passed[-1], "continuation": 1}})
    ]
    everyone = sorted([*org.member_account_ids, org.management_account_id])
    for account_id in everyone[2:]:
        if account_id != org.management_account_id:
            assert not quarantined(sandbox, account_id)

    _, event = function.invocations.asked.pop()
    second = function.invoke(event)

    assert second["complete"] is True
    assert second["start_after"] == passed[-1]
    assert second["continuation"] == 1
    assert [a["account_id"] for a in second["accounts"]] == everyone[2:]
    for member in org.member_account_ids:
        assert quarantined(sandbox, member)
        attached = [c for c in sandbox.mutations() if c.params.get("TargetId") == member]
        assert [c.operation for c in attached] == ["AttachPolicy"]


def test_continuations_are_bounded(
    sandbox: Sandbox, org: SandboxOrganization, function: Function
) -> None:
    """At lambda.max_continuations, the report is printed, then an error raised (the
    alarm fires): no further invocation."""
    function.environ["ROOTKEYS_CONFIG_TOML"] = CONFIG + "[lambda]\nmax_continuations = 1\n"
    function.invoke({}, FakeContext(accounts=1))
    _, event = function.invocations.asked.pop()
    with pytest.raises(rootkeys.RootKeysError, match="max_continuations"):
        function.invoke(event, FakeContext(accounts=1))
    assert function.invocations.asked == []
    last = function.printed()[-1]
    assert last["complete"] is False
    assert last["continued"] is False
    assert last["cursor"] is not None


def test_notification_hooks_from_the_config_are_told_and_their_failures_reported(
    sandbox: Sandbox,
    org: SandboxOrganization,
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``config.notifications(session)`` gives the hooks; one that raises (its message
    holding a webhook URL) fails no account, and is reported without the URL's path."""
    told: list[rootkeys.Event] = []

    def broken(event: rootkeys.Event) -> None:
        if event.kind is rootkeys.EventKind.ACCOUNT_FINISHED:
            raise OSError("POST https://hooks.example.com/services/T0/B0/secret-token failed")

    def notifications(self: object, session: object) -> list[rootkeys.Hook]:
        return [told.append, broken]

    monkeypatch.setattr(rootkeys.config.Config, "notifications", notifications, raising=False)
    response = function.invoke()

    assert {e.account_id for e in told if e.kind is rootkeys.EventKind.ACCOUNT_FINISHED} == set(
        org.member_account_ids
    )
    assert response["counts"] == {"observing": 4, "out of reach": 1}
    assert len(response["hook_errors"]) == 4
    assert "secret-token" not in function.log.getvalue()
    assert all("https://hooks.example.com/..." in e for e in response["hook_errors"])


def test_the_default_invoker_invokes_the_function_asynchronously(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """Lambda InvokeFunction, InvocationType Event, on the invoked ARN, the event as JSON."""
    from botocore.stub import Stubber

    from rootkeys._lambda_setup import invoker

    session = sandbox.management_session()
    made: list[Any] = []
    real = session.client

    def client(name: str, **kwargs: Any) -> Any:
        built = real(name, **kwargs)  # type: ignore[call-overload]
        stub = Stubber(built)
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": ARN,
                "InvocationType": "Event",
                "Payload": b'{"rootkeys": {"start_after": "123456789012", "continuation": 1}}',
            },
        )
        stub.activate()
        made.append((name, kwargs.get("region_name"), stub))
        return built

    session.client = client  # type: ignore[method-assign,assignment]
    invoker(session)(ARN, {"rootkeys": {"start_after": "123456789012", "continuation": 1}})
    assert [(n, r) for n, r, _ in made] == [("lambda", "us-east-1")]
    made[0][2].assert_no_pending_responses()


def test_importing_the_handler_loads_no_organization_code() -> None:
    probe = (
        "import sys, rootkeys.aws_lambda\n"
        "print(sorted(m for m in sys.modules if m.startswith(('rootkeys._org', 'boto3'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert isinstance(rootkeys.aws_lambda.handler, Handler)


# -- over simulated days ------------------------------------------------------------------------


def test_over_simulated_days_the_organization_converges(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Daily invocations (two accounts per invocation, continuations finishing each day),
    a 3-day window, one account's check failing, one invocation killed in the middle of
    an account's deletion: the healthy accounts are cleared, the failing one rolled back
    and held, judged by the sandbox's truth, with no promise broken."""
    ids = members(org)
    failing, killed = ids[1], ids[2]
    check = f"import os, sys; sys.exit(os.environ['ROOTKEYS_ACCOUNT_ID'] == {failing!r})"
    run = json.dumps([sys.executable, "-c", check])
    function.environ["ROOTKEYS_CONFIG_TOML"] = (
        CONFIG + f'[[checks.command]]\nname = "orders app"\nrun = {run}\n'
    )
    original = MemberGateway.make
    kills = {"left": 1}

    def make(self: MemberGateway, action: Action, key_id: str) -> None:
        original(self, action, key_id)
        if action is Action.DELETE and self.account_id == killed and kills["left"]:
            kills["left"] -= 1
            raise RuntimeError("the execution environment died here")

    monkeypatch.setattr(MemberGateway, "make", make)
    told: list[rootkeys.Event] = []  # the notifications the config file would set up

    def notifications(self: object, session: object) -> list[rootkeys.Hook]:
        return [told.append]

    monkeypatch.setattr(rootkeys.config.Config, "notifications", notifications, raising=False)

    # day 0: quarantined (observing), the failing account rolled back at once, and told
    responses = function.day(accounts_per_invocation=2)
    assert [r["complete"] for r in responses] == [False, False, True]
    assert outcome_of(function, failing) == AccountOutcome.ROLLED_BACK.value
    assert keys_of(sandbox, failing) == [KeyStatus.ACTIVE]
    assert not quarantined(sandbox, failing)
    finished = [e for e in told if e.kind is rootkeys.EventKind.ACCOUNT_FINISHED]
    assert [e.message.split(":")[0] for e in finished if e.account_id == failing] == ["rolled back"]
    for day in (1, 2):
        clock.advance(DAY)
        function.day(accounts_per_invocation=2)
        for member in set(ids) - {failing}:
            assert outcome_of(function, member) == AccountOutcome.OBSERVING.value, day
            assert quarantined(sandbox, member)
    # day 3: the windows end; the invocation dies mid-deletion in one account
    clock.advance(DAY)
    with pytest.raises(RuntimeError, match="died here"):
        function.day(accounts_per_invocation=5)
    assert sandbox.root_keys(killed) == []  # deleted, its outcome never written
    function.invocations.asked.clear()
    function.day(accounts_per_invocation=5)  # Lambda's retry of the same event
    for member in set(ids) - {failing}:
        assert sandbox.root_keys(member) == [], member
        assert not quarantined(sandbox, member)
    # the retry reconciled the deletion the dead invocation made: recorded as done
    assert outcome_of(function, killed) in (
        AccountOutcome.DONE.value,
        AccountOutcome.NOTHING_TO_DO.value,
    )
    opened = rootkeys.Journal.open(
        function.environ["ROOTKEYS_JOURNAL"], session=sandbox.management_session()
    )
    records = opened.records(killed)
    assert [
        r.status for r in records if r.kind is RecordKind.OUTCOME and r.action is Action.DELETE
    ] == [StepStatus.DONE]
    # day 4: nothing left to do; the failing account stays held until a person resumes
    clock.advance(DAY)
    last = function.day(accounts_per_invocation=5)[-1]
    assert last["complete"] is True
    assert outcome_of(function, failing) == AccountOutcome.ON_HOLD.value
    assert keys_of(sandbox, failing) == [KeyStatus.ACTIVE]
    assert not quarantined(sandbox, failing)
    assert campaign.deletion_violations(sandbox.key_changes(), timedelta(days=3), []) == []
    deleted = [c.params.get("AccessKeyId") for c in sandbox.mutations(failing)]
    assert not [c for c in sandbox.mutations(failing) if c.operation == "DeleteAccessKey"], deleted
    printed = function.log.getvalue()
    for secret in sandbox.secrets():
        assert secret not in printed
