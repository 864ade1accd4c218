"""`Sandbox.serve()`: every protocol rootkeys uses, answered over loopback HTTP.

A session given the endpoint (``AWS_ENDPOINT_URL``) goes over HTTP even inside the
sandbox's process, so these tests reach the server as another process would; each
checks that the calls were indeed served.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.parsers import create_parser

import rootkeys
from rootkeys import AccountOutcome, RunOutcome
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount, _http
from rootkeys.testing._server import HEALTH_PATH

HOUR = timedelta(hours=1)
HTML = ("<html", "<!DOCTYPE", "<body")


@pytest.fixture
def url(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The sandbox served, and every client made from now on pointed at it."""
    with sandbox.serve() as served:
        monkeypatch.setenv("AWS_ENDPOINT_URL", served)
        yield served


def _all_served(sandbox: Sandbox, services: set[str]) -> None:
    calls = sandbox.calls
    assert {c.service for c in calls} >= services
    assert [c for c in calls if not c.served] == []


def _no_html(text: str) -> None:
    assert not [marker for marker in HTML if marker.lower() in text.lower()]


def test_plan_with_evidence_is_answered_over_http(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, url: str
) -> None:
    """A plan with evidence in every region of the partition: IAM, STS, EC2 (query) and
    CloudTrail (JSON) all answer through the endpoint; the report has no error page."""
    sandbox.use_root_key(account.account_id, account.root_key_ids[0], times=3)
    manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), clock=clock)
    plan = manager.plan(observe_for=HOUR)
    used = next(pk for pk in plan.keys if pk.key.key_id == account.root_key_ids[0])
    assert used.evidence is not None
    assert used.evidence.unavailable is None
    assert used.evidence.cloudtrail is not None
    assert used.evidence.cloudtrail.events == 3
    assert used.evidence.cloudtrail.unavailable_regions == ()
    assert plan.credential_report is not None
    assert plan.credential_report.active_keys == 2
    _no_html(plan.table())
    _no_html(plan.model_dump_json())
    _all_served(sandbox, {"iam", "sts", "ec2", "cloudtrail"})


def test_organization_audit_and_removal_are_answered_over_http(
    sandbox: Sandbox, clock: FakeClock, url: str
) -> None:
    """Organizations (JSON) and AssumeRoot (query) through the endpoint: the audit lists
    each member's key, and a removal quarantines, observes and deletes them."""
    org = sandbox.create_organization(members=2, root_keys=1)
    organization = rootkeys.Organization(sandbox.management_session(), clock=clock)
    audits = {a.account_id: a for a in organization.audit()}
    for member in org.member_account_ids:
        assert [k.key_id for k in audits[member].keys] == [
            k.key_id for k in sandbox.root_keys(member)
        ]
    report = organization.remove_all(HOUR, timedelta(minutes=30))
    assert report.counts.get(AccountOutcome.DONE) == 2
    assert all(sandbox.root_keys(m) == [] for m in org.member_account_ids)
    _no_html(report.model_dump_json())
    _all_served(sandbox, {"organizations", "sts", "iam"})


def test_cloudwatch_alarm_check_is_answered_over_http(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, url: str
) -> None:
    """A CloudWatch alarm check through the endpoint: it sees the alarm go off mid-window
    and the run rolls back."""
    sandbox.create_alarm(account.account_id, "orders-5xx")
    ticks = 0

    def app_breaks(key: rootkeys.AccessKey) -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            sandbox.set_alarm_state(account.account_id, "orders-5xx", "ALARM")
        return True

    alarms = rootkeys.checks.CloudWatchAlarmCheck(
        sandbox.admin_session(account.account_id), names=["orders-5xx"]
    )
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), checks=[app_breaks, alarms], clock=clock
    )
    report = manager.remove_all(observe_for=HOUR, check_interval=timedelta(minutes=20))
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert "orders-5xx is in ALARM" in report.check_failure.reason
    assert [c for c in sandbox.calls if c.service == "cloudwatch" and c.served]


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


SIGNED = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261127/us-east-1/{}/aws4_request, x"


def test_an_unsigned_request_gets_an_aws_error_not_a_page(url: str) -> None:
    """A request that is no AWS call: an AWS-shaped XML error, never an HTML page."""
    status, _, body = _post(url, b"hello", {"Content-Type": "text/plain"})
    assert status == 400
    assert b"<Code>InvalidRequest</Code>" in body
    _no_html(body.decode())


def test_an_unemulated_json_call_gets_a_json_error(url: str) -> None:
    """An operation no one answers, in the JSON protocol: a JSON error botocore reads."""
    status, _, body = _post(
        url,
        b"{}",
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSNothingService.DoSomething",
            "Authorization": SIGNED.format("nothing"),
        },
    )
    assert status == 501
    error = json.loads(body)
    assert error["__type"] == "NotImplemented"
    assert "nothing:DoSomething" in error["message"]


def test_a_cbor_error_is_read_by_botocore() -> None:
    """An error for an RPC v2 CBOR request is CBOR that botocore's own parser reads."""
    request = AWSPreparedRequest(
        "POST",
        "https://monitoring.us-east-1.amazonaws.com/service/X/operation/DescribeAlarms",
        {"smithy-protocol": "rpc-v2-cbor"},
        b"",
        False,
    )
    answer = _http.error(request, "cloudwatch", "Throttling", "Rate exceeded", 400)
    model = botocore.session.get_session().get_service_model("cloudwatch")
    parsed = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": 400, "headers": answer.headers, "body": answer.content},
        model.operation_model("DescribeAlarms").output_shape,
    )
    assert parsed["Error"]["Code"] == "Throttling"
    assert parsed["Error"]["Message"] == "Rate exceeded"


@pytest.mark.parametrize(
    ("operation", "headers", "path", "body"),
    [
        ("ListAccessKeys", {}, "/", b"Action=ListAccessKeys&Version=2010-05-08"),
        ("LookupEvents", {"X-Amz-Target": "CloudTrail_20131101.LookupEvents"}, "/", b"{}"),
        (
            "DescribeAlarms",
            {},
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            b"",
        ),
        ("DescribeRegions", {}, "/?Action=DescribeRegions&Version=2016-11-15", b""),
    ],
    ids=["query", "json", "rpc-v2-cbor", "query-string"],
)
def test_the_operation_is_read_in_each_protocol(
    operation: str, headers: dict[str, str], path: str, body: bytes
) -> None:
    """The operation comes from the form body, X-Amz-Target, the RPC v2 path or the URL."""
    from botocore.compat import HTTPHeaders

    from rootkeys.testing._server import operation_of

    found = HTTPHeaders()
    for name, value in headers.items():
        found[name] = value
    assert operation_of(path, found, body) == operation


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_health_url_answers_what_it_is_told(sandbox: Sandbox, url: str) -> None:
    """GET answers 200; PUT 503 makes it 503; set_health changes it too; junk is refused."""
    health = url + HEALTH_PATH
    assert _get(health) == 200
    assert _post_put(health, b"503") == 200
    assert _get(health) == 503
    sandbox.set_health(204)
    assert _get(health) == 204
    assert _post_put(health, b"teapot") == 400
    assert _get(health) == 204
    with pytest.raises(ValueError, match="100 to 599"):
        sandbox.set_health(42)


def _post_put(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_http_check_watches_the_health_url(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, url: str
) -> None:
    """An HttpHealthCheck on the health URL rolls the run back once it answers 503."""
    ticks = 0

    def outage(key: rootkeys.AccessKey) -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            sandbox.set_health(503)
        return True

    check = rootkeys.checks.HttpHealthCheck(url + HEALTH_PATH, name="app health")
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), checks=[outage, check], clock=clock
    )
    report = manager.remove_all(observe_for=HOUR, check_interval=timedelta(minutes=20))
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert report.check_failure.check == "app health"
