"""The sandbox's organizations: AssumeRoot with AWS's constraints, task policies enforced."""

from __future__ import annotations

from datetime import timedelta

import boto3
import botocore.exceptions
import pytest

from rootkeys._quarantine import QUARANTINE_POLICY
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization

AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=2, root_keys=2)


def _assume(sandbox: Sandbox, target: str, arn: str, **kwargs: object) -> boto3.Session:
    sts = sandbox.management_session().client("sts", region_name="us-east-1")
    made = sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": arn}, **kwargs)
    c = made["Credentials"]
    return sandbox._session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def _code(call: object) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()  # type: ignore[operator]
    return str(caught.value.response["Error"]["Code"])


def test_organization_has_members_with_root_keys(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """moto lists the management account and every member; each member has root keys."""
    accounts = sandbox.management_session().client("organizations").list_accounts()["Accounts"]
    assert {a["Id"] for a in accounts} == {org.management_account_id, *org.member_account_ids}
    assert all(len(sandbox.root_keys(m)) == 2 for m in org.member_account_ids)


def test_features_are_listed_for_the_management_account_only(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """ListOrganizationsFeatures answers the management account; a member is refused."""
    features = sandbox.management_session().client("iam").list_organizations_features()
    assert features["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    member = sandbox.admin_session(org.member_account_ids[0]).client("iam")
    assert _code(member.list_organizations_features) == (
        "AccountNotManagementOrDelegatedAdministratorException"
    )


def test_audit_session_reads_but_cannot_change(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """An audit session acts as the member's root, reads its keys, and may not change them."""
    target = org.member_account_ids[0]
    session = _assume(sandbox, target, AUDIT)
    assert session.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{target}:root"
    iam = session.client("iam")
    assert len(iam.list_access_keys()["AccessKeyMetadata"]) == 2
    assert iam.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"] == 1
    key = sandbox.root_keys(target)[0].key_id
    assert (
        _code(lambda: iam.update_access_key(AccessKeyId=key, Status="Inactive")) == "AccessDenied"
    )
    assert _code(lambda: iam.delete_access_key(AccessKeyId=key)) == "AccessDenied"


def test_delete_session_deletes_but_cannot_deactivate(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """The delete task policy allows DeleteAccessKey, not UpdateAccessKey (AWS's gap)."""
    target = org.member_account_ids[1]
    iam = _assume(sandbox, target, DELETE).client("iam")
    first, second = (k.key_id for k in sandbox.root_keys(target))
    assert _code(lambda: iam.update_access_key(AccessKeyId=first, Status="Inactive")) == (
        "AccessDenied"
    )
    assert _code(iam.get_account_summary) == "AccessDenied"
    iam.delete_access_key(AccessKeyId=first)
    assert [k.key_id for k in sandbox.root_keys(target)] == [second]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"DurationSeconds": 901}, "ValidationError"),
        ({"arn": "arn:aws:iam::aws:policy/root-task/Everything"}, "ValidationError"),
        ({"target": "management"}, "AccessDenied"),
    ],
    ids=["over-900s", "unknown-task-policy", "management-account-target"],
)
def test_assume_root_constraints(
    sandbox: Sandbox,
    org: SandboxOrganization,
    kwargs: dict[str, object],
    code: str,
) -> None:
    """AWS's constraints: 900 s at most, the five task policies, member accounts only."""
    target = org.management_account_id if kwargs.pop("target", None) else org.member_account_ids[0]
    arn = str(kwargs.pop("arn", AUDIT))
    sts = sandbox.management_session().client("sts", region_name="us-east-1")
    assert (
        _code(lambda: sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": arn}, **kwargs))
        == code
    )


def test_assume_root_needs_a_regional_endpoint_and_a_non_root_caller(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """The global STS endpoint does not know AssumeRoot; root credentials may not call it."""
    target = org.member_account_ids[0]
    global_sts = sandbox.management_session().client(
        "sts", region_name="us-east-1", endpoint_url="https://sts.amazonaws.com"
    )
    assert (
        _code(lambda: global_sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT}))
        == "InvalidAction"
    )
    root_sts = sandbox.root_session(org.management_account_id).client("sts")
    assert (
        _code(lambda: root_sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT}))
        == "AccessDenied"
    )


def test_root_sessions_feature_is_required(sandbox: Sandbox) -> None:
    """Without the RootSessions feature, AssumeRoot is refused."""
    org = sandbox.create_organization(members=1, root_features=False)
    sts = sandbox.management_session().client("sts", region_name="us-east-1")
    assert (
        _code(
            lambda: sts.assume_root(
                TargetPrincipal=org.member_account_ids[0], TaskPolicyArn={"arn": AUDIT}
            )
        )
        == "AccessDenied"
    )


def test_session_expires_after_its_duration(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
) -> None:
    """A root session stops working when its (at most 15-minute) duration is over."""
    iam = _assume(sandbox, org.member_account_ids[0], AUDIT, DurationSeconds=300).client("iam")
    iam.list_access_keys()
    clock.advance(timedelta(seconds=301))
    assert _code(iam.list_access_keys) == "ExpiredToken"


QUARANTINE = QUARANTINE_POLICY  # exactly what rootkeys attaches


def test_quarantine_scp_breaks_root_keys_until_detached(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """While the quarantine SCP is attached, the member's root key is refused; then not."""
    import json

    member = org.member_account_ids[0]
    app = sandbox.root_session(member, key_id=sandbox.root_keys(member)[0].key_id).client("iam")
    app.list_access_keys()  # the app works
    orgs = sandbox.management_session().client("organizations")
    policy = orgs.create_policy(
        Content=json.dumps(QUARANTINE), Description="q", Name="q", Type="SERVICE_CONTROL_POLICY"
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=policy, TargetId=member)
    assert _code(app.list_access_keys) == "AccessDenied"  # the app breaks, visibly
    root_id = sandbox.root_session(member).client("sts").get_caller_identity()["Arn"]
    assert root_id.endswith(":root")  # GetCallerIdentity is never denied
    other = org.member_account_ids[1]
    sandbox.root_session(other).client("iam").list_access_keys()  # other members unaffected
    audit = _assume(sandbox, member, AUDIT).client("iam")
    assert len(audit.list_access_keys()["AccessKeyMetadata"]) == 2  # AssumeRoot is exempt
    orgs.detach_policy(PolicyId=policy, TargetId=member)
    app.list_access_keys()  # works again: detaching is the rollback


def _attach(sandbox: Sandbox, member: str, condition: dict[str, object]) -> None:
    import json

    statement = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}
    orgs = sandbox.management_session().client("organizations")
    policy = orgs.create_policy(
        Content=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        Description="d",
        Name="deny",
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=policy, TargetId=member)


def test_an_scp_whose_condition_misses_root_leaves_root_working(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """A deny conditioned on IAM users' ARNs does not touch the root user."""
    member = org.member_account_ids[0]
    _attach(sandbox, member, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}})
    app = sandbox.root_session(member, key_id=sandbox.root_keys(member)[0].key_id).client("iam")
    app.list_access_keys()
    assert sandbox.key_changes(member)[-1].quarantined is False


def test_an_scp_without_the_assumed_root_exemption_denies_assume_root_too(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """AssumeRoot sessions are exempt only by the Null aws:AssumedRoot condition."""
    member = org.member_account_ids[0]
    _attach(sandbox, member, {"ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"}})
    assert _code(_assume(sandbox, member, AUDIT).client("iam").list_access_keys) == "AccessDenied"
