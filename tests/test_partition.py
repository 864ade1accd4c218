"""Partitions: rootkeys' ARNs follow the organization's partition (aws, aws-us-gov, aws-cn)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

import rootkeys
from rootkeys import AccountOutcome, KeyState
from rootkeys import _quarantine as _scp
from rootkeys._member_keys import AUDIT, DELETE, task_policy_arn, task_policy_in
from rootkeys.reports import QuarantineStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization
from rootkeys.testing._policy import CallContext, denies

REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
"""A region of each partition: a sandbox's region decides its partition."""
TASK = "iam::aws:policy/root-task/IAMAuditRootUserCredentials"


@pytest.fixture(params=list(REGIONS), ids=list(REGIONS))
def partition(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def box(partition: str, clock: FakeClock) -> Iterator[Sandbox]:
    """A sandbox in ``partition``."""
    with Sandbox(clock=clock, region=REGIONS[partition]) as sandbox:
        yield sandbox


@pytest.fixture
def org(box: Sandbox) -> SandboxOrganization:
    return box.create_organization(members=2, root_keys=1)


def _code(call: object) -> str | None:
    try:
        call()  # type: ignore[operator]
    except botocore.exceptions.ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


# -- the sandbox ----------------------------------------------------------------------------


def test_sandbox_makes_root_users_and_organization_in_its_partition(
    box: Sandbox, org: SandboxOrganization, partition: str
) -> None:
    """Root ARNs, the organization's ARN and AdministratorAccess are in the partition."""
    member = org.member_account_ids[0]
    assert box.partition == org.partition == partition
    arn = box.root_session(member).client("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:{partition}:iam::{member}:root"
    described = box.management_session().client("organizations").describe_organization()
    assert described["Organization"]["Arn"].startswith(f"arn:{partition}:organizations::")
    iam = box.admin_session(member).client("iam")
    policies = [p["Arn"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert policies == [f"arn:{partition}:iam::aws:policy/AdministratorAccess"]


def test_sandbox_assume_root_refuses_another_partitions_task_policy(
    box: Sandbox, org: SandboxOrganization, partition: str
) -> None:
    """AssumeRoot knows only the organization's partition's task policies, as AWS does."""
    sts = box.management_session().client("sts")
    member = org.member_account_ids[0]
    for other in REGIONS:
        arn = f"arn:{other}:{TASK}"
        code = _code(
            lambda arn=arn: sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": arn})
        )
        assert code == (None if other == partition else "ValidationError"), other


# -- the quarantine SCP ---------------------------------------------------------------------


def _app(box: Sandbox, member: str) -> object:
    """A call an app makes, signed with the member's root access key."""
    key_id = box.root_keys(member)[0].key_id
    return box.root_session(member, key_id=key_id).client("iam").list_access_keys


def test_quarantine_scp_denies_the_member_root_key_in_every_partition(
    box: Sandbox, org: SandboxOrganization, partition: str
) -> None:
    """The SCP rootkeys attaches refuses the member's root key; detaching allows it again."""
    member = org.member_account_ids[0]
    organization = rootkeys.Organization(box.management_session(), journal=False)
    assert _code(_app(box, member)) is None
    assert organization._management.attach_quarantine(member)
    assert _code(_app(box, member)) == "AccessDenied"
    assert _code(_app(box, org.member_account_ids[1])) is None  # other members untouched
    sts = box.management_session().client("sts")
    made = sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": f"arn:{partition}:{TASK}"})
    c = made["Credentials"]
    audit = box._session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert len(audit.client("iam").list_access_keys()["AccessKeyMetadata"]) == 1  # exempt
    assert organization._management.detach_quarantine(member)
    assert _code(_app(box, member)) is None


def _aws_only() -> dict[str, Any]:
    """The quarantine SCP as it was: AWS's example, its root ARN pattern in ``aws`` only."""
    policy: dict[str, Any] = copy.deepcopy(_scp.QUARANTINE_POLICY)
    policy["Statement"][0]["Condition"]["ArnLike"]["aws:PrincipalArn"] = "arn:aws:iam::*:root"
    return policy


def test_the_aws_only_condition_denies_nothing_outside_aws(partition: str) -> None:
    """Mutant: under the sandbox's evaluator the old arn:aws:iam::*:root misses gov and cn."""
    root = CallContext(f"arn:{partition}:iam::111122223333:root", "s3:ListBuckets")
    assert denies(json.dumps(_aws_only()), root) is (partition == "aws")
    assert denies(json.dumps(_scp.QUARANTINE_POLICY), root)
    session = CallContext(root.principal_arn, root.action, assumed_root=True)
    assert not denies(json.dumps(_scp.QUARANTINE_POLICY), session)


def test_the_aws_only_condition_would_leave_root_keys_working(
    box: Sandbox, org: SandboxOrganization, partition: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutant, end to end: attached with the old condition, a gov or cn root key still works."""
    monkeypatch.setattr(_scp, "QUARANTINE_POLICY", _aws_only())
    member = org.member_account_ids[0]
    rootkeys.Organization(box.management_session(), journal=False)._management.attach_quarantine(
        member
    )
    assert _code(_app(box, member)) == ("AccessDenied" if partition == "aws" else None)


# -- task policies, and the whole lifecycle -------------------------------------------------


@pytest.mark.parametrize("partition", list(REGIONS), ids=list(REGIONS))
def test_task_policy_arns_are_built_in_the_partition(partition: str) -> None:
    """task_policy_arn builds, and task_policy_in moves, a task policy ARN to the partition."""
    audit = f"arn:{partition}:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
    assert task_policy_arn(partition, "IAMAuditRootUserCredentials") == audit
    assert task_policy_in(partition, AUDIT) == audit
    assert task_policy_in(partition, audit) == audit
    assert task_policy_in(partition, DELETE).startswith(f"arn:{partition}:")
    other = "arn:aws:iam::aws:policy/ReadOnlyAccess"  # not a task policy: left alone
    assert task_policy_in(partition, other) == other


def _organization(box: Sandbox, clock: FakeClock, tmp_path: Path) -> rootkeys.Organization:
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    return rootkeys.Organization(box.management_session(), clock=clock, journal=journal)


def test_task_policy_arns_sent_to_assume_root_are_in_the_organizations_partition(
    box: Sandbox, org: SandboxOrganization, clock: FakeClock, tmp_path: Path, partition: str
) -> None:
    """A removal asks AssumeRoot for the audit and delete task policies of its partition."""
    _organization(box, clock, tmp_path).remove_all(timedelta(0))
    sent = {c.params["TaskPolicyArn.arn"] for c in box.calls if c.operation == "AssumeRoot"}
    assert sent == {
        task_policy_arn(partition, "IAMAuditRootUserCredentials"),
        task_policy_arn(partition, "IAMDeleteRootUserCredentials"),
    }
    assert [c for c in box.calls if c.operation == "AssumeRoot" and c.status != 200] == []


def test_root_session_default_task_policy_works_in_every_partition(
    box: Sandbox, org: SandboxOrganization
) -> None:
    """root_session(account) with the default AUDIT opens an audit session in the partition."""
    member = org.member_account_ids[0]
    session = rootkeys.Organization(box.management_session(), journal=False).root_session(member)
    keys = session.client("iam").list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [k.key_id for k in box.root_keys(member)]


def test_quarantine_and_release_in_every_partition(
    box: Sandbox, org: SandboxOrganization, clock: FakeClock, tmp_path: Path
) -> None:
    """quarantine() makes the member's root key fail, journaled; release() undoes it."""
    member = org.member_account_ids[0]
    organization = _organization(box, clock, tmp_path)
    (step,) = organization.quarantine(member)
    assert (step.to_state, step.changed) == (KeyState.QUARANTINED, True)
    assert _code(_app(box, member)) == "AccessDenied"
    assert organization.is_quarantined(member)
    (back,) = organization.release(member)
    assert (back.to_state, back.changed) == (KeyState.ACTIVE, True)
    assert _code(_app(box, member)) is None


def test_remove_all_in_every_partition(
    box: Sandbox, org: SandboxOrganization, clock: FakeClock, tmp_path: Path
) -> None:
    """remove_all: each member quarantined, its key deleted, the SCP detached; none present."""
    report = _organization(box, clock, tmp_path).remove_all(timedelta(0))
    assert report.counts == {AccountOutcome.DONE: 2, AccountOutcome.OUT_OF_REACH: 1}
    for member in org.member_account_ids:
        result = next(a for a in report.accounts if a.account_id == member)
        assert result.quarantine is QuarantineStatus.DETACHED
        assert result.report is not None
        assert result.report.keys_present is False
        assert box.root_keys(member) == []
        deletions = [c for c in box.key_changes(member) if c.deleted]
        assert len(deletions) == 1
        assert not deletions[0].was_usable  # quarantined when deleted, in this partition too


def test_preflight_finds_administrator_access_in_every_partition(
    box: Sandbox, partition: str
) -> None:
    """Single account: preflight looks for AdministratorAccess in the caller's partition."""
    account = box.create_account("111122223333", root_keys=1)
    iam = box.admin_session(account.account_id).client("iam")
    iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    iam.attach_role_policy(
        RoleName="Admin", PolicyArn=f"arn:{partition}:iam::aws:policy/AdministratorAccess"
    )
    manager = rootkeys.RootKeyManager(box.root_session(account.account_id), journal=False)
    preflight = manager.plan(evidence=False).preflight
    assert preflight is not None
    assert preflight.administrators == ("role:Admin",)


@pytest.mark.parametrize(
    ("organization", "partition"),
    [
        ({"Arn": "arn:aws-us-gov:organizations::111122223333:organization/o-x"}, "aws-us-gov"),
        ({"Arn": "arn:aws-cn:organizations::111122223333:organization/o-x"}, "aws-cn"),
        ({"Id": "o-x"}, "aws"),  # no ARN (a fake): the aws partition, with a warning
    ],
    ids=["gov", "cn", "no-arn"],
)
def test_partition_is_read_from_the_organizations_arn(
    organization: dict[str, str], partition: str
) -> None:
    """The organization's partition is the second part of its ARN."""
    from rootkeys._management import _partition_of

    assert _partition_of(organization) == partition
