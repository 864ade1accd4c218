"""The sandbox enables centralized root access as AWS does: trusted access, then the features."""

from __future__ import annotations

import botocore.exceptions
import pytest

from rootkeys.testing import Sandbox, SandboxOrganization

AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
IAM = "iam.amazonaws.com"


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    """An organization with every centralized-root-access feature off."""
    return sandbox.create_organization(members=2, root_features=False)


def _code(call: object) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()  # type: ignore[operator]
    return str(caught.value.response["Error"]["Code"])


def test_features_cannot_be_read_or_enabled_before_trusted_access(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """With trusted access for IAM off, reading and enabling answer ServiceAccessNotEnabled."""
    iam = sandbox.management_session().client("iam")
    for call in (
        iam.list_organizations_features,
        iam.enable_organizations_root_credentials_management,
        iam.enable_organizations_root_sessions,
    ):
        assert _code(call) == "ServiceAccessNotEnabledException"


def test_enable_calls_change_what_is_listed(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """Trusted access, then each Enable call: each answers the organization and its features."""
    session = sandbox.management_session()
    organizations, iam = session.client("organizations"), session.client("iam")
    organizations.enable_aws_service_access(ServicePrincipal=IAM)
    listed = organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert IAM in [p["ServicePrincipal"] for p in listed]
    assert iam.list_organizations_features()["EnabledFeatures"] == []
    made = iam.enable_organizations_root_credentials_management()
    assert made["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert made["OrganizationId"].startswith("o-")
    again = iam.enable_organizations_root_credentials_management()  # idempotent
    assert again["EnabledFeatures"] == ["RootCredentialsManagement"]
    both = iam.enable_organizations_root_sessions()["EnabledFeatures"]
    assert both == ["RootCredentialsManagement", "RootSessions"]
    assert iam.list_organizations_features()["EnabledFeatures"] == both


def test_a_member_account_may_not_enable_anything(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """Trusted access is the management account's to enable; so are the features."""
    sandbox.management_session().client("organizations").enable_aws_service_access(
        ServicePrincipal=IAM
    )
    member = sandbox.admin_session(org.member_account_ids[0])
    assert (
        _code(
            lambda: member.client("organizations").enable_aws_service_access(ServicePrincipal=IAM)
        )
        == "AccessDeniedException"
    )
    assert _code(member.client("iam").enable_organizations_root_sessions) == (
        "AccountNotManagementOrDelegatedAdministratorException"
    )


def test_the_delegated_administrator_reads_and_assumes_root_but_cannot_enable(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """IAM's delegated administrator lists features and calls AssumeRoot; enabling is not its."""
    admin_id, target = org.member_account_ids
    session = sandbox.management_session()
    organizations = session.client("organizations")
    organizations.enable_aws_service_access(ServicePrincipal=IAM)
    organizations.register_delegated_administrator(AccountId=admin_id, ServicePrincipal=IAM)
    session.client("iam").enable_organizations_root_credentials_management()
    admin = sandbox.admin_session(admin_id)
    assert _code(admin.client("iam").enable_organizations_root_sessions) == (
        "CallerIsNotManagementAccountException"
    )
    assert admin.client("iam").list_organizations_features()["EnabledFeatures"] == [
        "RootCredentialsManagement"
    ]
    session.client("iam").enable_organizations_root_sessions()
    sts = admin.client("sts", region_name="us-east-1")
    made = sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT})
    assert made["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_assume_root_fails_until_root_sessions_are_on(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """AssumeRoot answers AccessDenied with only RootCredentialsManagement on, works after."""
    session = sandbox.management_session()
    session.client("organizations").enable_aws_service_access(ServicePrincipal=IAM)
    session.client("iam").enable_organizations_root_credentials_management()
    sts = session.client("sts", region_name="us-east-1")
    target = org.member_account_ids[0]

    def assume() -> object:
        return sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT})

    assert _code(assume) == "AccessDenied"
    session.client("iam").enable_organizations_root_sessions()
    assume()


def test_an_organization_without_all_features_is_refused(sandbox: Sandbox) -> None:
    """A consolidated-billing organization answers OrganizationNotInAllFeaturesMode."""
    sandbox.create_organization(members=1, root_features=False, all_features=False)
    iam = sandbox.management_session().client("iam")
    assert _code(iam.enable_organizations_root_credentials_management) == (
        "OrganizationNotInAllFeaturesModeException"
    )


def test_disabling_a_feature_takes_it_off(sandbox: Sandbox) -> None:
    """DisableOrganizationsRootSessions (the undo) removes the feature from the list."""
    sandbox.create_organization(members=1)
    iam = sandbox.management_session().client("iam")
    assert iam.disable_organizations_root_sessions()["EnabledFeatures"] == [
        "RootCredentialsManagement"
    ]
