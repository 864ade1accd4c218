"""Partitions: rootkeys' ARNs follow the organization's partition (aws, aws-us-gov, aws-cn)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

import rootkeys
from rootkeys import _scp
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
    assert organization.attach_quarantine(member)
    assert _code(_app(box, member)) == "AccessDenied"
    assert _code(_app(box, org.member_account_ids[1])) is None  # other members untouched
    sts = box.management_session().client("sts")
    made = sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": f"arn:{partition}:{TASK}"})
    c = made["Credentials"]
    audit = box._session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert len(audit.client("iam").list_access_keys()["AccessKeyMetadata"]) == 1  # exempt
    assert organization.detach_quarantine(member)
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
    rootkeys.Organization(box.management_session(), journal=False).attach_quarantine(member)
    assert _code(_app(box, member)) == ("AccessDenied" if partition == "aws" else None)
