"""Partitions: rootkeys' ARNs follow the organization's partition (aws, aws-us-gov, aws-cn)."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.exceptions
import pytest

from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization

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
