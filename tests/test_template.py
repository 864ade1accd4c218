"""The deployment template: what it deploys, and a role that covers exactly what a pass does.

The role-coverage tests run an organization's removal on the sandbox (day 0 quarantine,
the window's passes, the delete pass, one account's check failing and rolled back, the
password and MFA devices removed too, one pass limited to an OU) and replay every call
the management account's principal made against the function role's policy, as IAM would
evaluate it (tests/iam_policy.py). The member accounts' calls are made in AssumeRoot
sessions, governed by the task policies the role's ``sts:TaskPolicyArn`` condition
allows, so they are checked through that condition.

Today the pass is driven through `rootkeys.Organization` with a SQLite journal
(`organization_passes`). When the Lambda handler and the DynamoDB journal land, a
driver that invokes ``rootkeys.aws_lambda.handler`` with ``dynamodb://`` joins `DRIVERS`,
and the journal's, the config's and the function's own calls move from `RUNTIME_CALLS`
(the calls the sandbox cannot see today, each with its reason) to the record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import rootkeys
from rootkeys._quarantine import QUARANTINE_DESCRIPTION, QUARANTINE_NAME, QUARANTINE_POLICY
from rootkeys.testing import MIXED, FakeClock, Sandbox, SandboxCall, SandboxOrganization
from tests.iam_policy import Policy, Request, Resolver, load_template, role_policy
from tests.orgtools import AppCheck

REGION = "us-east-1"
WINDOW = "3d"
CREDENTIALS = ("keys", "certificates", "password", "mfa")
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
RECOVER = "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"

NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})
"""Operations AWS authorizes without any permission."""

OPERATION_ACTIONS: dict[str, tuple[str, ...]] = {
    # a transaction is authorized item by item: an append puts the record and updates
    # the account's head item, each under its condition
    "dynamodb:TransactWriteItems": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
    "dynamodb:TransactGetItems": ("dynamodb:GetItem",),
    "lambda:Invoke": ("lambda:InvokeFunction",),
}
"""API operations whose IAM actions are not ``service:Operation``."""

SERVICE_PREFIXES = {"monitoring": "cloudwatch"}
"""botocore service names whose IAM prefix differs."""

TABLE = "rootkeys-journal"
CONFIG_BUCKET, CONFIG_KEY = "example-rootkeys-config", "rootkeys/config.toml"


def stack_values(account: str) -> dict[str, str]:
    """What CloudFormation would give the stack's resources, in ``account`` and `REGION`."""
    return {
        "JournalTable": TABLE,
        "JournalTable.Arn": f"arn:aws:dynamodb:{REGION}:{account}:table/{TABLE}",
        "Topic": f"arn:aws:sns:{REGION}:{account}:rootkeys-Topic-EXAMPLE",
        "TopicKey.Arn": f"arn:aws:kms:{REGION}:{account}:key/0a1b2c3d-0000-4000-8000-0123456789ab",
        "DeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{account}:rootkeys-DeadLetterQueue-EXAMPLE",
        "Function.Arn": f"arn:aws:lambda:{REGION}:{account}:function:rootkeys",
    }


@dataclass(frozen=True)
class Expected:
    """A call the function makes that the sandbox's record does not show today."""

    service: str
    operation: str
    params: dict[str, str]
    why: str


RUNTIME_CALLS = (
    Expected("dynamodb", "Query", {"TableName": TABLE}, "an account's records, read each pass"),
    Expected("dynamodb", "GetItem", {"TableName": TABLE}, "an account's lease, read"),
    Expected("dynamodb", "PutItem", {"TableName": TABLE}, "a lease or a head item, made once"),
    Expected("dynamodb", "UpdateItem", {"TableName": TABLE}, "a lease taken, renewed, released"),
    Expected(
        "dynamodb",
        "TransactWriteItems",
        {"TableName": TABLE},
        "an append: the record put, the head updated, the writer's lease checked (fencing)",
    ),
    Expected(
        "s3",
        "GetObject",
        {"Bucket": CONFIG_BUCKET, "Key": CONFIG_KEY},
        "the handler reads its config file (ROOTKEYS_CONFIG_S3)",
    ),
    Expected("sns", "Publish", {"TopicArn": "{Topic}"}, "a message per account outcome"),
    Expected(
        "kms", "GenerateDataKey", {"KeyId": "{TopicKey.Arn}"}, "SNS encrypts it (the topic's key)"
    ),
    Expected("kms", "Decrypt", {"KeyId": "{TopicKey.Arn}"}, "SNS encrypts it (the topic's key)"),
    Expected(
        "lambda",
        "Invoke",
        {"FunctionName": "{Function.Arn}"},
        "a pass out of time hands the rest to the next invocation (asynchronous)",
    ),
    Expected(
        "sqs",
        "SendMessage",
        {"QueueArn": "{DeadLetterQueue.Arn}"},
        "Lambda's on-failure destination, sent with the function's role",
    ),
    Expected(
        "logs",
        "CreateLogStream",
        {"logGroupName": "/aws/lambda/rootkeys"},
        "Lambda's runtime writes the function's logs with its role",
    ),
    Expected(
        "logs",
        "PutLogEvents",
        {"logGroupName": "/aws/lambda/rootkeys"},
        "Lambda's runtime writes the function's logs with its role",
    ),
)
"""The function's calls around the pass (journal, config, notifications, runtime).

The handler's driver (``handler+dynamodb``) makes the journal's, the config's and the
notifications' calls in the sandbox, where the role is checked against them; the library's
driver does not, so they are listed here too, and KMS (SNS encrypts on the publisher's
behalf), the re-invocation, the dead-letter queue and the logs are what the sandbox never
sees. ``Scan`` (``rootkeys journal export``) and ``CreateTable`` (``journal create``) are a
person's, not the function's: opening a new table reads only (META is written with the
first lease).
"""

ALLOWED_UNUSED: dict[str, str] = {}
"""Actions the role may allow with neither a call nor an expected one (none: keep it so)."""


# -- the template ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def test_function_runs_the_handler_with_the_journal_and_config_it_names(
    template: dict[str, Any],
) -> None:
    """The Lambda function: the handler, a supported runtime, the env the handler reads."""
    resolver = Resolver(
        template,
        {"ConfigS3Bucket": "cfg", "ConfigS3Key": "rk/config.toml"},
        {"AWS::Region": "eu-west-1"},
        refs={"JournalTable": "rootkeys-journal"},
    )
    (function,) = resources_of(template, "AWS::Lambda::Function").values()
    props = resolver.resolve(function["Properties"])
    assert props["Handler"] == "rootkeys.aws_lambda.handler"
    assert props["Runtime"] in {"python3.11", "python3.12", "python3.13"}
    assert props["Timeout"] == 900
    assert props["Environment"]["Variables"] == {
        "ROOTKEYS_JOURNAL": "dynamodb://rootkeys-journal?region=eu-west-1",
        "ROOTKEYS_CONFIG_S3": "s3://cfg/rk/config.toml",
    }
    assert set(props["Code"]) == {"S3Bucket", "S3Key"}


def test_journal_table_is_kept_keyed_and_never_expires(template: dict[str, Any]) -> None:
    """pk/sk strings, on demand, point-in-time recovery, retained, no TTL."""
    (table,) = resources_of(template, "AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in props


def test_quarantine_scp_is_the_one_rootkeys_finds_by_name(template: dict[str, Any]) -> None:
    """The stack's SCP has rootkeys' name, description and content, and is never deleted."""
    policy = template["Resources"]["QuarantinePolicy"]
    assert policy["DeletionPolicy"] == "Retain"
    props = policy["Properties"]
    assert props["Name"] == QUARANTINE_NAME
    assert props["Type"] == "SERVICE_CONTROL_POLICY"
    assert props["Description"] == QUARANTINE_DESCRIPTION
    assert props["Content"] == QUARANTINE_POLICY
    assert "TargetIds" not in props  # attached by the function, account by account


def test_alarms_notify_a_topic_cloudwatch_can_publish_to(template: dict[str, Any]) -> None:
    """Errors and dead letters alarm to the topic; its key is the stack's, open to CloudWatch.

    The AWS managed key ``alias/aws/sns`` cannot be used: its key policy cannot grant
    CloudWatch, so an alarm's message to a topic encrypted with it is dropped.
    """
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()
    }
    assert watched == {("AWS/Lambda", "Errors"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "Topic"}]
    topic = template["Resources"]["Topic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "TopicKey"}
    resolver = Resolver(template, pseudo={"AWS::AccountId": "999988887777"})
    key_policy = resolver.resolve(template["Resources"]["TopicKey"]["Properties"]["KeyPolicy"])
    grants = [
        s
        for s in key_policy["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        ours = Request(action, ("*",), {"aws:SourceAccount": "999988887777"})
        theirs = Request(action, ("*",), {"aws:SourceAccount": "111122223333"})
        assert Policy.of([{"Statement": grants}]).decide(ours) == "allowed"
        assert Policy.of([{"Statement": grants}]).decide(theirs) == "not allowed"


def test_failed_invocations_reach_the_dead_letter_queue(template: dict[str, Any]) -> None:
    """Lambda's on-failure destination and the schedule's dead-letter queue: one queue."""
    invoke = template["Resources"]["FunctionAsyncConfig"]["Properties"]
    dlq = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == dlq
    target = template["Resources"]["Schedule"]["Properties"]["Target"]
    assert target["DeadLetterConfig"]["Arn"] == dlq
    assert target["Arn"] == {"Fn::GetAtt": ["Function", "Arn"]}


def test_schedule_role_may_only_start_the_function(template: dict[str, Any]) -> None:
    """Daily by default; its role invokes this function and writes dead letters, nothing else."""
    assert template["Parameters"]["ScheduleExpression"]["Default"] == "cron(0 9 * * ? *)"
    resolver = Resolver(
        template,
        attributes={
            "Function.Arn": "arn:aws:lambda:us-east-1:999988887777:function:rootkeys",
            "DeadLetterQueue.Arn": "arn:aws:sqs:us-east-1:999988887777:dlq",
        },
    )
    policy = role_policy(resolver, "ScheduleRole")
    assert policy.allowed_actions() == {"lambda:InvokeFunction", "sqs:SendMessage"}
    invoke = Request("lambda:InvokeFunction", ("arn:aws:lambda:us-east-1:999988887777:function:x",))
    assert policy.decide(invoke) == "not allowed"


# -- the role against an organization pass -------------------------------------------------


@dataclass
class Scenario:
    """An organization on the sandbox, set up as the stack leaves it."""

    sandbox: Sandbox
    clock: FakeClock
    org: SandboxOrganization
    failing: str  # the member whose check fails
    quarantine_arn: str  # the stack's SCP
    root: str  # the organization's root (r-...)
    config: Path
    journal: Path

    @property
    def management(self) -> str:
        return self.org.management_account_id


def set_up(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, template: dict[str, Any]
) -> Scenario:
    """Five members with every kind of root credential; the stack's SCP; an alarm to watch."""
    org = sandbox.create_organization(members=5, root_keys=1, credentials=MIXED)
    management = sandbox.management_session()
    organizations = management.client("organizations")
    props = template["Resources"]["QuarantinePolicy"]["Properties"]
    made = organizations.create_policy(
        Name=props["Name"],
        Description=props["Description"],
        Type=props["Type"],
        Content=json.dumps(props["Content"]),
    )["Policy"]["PolicySummary"]
    management.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="orders-5xx",
        Namespace="orders",
        MetricName="5xx",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    # what the stack makes besides: the table (no item yet), the topic, the config in S3
    management.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = management.client("sns", region_name=REGION).create_topic(
        Name=stack_values(org.management_account_id)["Topic"].rsplit(":", 1)[1]
    )["TopicArn"]
    failing = org.member_account_ids[2]
    config = tmp_path / "config.toml"
    config.write_text(
        f'observe = "{WINDOW}"\n\n[[checks.alarms]]\nnames = ["orders-5xx"]\nregion = "{REGION}"\n'
        f"\n[organization]\ncredentials = {list(CREDENTIALS)!r}\n".replace("'", '"')
        + f'\n[[notify.sns]]\ntopic_arn = "{topic}"\n'
    )
    s3 = management.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=CONFIG_BUCKET)
    s3.put_object(Bucket=CONFIG_BUCKET, Key=CONFIG_KEY, Body=config.read_bytes())
    return Scenario(
        sandbox,
        clock,
        org,
        failing=failing,
        quarantine_arn=made["Arn"],
        root=organizations.list_roots()["Roots"][0]["Id"],
        config=config,
        journal=tmp_path / "journal.sqlite3",
    )


def organization_passes(scenario: Scenario) -> None:
    """Daily passes through `rootkeys.Organization` and a SQLite journal, config from a file.

    Day 0 quarantines (and rolls back the failing account), days 1-2 observe, day 3
    deletes; the last pass is limited to the organization's root (an OU selection).
    """
    sandbox, clock = scenario.sandbox, scenario.clock
    management = sandbox.management_session()
    config = rootkeys.load_config(scenario.config)
    app = AppCheck(sandbox, scenario.failing, sandbox.root_keys(scenario.failing)[0].key_id)
    for day in range(5):
        organization = rootkeys.Organization(  # a fresh one a day, as each invocation is
            management,
            clock=clock,
            journal=scenario.journal,
            checks=[*config.checks(management), app],
        )
        organization.remove_all(
            config.observe_for(),
            wait=False,
            credentials=CREDENTIALS,
            progress=False,
            ou=scenario.root if day == 4 else None,
        )
        clock.advance(timedelta(days=1))


def handler_passes(scenario: Scenario) -> None:
    """Daily invocations of `rootkeys.aws_lambda.handler`, as the stack runs it: its config
    from S3, the journal in the stack's table (empty, as CloudFormation leaves it), SNS
    notifications; the failing member's check fails through the app's key (an alarm
    stands in for it: the app's own check is Python, so it is added to the config's)."""
    from rootkeys.aws_lambda import Handler
    from tests.lambdatools import FakeContext

    sandbox, clock = scenario.sandbox, scenario.clock
    management = sandbox.management_session()
    app = AppCheck(sandbox, scenario.failing, sandbox.root_keys(scenario.failing)[0].key_id)
    environ = {
        "ROOTKEYS_JOURNAL": f"dynamodb://{TABLE}?region={REGION}",
        "ROOTKEYS_CONFIG_S3": f"s3://{CONFIG_BUCKET}/{CONFIG_KEY}",
        "AWS_REGION": REGION,
    }
    real_checks = rootkeys.config.Config.checks

    def with_app(config: rootkeys.config.Config, *args: Any, **kwargs: Any) -> list[Any]:
        return [*real_checks(config, *args, **kwargs), app]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rootkeys.config.Config, "checks", with_app)
        for day in range(5):
            if day == 4:  # the last pass limited to the organization's root (an OU)
                config = scenario.config.read_text().replace(
                    "[organization]\n", f'[organization]\nou = "{scenario.root}"\n'
                )
                _replace_config(scenario.management, config)
            handler = Handler(session=management, clock=clock, environ=environ, invoke=None)
            handler({"source": "schedule"}, FakeContext())
            clock.advance(timedelta(days=1))


def _replace_config(account: str, text: str) -> None:
    """A person edits the config object (straight in moto: not a call of the function's)."""
    from moto.s3.models import s3_backends

    s3_backends[account]["aws"].put_object(CONFIG_BUCKET, CONFIG_KEY, text.encode())


Driver = Callable[[Scenario], None]
DRIVERS: dict[str, Driver] = {
    "organization+sqlite": organization_passes,
    "handler+dynamodb": handler_passes,
}
"""How a pass is driven: the library with a SQLite journal, and the function as the stack
runs it (config from S3, the journal in DynamoDB, notifications on SNS)."""


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions an API operation needs (none for the few that need no permission)."""
    action = f"{SERVICE_PREFIXES.get(service, service)}:{operation}"
    if action in NO_PERMISSION:
        return ()
    return OPERATION_ACTIONS.get(action, (action,))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` in it replaced by ``values[name]``."""
    return re.sub(r"\{([^}]+)\}", lambda found: values[found.group(1)], text)


def requests_for(
    service: str, operation: str, params: Mapping[str, str], scenario: Scenario
) -> list[Request]:
    """The authorization requests one call of the management account's principal makes."""
    account = scenario.management
    base = f"arn:aws:organizations::{account}"
    org_id = scenario.quarantine_arn.split("/")[1]
    stack = stack_values(account)

    def target(target_id: str) -> str:
        kind = (
            "root"
            if target_id.startswith("r-")
            else "ou"
            if target_id.startswith("ou-")
            else "account"
        )
        return f"{base}:{kind}/{org_id}/{target_id}"

    resources: tuple[str, ...] = ("*",)  # an action with no resource-level permissions
    context: dict[str, str] = {}
    if operation == "AssumeRoot":
        member = params["TargetPrincipal"].removesuffix(":root").rsplit(":", 1)[-1]
        resources = (f"arn:aws:iam::{member}:root",)
        context = {"sts:TaskPolicyArn": params["TaskPolicyArn.arn"]}
    elif operation in {"AttachPolicy", "DetachPolicy"}:
        policy = f"{base}:policy/{org_id}/service_control_policy/{params['PolicyId']}"
        resources = (policy, target(params["TargetId"]))
    elif operation == "ListPoliciesForTarget":
        resources = (target(params["TargetId"]),)
    elif operation in {"ListAccountsForParent", "ListOrganizationalUnitsForParent"}:
        resources = (target(params["ParentId"]),)
    elif service == "cloudwatch":
        resources = (f"arn:aws:cloudwatch:{REGION}:{account}:alarm:*",)
    elif service == "dynamodb":
        resources = tuple(  # a transaction: each table it writes
            f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"
            for name in params["TableName"].split(",")
        )
    elif service == "s3":
        resources = (f"arn:aws:s3:::{params['Bucket']}/{params['Key']}",)
    elif service == "sns":
        resources = (fill(params["TopicArn"], stack),)
    elif service == "kms":  # SNS uses the topic's key on the publisher's behalf
        resources = (fill(params["KeyId"], stack),)
        context = {"kms:ViaService": f"sns.{REGION}.amazonaws.com"}
    elif service == "lambda":
        resources = (fill(params["FunctionName"], stack),)
    elif service == "sqs":
        resources = (fill(params["QueueArn"], stack),)
    elif service == "logs":
        group = params["logGroupName"]
        resources = (f"arn:aws:logs:{REGION}:{account}:log-group:{group}:log-stream:2026/12/02",)
    return [Request(action, resources, context) for action in iam_actions(service, operation)]


def requests_of(call: SandboxCall, scenario: Scenario) -> list[Request]:
    return requests_for(call.service, call.operation, call.params, scenario)


def function_policy(template: dict[str, Any], scenario: Scenario) -> Policy:
    """The function role's policy, resolved as CloudFormation would in the scenario's account."""
    stack = stack_values(scenario.management)
    resolver = Resolver(
        template,
        parameters={"ConfigS3Bucket": CONFIG_BUCKET, "ConfigS3Key": CONFIG_KEY},
        pseudo={"AWS::Region": REGION, "AWS::AccountId": scenario.management},
        refs={k: v for k, v in stack.items() if "." not in k},
        attributes={
            **{k: v for k, v in stack.items() if "." in k},
            "QuarantinePolicy.Arn": scenario.quarantine_arn,
        },
    )
    return role_policy(resolver, "FunctionRole")


def _isolated(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    """As conftest's autouse fixture does per test (this fixture outlives a test): no
    developer's AWS config, journal or config file."""
    monkeypatch.setenv("XDG_STATE_HOME", f"{tmp}/state")
    monkeypatch.setenv("XDG_CONFIG_HOME", f"{tmp}/config")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp}/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp}/aws-credentials")
    for name in ("ROOTKEYS_CONFIG", "ROOTKEYS_JOURNAL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Run:
    """A driven scenario and what it called."""

    scenario: Scenario
    management: list[SandboxCall]  # the calls the management account's principal made
    members: list[SandboxCall]  # the calls made in AssumeRoot sessions


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def run(
    request: pytest.FixtureRequest,
    template: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    """The scenario, driven once per module (a whole removal takes seconds)."""
    clock = FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    tmp = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as monkeypatch, Sandbox(clock=clock) as sandbox:
        _isolated(monkeypatch, tmp)
        scenario = set_up(sandbox, clock, tmp, template)
        mark = len(sandbox.calls)
        DRIVERS[request.param](scenario)
        calls = sandbox.calls[mark:]
        yield Run(
            scenario,
            [c for c in calls if c.principal == "admin" and c.account_id == scenario.management],
            [c for c in calls if c.principal == "assumed-root"],
        )


def test_scenario_covers_quarantine_rollback_and_every_delete(run: Run) -> None:
    """The replayed pass did all a pass does: quarantine, rollback, both task policies,
    the deletes of every kind, a walk of the organization's tree, no new SCP."""
    operations = {c.operation for c in run.management}
    assert {"AttachPolicy", "DetachPolicy", "AssumeRoot", "ListAccountsForParent"} <= operations
    assert "CreatePolicy" not in operations  # the stack made the SCP; it is found by name
    policies = {
        c.params["TaskPolicyArn.arn"] for c in run.management if c.operation == "AssumeRoot"
    }
    assert policies == {AUDIT, DELETE}
    in_members = {c.operation for c in run.members}
    assert {
        "DeleteAccessKey",
        "DeleteSigningCertificate",
        "DeleteLoginProfile",
        "DeactivateMFADevice",
    } <= in_members
    detached = [c.params["TargetId"] for c in run.management if c.operation == "DetachPolicy"]
    assert run.scenario.failing in detached  # rolled back
    sandbox = run.scenario.sandbox
    left = {m: sandbox.root_keys(m) for m in run.scenario.org.member_account_ids}
    assert [m for m, keys in left.items() if keys] == [run.scenario.failing]  # the rest: done


def test_role_allows_every_call_a_pass_makes(run: Run, template: dict[str, Any]) -> None:
    """Each management-account call, as IAM would authorize it, is allowed by the role."""
    policy = function_policy(template, run.scenario)
    refused = {
        (request.action, request.resources, tuple(request.context.items()))
        for call in run.management
        for request in requests_of(call, run.scenario)
        if policy.decide(request) != "allowed"
    }
    assert refused == set()
    assert [c for c in run.management if c.status >= 400] == []


def test_role_allows_the_calls_the_function_makes_around_the_pass(
    run: Run, template: dict[str, Any]
) -> None:
    """The journal's, the config's, the notifications' and the runtime's calls are allowed."""
    policy = function_policy(template, run.scenario)
    refused = [
        (call.service, call.operation, request.action)
        for call in RUNTIME_CALLS
        for request in requests_for(call.service, call.operation, call.params, run.scenario)
        if policy.decide(request) != "allowed"
    ]
    assert refused == []


def test_role_allows_nothing_a_pass_does_not_need(run: Run, template: dict[str, Any]) -> None:
    """Least privilege: every action allowed is made by the pass, or expected with its reason."""
    allowed = function_policy(template, run.scenario).allowed_actions()
    assert [a for a in allowed if "*" in a or "?" in a] == []  # every action named
    used = {a for call in run.management for a in iam_actions(call.service, call.operation)}
    expected = {a for call in RUNTIME_CALLS for a in iam_actions(call.service, call.operation)}
    assert allowed - used - expected - set(ALLOWED_UNUSED) == set()
    assert (used | expected) - allowed == set()


REFUSED = {
    "the recovery task policy": ("sts:AssumeRoot", ("arn:aws:iam::111122223333:root",), RECOVER),
    "an unlock task policy": (
        "sts:AssumeRoot",
        ("arn:aws:iam::111122223333:root",),
        "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
    ),
    "AssumeRoot with no task policy": ("sts:AssumeRoot", ("arn:aws:iam::111122223333:root",), None),
    "attaching another SCP": (
        "organizations:AttachPolicy",
        (
            "{base}:policy/{org}/service_control_policy/p-FullAWSAccess",
            "{base}:account/{org}/111122223333",
        ),
        None,
    ),
    "quarantining an OU": (
        "organizations:AttachPolicy",
        ("{quarantine}", "{base}:ou/{org}/ou-ab12-cdefgh34"),
        None,
    ),
    "releasing the root": (
        "organizations:DetachPolicy",
        ("{quarantine}", "{base}:root/{org}/r-ab12"),
        None,
    ),
    "creating an SCP": ("organizations:CreatePolicy", ("*",), None),
    "deleting the SCP": ("organizations:DeletePolicy", ("{quarantine}",), None),
    "the management account's own keys": ("iam:DeleteAccessKey", ("*",), None),
    "enabling root sessions": ("iam:EnableOrganizationsRootSessions", ("*",), None),
    "scanning the journal": ("dynamodb:Scan", ("{table}",), None),
    "deleting a journal record": ("dynamodb:DeleteItem", ("{table}",), None),
    "another table": ("dynamodb:PutItem", ("{table}-other",), None),
    "another S3 object": ("s3:GetObject", (f"arn:aws:s3:::{CONFIG_BUCKET}/other.toml",), None),
    "another function": ("lambda:InvokeFunction", ("{function}-other",), None),
}
"""Calls no pass makes, which the role must refuse (negative controls for the evaluator too)."""


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_role_refuses_what_a_pass_never_does(run: Run, template: dict[str, Any], what: str) -> None:
    """Outside a pass's calls, the role refuses: other task policies, SCPs, targets, tables."""
    action, resources, task_policy = REFUSED[what]
    stack = stack_values(run.scenario.management)
    names = {
        "base": f"arn:aws:organizations::{run.scenario.management}",
        "org": run.scenario.quarantine_arn.split("/")[1],
        "quarantine": run.scenario.quarantine_arn,
        "table": stack["JournalTable.Arn"],
        "function": stack["Function.Arn"],
    }
    request = Request(
        action,
        tuple(r.format(**names) for r in resources),
        {} if task_policy is None else {"sts:TaskPolicyArn": task_policy},
    )
    assert function_policy(template, run.scenario).decide(request) == "not allowed"


def test_task_policies_allowed_are_those_a_pass_uses(template: dict[str, Any]) -> None:
    """The AssumeRoot condition names the audit and delete task policies, in any partition."""
    for partition in ("aws", "aws-us-gov"):
        resolver = Resolver(template, pseudo={"AWS::Partition": partition})
        (statement,) = [
            s
            for s in role_policy(resolver, "FunctionRole").statements
            if "sts:AssumeRoot" in s.actions
        ]
        assert statement.condition == {
            "ArnEquals": {
                "sts:TaskPolicyArn": [
                    AUDIT.replace("arn:aws:", f"arn:{partition}:"),
                    DELETE.replace("arn:aws:", f"arn:{partition}:"),
                ]
            }
        }
        assert statement.resources == (f"arn:{partition}:iam::*:root",)


def test_docs_page_names_every_parameter_and_statement(template: dict[str, Any]) -> None:
    """docs/run-in-your-organization.md documents each parameter and each role statement."""
    page = (Path(__file__).parents[1] / "docs" / "run-in-your-organization.md").read_text()
    missing = [f"`{name}`" for name in template["Parameters"] if f"`{name}`" not in page]
    statements = role_policy(Resolver(template), "FunctionRole").statements
    missing += [s.sid for s in statements if f"`{s.sid}`" not in page]
    assert missing == []
