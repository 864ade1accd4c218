"""Organization.root_access / enable_root_access: read the state, enable only what is off."""

from __future__ import annotations

import pytest

import rootkeys
from rootkeys.errors import InputError, NotManagementAccountError, OrganizationSetupError
from rootkeys.reports import RootAccessRole
from rootkeys.testing import Sandbox, SandboxOrganization

ALL_CALLS = (
    "organizations:EnableAWSServiceAccess",
    "iam:EnableOrganizationsRootCredentialsManagement",
    "iam:EnableOrganizationsRootSessions",
)
WRITES = {
    "EnableAWSServiceAccess",
    "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions",
}


@pytest.fixture
def off(sandbox: Sandbox) -> SandboxOrganization:
    """An organization with trusted access and both features off."""
    return sandbox.create_organization(members=2, root_features=False)


def _writes(sandbox: Sandbox) -> list[str]:
    return [c.operation for c in sandbox.calls if c.operation in WRITES]


def test_the_read_works_with_everything_off(sandbox: Sandbox, off: SandboxOrganization) -> None:
    """An Organization is made and read with the features off: all three calls planned."""
    state = rootkeys.Organization(sandbox.management_session(), journal=False).root_access()
    assert state.role is RootAccessRole.MANAGEMENT
    assert state.management_account_id == off.management_account_id
    assert (state.trusted_access, state.root_credentials_management, state.root_sessions) == (
        False,
        False,
        False,
    )
    assert state.changes == ALL_CALLS
    assert set(ALL_CALLS) | {"iam:ListOrganizationsFeatures"} <= set(state.permissions)
    assert state.may_enable
    assert not state.enabled
    assert _writes(sandbox) == []


def test_enable_turns_everything_on_in_order(sandbox: Sandbox, off: SandboxOrganization) -> None:
    """From all off: trusted access, then the two features, and the result read back."""
    done = rootkeys.Organization(sandbox.management_session()).enable_root_access()
    assert done.made == ALL_CALLS
    assert done.enabled
    assert done.changes == ()
    assert _writes(sandbox) == [call.split(":")[1] for call in ALL_CALLS]
    features = sandbox.management_session().client("iam").list_organizations_features()
    assert features["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]


def test_a_second_enable_changes_nothing_and_says_so(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """Enabling again makes no call and reports nothing made."""
    organization = rootkeys.Organization(sandbox.management_session())
    organization.enable_root_access()
    before = len(_writes(sandbox))
    again = organization.enable_root_access()
    assert again.made == ()
    assert again.enabled
    assert len(_writes(sandbox)) == before
    assert "nothing to change" in again.table()


def test_without_root_sessions_only_credentials_management_is_enabled(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """root_sessions=False leaves RootSessions off, and a later plan still names it."""
    organization = rootkeys.Organization(sandbox.management_session())
    done = organization.enable_root_access(root_sessions=False)
    assert done.made == ALL_CALLS[:2]
    assert done.root_credentials_management
    assert not done.root_sessions
    assert organization.root_access().changes == ALL_CALLS[2:]


def test_a_member_account_is_refused_before_any_change(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """From a member account: NotManagementAccountError naming both accounts, no write."""
    member = off.member_account_ids[0]
    organization = rootkeys.Organization(sandbox.admin_session(member))
    assert organization.root_access().role is RootAccessRole.MEMBER
    with pytest.raises(NotManagementAccountError) as caught:
        organization.enable_root_access()
    assert caught.value.account_id == member
    assert off.management_account_id in str(caught.value)
    assert _writes(sandbox) == []


def test_the_delegated_administrator_reads_but_is_refused(sandbox: Sandbox) -> None:
    """IAM's delegated administrator sees the state; enabling what is off is refused."""
    org = sandbox.create_organization(members=2, root_features=False, trusted_access=True)
    admin = org.member_account_ids[0]
    sandbox.management_session().client("organizations").register_delegated_administrator(
        AccountId=admin, ServicePrincipal="iam.amazonaws.com"
    )
    organization = rootkeys.Organization(sandbox.admin_session(admin))
    state = organization.root_access()
    assert state.role is RootAccessRole.DELEGATED_ADMINISTRATOR
    assert state.trusted_access
    assert state.root_sessions is False
    assert not state.may_enable
    assert "management account" in state.note
    with pytest.raises(NotManagementAccountError):
        organization.enable_root_access()
    assert _writes(sandbox) == []


def test_assume_root_fails_before_and_works_after(
    sandbox: Sandbox, off: SandboxOrganization
) -> None:
    """The audit refuses (naming `rootkeys org enable`) until enabled, then reads members."""
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    with pytest.raises(OrganizationSetupError, match="rootkeys org enable"):
        list(organization.audit())
    assert not any(c.operation == "AssumeRoot" for c in sandbox.calls)
    organization.enable_root_access()
    audits = list(rootkeys.Organization(sandbox.management_session(), journal=False).audit())
    audited = {a.account_id for a in audits if a.status is rootkeys.reports.AuditStatus.AUDITED}
    assert audited == set(off.member_account_ids)


def test_without_all_features_nothing_is_changed(sandbox: Sandbox) -> None:
    """A consolidated-billing organization: the plan says why; enabling refuses, no write."""
    sandbox.create_organization(members=1, root_features=False, all_features=False)
    organization = rootkeys.Organization(sandbox.management_session())
    state = organization.root_access()
    assert not state.all_features
    assert not state.may_enable
    with pytest.raises(OrganizationSetupError, match="all-features"):
        organization.enable_root_access()
    assert _writes(sandbox) == []


@pytest.mark.parametrize("value", ["yes", 1, None], ids=["str", "int", "none"])
def test_root_sessions_must_be_a_bool(
    sandbox: Sandbox, off: SandboxOrganization, value: object
) -> None:
    """A root_sessions that is not True or False is an InputError before any AWS call."""
    organization = rootkeys.Organization(sandbox.management_session())
    before = len(sandbox.calls)
    with pytest.raises(InputError):
        organization.enable_root_access(root_sessions=value)  # type: ignore[arg-type]
    assert len(sandbox.calls) == before


def test_the_refusal_is_the_text_enable_raises_with(sandbox: Sandbox) -> None:
    """`refusal` says why this session may not enable: the message enable refuses with.

    For a member and the delegated administrator; None for the management account, and
    for the delegated administrator once nothing is left to change.
    """
    org = sandbox.create_organization(members=2, root_features=False, trusted_access=True)
    admin, member = org.member_account_ids
    sandbox.management_session().client("organizations").register_delegated_administrator(
        AccountId=admin, ServicePrincipal="iam.amazonaws.com"
    )
    for account in (admin, member):
        organization = rootkeys.Organization(sandbox.admin_session(account), journal=False)
        refusal = organization.root_access().refusal
        with pytest.raises(NotManagementAccountError) as caught:
            organization.enable_root_access()
        assert refusal == str(caught.value)
        assert f"account {account}" in refusal
    management = rootkeys.Organization(sandbox.management_session(), journal=False)
    assert management.root_access().refusal is None
    management.enable_root_access()
    assert management.root_access().refusal is None  # on: nothing to refuse
    assert rootkeys.Organization(sandbox.admin_session(admin)).root_access().refusal is None


def test_without_all_features_the_refusal_names_all_features(sandbox: Sandbox) -> None:
    """The management account of a consolidated-billing organization: refused, with why."""
    sandbox.create_organization(members=1, root_features=False, all_features=False)
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    refusal = organization.root_access().refusal
    assert refusal is not None
    assert "all-features" in refusal
    with pytest.raises(OrganizationSetupError) as caught:
        organization.enable_root_access()
    assert str(caught.value) == refusal
