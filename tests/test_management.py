"""ManagementAccount.preflight: one reader of the organization with the root-access read."""

from __future__ import annotations

from collections import Counter

import pytest

import rootkeys
from rootkeys._management import ENABLE_HOW
from rootkeys.errors import OrganizationSetupError
from rootkeys.reports import AuditStatus, FindingStatus
from rootkeys.testing import Sandbox

READS = ("DescribeOrganization", "ListOrganizationsFeatures")


def _reads(sandbox: Sandbox) -> Counter[str]:
    return Counter(c.operation for c in sandbox.calls if c.operation in READS)


def test_a_preflight_reads_the_organization_and_its_features_once(sandbox: Sandbox) -> None:
    """A preflight makes DescribeOrganization and ListOrganizationsFeatures once each."""
    org = sandbox.create_organization(members=1)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    assert organization.preflight() == org.management_account_id
    list(organization.audit())  # the audit's preflight is the one already made
    assert _reads(sandbox) == Counter(dict.fromkeys(READS, 1))


def test_a_root_access_read_then_a_preflight_read_the_organization_once(
    sandbox: Sandbox,
) -> None:
    """`rootkeys credentials --org`'s order: the finding's read, then the members' preflight,
    make each organization read once, and agree on the management account."""
    org = sandbox.create_organization(members=1)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    finding = organization.root_access_finding()
    audited = list(organization.credentials())
    assert _reads(sandbox) == Counter(dict.fromkeys(READS, 1))
    assert (finding.status, finding.account_id) == (FindingStatus.PASS, org.management_account_id)
    read = {c.account_id for c in audited if c.status is AuditStatus.AUDITED}
    assert read == set(org.member_account_ids)


def test_a_preflight_refuses_on_what_is_on_now_not_an_older_read(sandbox: Sandbox) -> None:
    """A read that saw the features off does not make a later preflight refuse: it reads again."""
    org = sandbox.create_organization(members=1, root_features=False)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    assert not organization.root_access().enabled
    session = sandbox.management_session()  # turned on by hand, outside this Organization
    session.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    session.client("iam").enable_organizations_root_credentials_management()
    session.client("iam").enable_organizations_root_sessions()
    assert organization.preflight() == org.management_account_id
    assert _reads(sandbox) == Counter(dict.fromkeys(READS, 2))


@pytest.mark.parametrize(
    ("setup", "member", "message"),
    [
        (
            {"root_features": False},
            False,
            "centralized root access is not fully on (missing: trusted access for IAM, "
            "RootCredentialsManagement, RootSessions). " + ENABLE_HOW,
        ),
        (
            {"root_features": False, "trusted_access": True},
            False,
            "centralized root access is not fully on (missing: RootCredentialsManagement, "
            "RootSessions). " + ENABLE_HOW,
        ),
        (
            {"root_features": False, "all_features": False},
            False,
            "the organization is not in all-features mode: enable all features in AWS "
            "Organizations first. " + ENABLE_HOW,
        ),
        ({}, True, "cannot read IAM's organization features (ListOrganizationsFeatures: "),
    ],
    ids=["all-off", "features-off", "consolidated-billing", "member-account"],
)
def test_preflight_says_what_to_enable(
    sandbox: Sandbox, setup: dict[str, bool], member: bool, message: str
) -> None:
    """Each refusal is one OrganizationSetupError saying what is missing and how to enable it."""
    org = sandbox.create_organization(members=1, **setup)
    session = (
        sandbox.admin_session(org.member_account_ids[0]) if member else sandbox.management_session()
    )
    organization = rootkeys.Organization(session, journal=False)
    organization.root_access()  # a read first: the preflight still refuses, and says why
    with pytest.raises(OrganizationSetupError) as caught:
        organization.preflight()
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith(ENABLE_HOW)


def test_preflight_outside_an_organization_says_where_to_run(sandbox: Sandbox) -> None:
    """Not in an organization: the error says to run from the management account."""
    sandbox.create_account("111122223333", root_keys=0)
    organization = rootkeys.Organization(sandbox.admin_session("111122223333"), journal=False)
    with pytest.raises(OrganizationSetupError, match="cannot describe the organization"):
        organization.preflight()
    assert _reads(sandbox) == Counter({"DescribeOrganization": 1})
