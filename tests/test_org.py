"""Organization: preflight, member selection, and a streaming audit through AssumeRoot."""

from __future__ import annotations

import botocore.exceptions
import pytest

import rootkeys
from rootkeys._member_keys import MemberGateway
from rootkeys.reports import AuditStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=4, root_keys=1)


def _by_id(audits: list[rootkeys.AccountAudit]) -> dict[str, rootkeys.AccountAudit]:
    return {a.account_id: a for a in audits}


def test_audit_lists_every_member_and_never_trips_a_task_policy(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """Each member audited with its keys; management out of reach; no call denied."""
    first = org.member_account_ids[0]
    sandbox.set_root_key_status(
        first, sandbox.root_keys(first)[0].key_id, rootkeys.lifecycle.KeyStatus.INACTIVE
    )
    audits = _by_id(list(rootkeys.Organization(sandbox.management_session(), workers=2).audit()))
    assert set(audits) == {org.management_account_id, *org.member_account_ids}
    assert audits[org.management_account_id].status is AuditStatus.OUT_OF_REACH
    assert "CloudShell" in audits[org.management_account_id].reason
    for member in org.member_account_ids:
        audit = audits[member]
        assert audit.status is AuditStatus.AUDITED
        assert [k.key_id for k in audit.keys] == [k.key_id for k in sandbox.root_keys(member)]
        assert audit.keys_present is True
    assert audits[first].keys[0].status is rootkeys.lifecycle.KeyStatus.INACTIVE
    assert [c for c in sandbox.calls if c.status == 403] == []
    assert [c.operation for c in sandbox.calls].count("AssumeRoot") == 4


def test_audit_streams_lazily(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """audit() is an iterator: no AWS call until it is read."""
    made = len(sandbox.calls)
    stream = rootkeys.Organization(sandbox.management_session()).audit()
    assert len(sandbox.calls) == made
    assert next(stream).account_id in {org.management_account_id, *org.member_account_ids}


def test_one_account_failing_never_stops_the_others(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """A member whose audit fails is reported failed, with why; the rest are audited."""
    broken = org.member_account_ids[2]
    sandbox.inject_server_error(operation="ListAccessKeys", times=None, account_id=broken)
    audits = _by_id(
        list(
            rootkeys.Organization(
                sandbox.management_session(), retry=rootkeys.RetryPolicy(attempts=2)
            ).audit()
        )
    )
    assert audits[broken].status is AuditStatus.FAILED
    assert "ServiceFailure" in audits[broken].reason
    others = [audits[m] for m in org.member_account_ids if m != broken]
    assert {a.status for a in others} == {AuditStatus.AUDITED}


def test_selection_by_ids_and_by_ou(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """Only the accounts asked for (by id, or under an OU and its children) are audited."""
    manager = rootkeys.Organization(sandbox.management_session())
    chosen = org.member_account_ids[:2]
    assert {a.account_id for a in manager.audit(chosen)} == set(chosen)

    client = sandbox.management_session().client("organizations")
    root = client.list_roots()["Roots"][0]["Id"]
    parent = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]
    child = client.create_organizational_unit(ParentId=parent["Id"], Name="payments")
    moved = org.member_account_ids[3]
    client.move_account(
        AccountId=moved, SourceParentId=root, DestinationParentId=child["OrganizationalUnit"]["Id"]
    )
    assert [a.account_id for a in manager.audit(ou=parent["Id"])] == [moved]


def test_suspended_accounts_are_skipped(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """A closed (suspended) account is skipped with its status, never assumed into."""
    closed = org.member_account_ids[1]
    sandbox.management_session().client("organizations").close_account(AccountId=closed)
    audits = _by_id(list(rootkeys.Organization(sandbox.management_session()).audit()))
    assert audits[closed].status is AuditStatus.SKIPPED
    targets = [
        c.params.get("TargetPrincipal") for c in sandbox.calls if c.operation == "AssumeRoot"
    ]
    assert closed not in targets


def test_root_features_off_is_one_clear_error(sandbox: Sandbox) -> None:
    """Without centralized root access, preflight says what is missing and how to enable it."""
    sandbox.create_organization(members=1, root_features=False)
    with pytest.raises(rootkeys.errors.OrganizationSetupError) as caught:
        list(rootkeys.Organization(sandbox.management_session()).audit())
    message = str(caught.value)
    assert "RootCredentialsManagement, RootSessions" in message
    assert "enable-organizations-root-sessions" in message
    assert not any(c.operation == "AssumeRoot" for c in sandbox.calls)


def test_member_account_caller_is_refused(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """Run from a member account, preflight refuses before any AssumeRoot."""
    member = sandbox.admin_session(org.member_account_ids[0])
    with pytest.raises(rootkeys.errors.OrganizationSetupError):
        rootkeys.Organization(member).preflight()


def test_sts_is_regional_even_when_the_environment_says_legacy(
    sandbox: Sandbox,
    org: SandboxOrganization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_STS_REGIONAL_ENDPOINTS=legacy would pick the global endpoint; AssumeRoot needs not."""
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    audits = list(rootkeys.Organization(sandbox.management_session()).audit())
    assert {a.status for a in audits} == {AuditStatus.AUDITED, AuditStatus.OUT_OF_REACH}


@pytest.mark.parametrize("workers", [0, -1, 1000, 2.5, True])
def test_bad_worker_counts_are_input_errors(sandbox: Sandbox, workers: object) -> None:
    """workers must be a whole number from 1 to 256."""
    with pytest.raises(rootkeys.InputError):
        rootkeys.Organization(workers=workers)  # type: ignore[arg-type]


def test_organizations_throttling_is_retried(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """A throttled account listing is retried, not raised as a raw botocore error."""
    sandbox.inject_error("TooManyRequestsException", operation="ListAccounts", times=2)
    audits = list(rootkeys.Organization(sandbox.management_session()).audit())
    assert len(audits) == 1 + len(org.member_account_ids)
    listings = [c.fault for c in sandbox.calls if c.operation == "ListAccounts"]
    assert listings == ["TooManyRequestsException", "TooManyRequestsException", None]


def _app(sandbox: Sandbox, member: str):
    key = sandbox.root_keys(member)[0].key_id
    return sandbox.root_session(member, key_id=key).client("iam")


def test_quarantine_breaks_root_credentials_and_release_restores_them(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """Attaching the quarantine SCP makes the member's root key fail; detaching undoes it."""
    member = org.member_account_ids[0]
    app = _app(sandbox, member)
    manager = rootkeys.Organization(sandbox.management_session())
    assert [s.changed for s in manager.quarantine(member)] == [True]
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        app.list_access_keys()
    _app(sandbox, org.member_account_ids[1]).list_access_keys()  # others untouched
    assert [s.changed for s in manager.release(member)] == [True]
    app.list_access_keys()


def test_quarantine_is_idempotent_and_the_policy_made_once(
    sandbox: Sandbox,
    org: SandboxOrganization,
) -> None:
    """Quarantine and release twice are harmless; one policy serves every account, found by name."""
    first, second = org.member_account_ids[:2]
    manager = rootkeys.Organization(sandbox.management_session())
    assert [s.changed for s in manager.quarantine(first)] == [True]
    assert [s.changed for s in manager.quarantine(first)] == [False]
    assert [
        s.changed for s in rootkeys.Organization(sandbox.management_session()).quarantine(second)
    ] == [True]
    assert [c.operation for c in sandbox.calls].count("CreatePolicy") == 1
    assert [s.changed for s in manager.release(first)] == [True]
    assert [s.changed for s in manager.release(first)] == [False]
    assert [c.operation for c in sandbox.calls].count("AttachPolicy") == 2
    assert [c.operation for c in sandbox.calls].count("DetachPolicy") == 1


def test_account_with_five_scps_is_blocked(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """No room for a sixth SCP: QuarantineBlockedError says so, and nothing is attached."""
    import json

    member = org.member_account_ids[0]
    orgs = sandbox.management_session().client("organizations")
    attached = orgs.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY")
    for n in range(5 - len(attached["Policies"])):
        policy = orgs.create_policy(
            Content=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
            Description="d",
            Name=f"guardrail-{n}",
            Type="SERVICE_CONTROL_POLICY",
        )["Policy"]["PolicySummary"]["Id"]
        orgs.attach_policy(PolicyId=policy, TargetId=member)
    attached = [c for c in sandbox.calls if c.operation == "AttachPolicy"]
    with pytest.raises(rootkeys.errors.QuarantineBlockedError, match="5 per target"):
        rootkeys.Organization(sandbox.management_session()).quarantine(member)
    assert [c for c in sandbox.calls if c.operation == "AttachPolicy"] == attached
    _app(sandbox, member).list_access_keys()  # still usable: nothing changed


def test_threads_sharing_member_clients_each_act_in_their_own_session(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """One shared client, many threads: each call is signed by its own thread's session."""
    import threading

    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    members = org.member_account_ids
    gateways = {m: organization._management.root_gateway(m, rootkeys._org.AUDIT) for m in members}
    barrier = threading.Barrier(len(members))
    seen: dict[str, list[set[str]]] = {m: [] for m in members}

    def work(member: str) -> None:
        for _ in range(5):
            barrier.wait()  # every thread calls at once, again and again
            seen[member].append(set(gateways[member].key_statuses()))

    threads = [threading.Thread(target=work, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for member in members:
        own = {k.key_id for k in sandbox.root_keys(member)}
        assert seen[member] == [own] * 5
    with pytest.raises(rootkeys.errors.InvalidCredentialsError, match="no AssumeRoot session"):
        organization._management._roots.acting()  # none outside a call


def _rootkeys_scps(sandbox: Sandbox) -> list[str]:
    orgs = sandbox.management_session().client("organizations")
    listed = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    return [p["Id"] for p in listed if p["Name"] == "rootkeys-quarantine-root-user"]


def test_is_quarantined_without_the_scp_answers_false_and_writes_nothing(
    sandbox: Sandbox, org: SandboxOrganization
) -> None:
    """is_quarantined() where the quarantine SCP was never made: False, and no mutation."""
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    start = len(sandbox.calls)
    assert organization.is_quarantined(org.member_account_ids[0]) is False
    assert organization.quarantine_policy_id() is None
    assert [c.operation for c in sandbox.calls[start:] if c.mutating] == []
    assert _rootkeys_scps(sandbox) == []


def test_member_reads_and_a_detach_never_create_the_scp(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock
) -> None:
    """A member's key states, keys and quarantine, read without the SCP, create nothing."""
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    member = MemberGateway(organization._management, org.member_account_ids[0], clock=clock)
    start = len(sandbox.calls)
    assert set(member.key_states(fresh=True).values()) == {rootkeys.KeyState.ACTIVE}
    assert [k.quarantined for k in member.list_keys(last_used=False)] == [False]
    assert member.is_quarantined(fresh=True) is False
    assert member.detach_quarantine() is False
    assert organization._management.detach_quarantine(org.member_account_ids[1]) is False
    assert [c.operation for c in sandbox.calls[start:] if c.mutating] == []
    assert _rootkeys_scps(sandbox) == []


def test_the_first_attach_creates_the_scp(sandbox: Sandbox, org: SandboxOrganization) -> None:
    """Attaching is the one path that creates the quarantine SCP; reads then find it."""
    organization = rootkeys.Organization(sandbox.management_session(), journal=False)
    member = org.member_account_ids[0]
    assert organization._management.attach_quarantine(member) is True
    assert _rootkeys_scps(sandbox) == [organization.quarantine_policy_id()]
    assert rootkeys.Organization(sandbox.management_session()).is_quarantined(member) is True
    assert [c.operation for c in sandbox.calls].count("CreatePolicy") == 1
