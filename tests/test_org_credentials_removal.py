"""Every root credential of a member account through the organization's lifecycle.

Signing certificates follow keys by default (quarantine, observe, DeleteSigningCertificate);
the root password and MFA devices only when asked, with the same discipline: a window from
the password's last sign-in, the quarantine, a rollback that detaches it, then
DeleteLoginProfile and DeactivateMFADevice (+ DeleteVirtualMFADevice) in the delete session.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import AccountOutcome, CheckResult, ObservedKey, RemovalPolicy
from rootkeys.errors import InputError
from rootkeys.lifecycle import CredentialKind
from rootkeys.reports import QuarantineStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization
from tests.orgtools import organization as _organization
from tests.orgtools import quarantined

HOUR = timedelta(hours=1)
EVERY = timedelta(minutes=30)
EVERYTHING = {"keys", "certificates", "password", "mfa"}


@pytest.fixture
def journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    """Two members, each root user with a key, a certificate, a password and two MFA devices."""
    made = sandbox.create_organization(members=2, root_keys=1)
    for member in made.member_account_ids:
        sandbox.add_root_signing_certificate(member)
        sandbox.set_root_password(member)
        sandbox.add_root_mfa_device(member, kind="virtual")
        sandbox.add_root_mfa_device(member, kind="hardware")
    return made


def _operations(sandbox: Sandbox, account_id: str) -> list[str]:
    return [c.operation for c in sandbox.calls if c.account_id == account_id]


def test_certificates_follow_keys_by_default_and_sign_in_credentials_stay(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Default kinds: keys and certificates deleted after the window; password and MFA kept."""
    report = _organization(sandbox, clock, journal).remove_all(HOUR, EVERY)

    assert report.counts[AccountOutcome.DONE] == 2
    for member in org.member_account_ids:
        assert sandbox.root_keys(member) == []
        assert sandbox.root_signing_certificates(member) == {}
        assert sandbox.root_password(member)
        assert len(sandbox.root_mfa_devices(member)) == 2
        assert "DeleteSigningCertificate" in _operations(sandbox, member)
        assert not quarantined(sandbox, member)
    assert sandbox.denials() == ()


def test_certificate_is_deleted_only_after_the_quarantine_and_its_window(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A first pass quarantines the account and deletes no certificate; a later one does."""
    member = org.member_account_ids[0]
    organization = _organization(sandbox, clock, journal)

    first = organization.remove_all(HOUR, EVERY, wait=False, account_ids=[member])

    assert first.counts == {AccountOutcome.OBSERVING: 1}
    assert quarantined(sandbox, member)
    assert len(sandbox.root_signing_certificates(member)) == 1
    clock.advance(HOUR)
    organization.remove_all(HOUR, EVERY, wait=False, account_ids=[member])
    assert sandbox.root_signing_certificates(member) == {}


def test_every_credential_is_removed_when_asked_with_no_denial(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Keys, certificates, password and both MFA devices gone; verify confirms; no denial."""
    organization = _organization(sandbox, clock, journal)

    report = organization.remove_all(HOUR, EVERY, credentials=EVERYTHING)

    assert report.counts[AccountOutcome.DONE] == 2
    for member in org.member_account_ids:
        assert not sandbox.root_password(member)
        assert sandbox.root_mfa_devices(member) == {}
        operations = _operations(sandbox, member)
        assert "DeleteLoginProfile" in operations
        assert operations.count("DeactivateMFADevice") == 2
        assert operations.count("DeleteVirtualMFADevice") == 1  # the hardware token has none
        # the password goes before its MFA devices
        assert operations.index("DeleteLoginProfile") < operations.index("DeactivateMFADevice")
    assert sandbox.denials() == ()
    assert organization.verify(credentials=EVERYTHING)


def test_verify_is_false_while_a_password_remains_when_asked(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """After a default removal, verify() is True for keys and certificates, False with password."""
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(HOUR, EVERY)

    assert organization.verify()
    assert not organization.verify(credentials={"keys", "password"})
    assert not organization.verify(credentials={"mfa"})


def test_a_failing_check_rolls_back_and_keeps_every_credential(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The check fails for one account: quarantine detached, nothing of it deleted, held."""
    failing, healthy = org.member_account_ids

    def check(key: ObservedKey) -> CheckResult:
        return CheckResult(ok=key.account_id != failing, reason="the console login broke")

    organization = _organization(sandbox, clock, journal, checks=[check])
    report = organization.remove_all(HOUR, EVERY, credentials=EVERYTHING)

    outcomes = {a.account_id: a.outcome for a in report.accounts}
    assert outcomes[failing] is AccountOutcome.ROLLED_BACK
    assert outcomes[healthy] is AccountOutcome.DONE
    assert not quarantined(sandbox, failing)
    assert sandbox.root_password(failing)
    assert len(sandbox.root_mfa_devices(failing)) == 2
    assert len(sandbox.root_keys(failing)) == 1
    assert len(sandbox.root_signing_certificates(failing)) == 1
    held = next(iter(organization.status(account_ids=[failing], credentials=EVERYTHING)))
    assert {k.next for k in held.keys} == {rootkeys.Next.ON_HOLD}
    assert len(held.keys) == 5  # the key, the certificate, the password, two MFA devices


def test_the_password_window_follows_its_last_sign_in_and_its_mfa_shares_it(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A root password used yesterday gets the policy's ``recent`` window, as do its devices."""
    made = sandbox.create_organization(members=1, root_keys=0)
    member = made.member_account_ids[0]
    sandbox.set_root_password(member, last_used=clock.now() - timedelta(hours=20))
    sandbox.add_root_mfa_device(member)
    policy = RemovalPolicy(recent=timedelta(days=3), never=HOUR)

    organization = _organization(sandbox, clock, journal)
    plan = next(iter(organization.plan(policy, account_ids=[member], credentials=EVERYTHING)))

    windows = {CredentialKind.of(k.key_id): k.window for k in plan.keys}
    three_days = timedelta(days=3)
    assert windows == {CredentialKind.PASSWORD: three_days, CredentialKind.MFA: three_days}
    password = next(k for k in plan.keys if CredentialKind.of(k.key_id) is CredentialKind.PASSWORD)
    assert "PasswordLastUsed" in password.window_reason


def test_a_recent_sign_in_blocks_the_account_when_the_policy_says_so(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """``sign_in_blocks``: an account whose root user signed in lately is left to a person."""
    made = sandbox.create_organization(members=2, root_keys=1)
    recent, old = made.member_account_ids
    sandbox.set_root_password(recent, last_used=clock.now() - timedelta(days=2))
    sandbox.set_root_password(old, last_used=clock.now() - timedelta(days=200))
    policy = RemovalPolicy(fixed=HOUR, sign_in_blocks=timedelta(days=7))

    report = _organization(sandbox, clock, journal).remove_all(
        policy, EVERY, credentials={"keys", "password"}
    )

    outcomes = {a.account_id: a.outcome for a in report.accounts}
    assert outcomes[recent] is AccountOutcome.BLOCKED
    assert outcomes[old] is AccountOutcome.DONE
    assert sandbox.root_password(recent)
    assert len(sandbox.root_keys(recent)) == 1
    assert not quarantined(sandbox, recent)
    assert not sandbox.root_password(old)


def test_a_recent_sign_in_blocks_a_keys_only_run_too(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The quarantine locks the console out whatever a run removes: the block still holds."""
    made = sandbox.create_organization(members=1, root_keys=1)
    member = made.member_account_ids[0]
    sandbox.set_root_password(member, last_used=clock.now() - timedelta(days=2))
    policy = RemovalPolicy(fixed=HOUR, sign_in_blocks=timedelta(days=7))
    organization = _organization(sandbox, clock, journal)

    plan = next(iter(organization.plan(policy, account_ids=[member], credentials={"keys"})))
    report = organization.remove_all(policy, EVERY, account_ids=[member], credentials={"keys"})

    assert [k.next for k in plan.keys] == [rootkeys.Next.BLOCKED]
    assert "signed in with the password" in plan.keys[0].reason
    assert report.counts == {AccountOutcome.BLOCKED: 1}
    assert not quarantined(sandbox, member)
    assert len(sandbox.root_keys(member)) == 1


def test_mfa_alone_is_refused_before_any_aws_call(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """``{"mfa"}`` without the password would leave a root password without MFA."""
    organization = _organization(sandbox, clock, journal)
    before = len(sandbox.calls)

    with pytest.raises(InputError, match="MFA devices are removed with the root password"):
        organization.remove_all(HOUR, credentials={"keys", "mfa"})
    with pytest.raises(InputError, match="MFA devices are removed with the root password"):
        organization.plan(HOUR, credentials={"mfa"})

    assert len(sandbox.calls) == before


def test_a_run_stopped_between_deactivating_and_deleting_a_virtual_device_is_understood(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """DeleteVirtualMFADevice fails: the device is no longer the root user's; the next pass
    records it gone and finishes the account (the unassigned device signs nothing)."""
    made = sandbox.create_organization(members=1, root_keys=0)
    member = made.member_account_ids[0]
    serial = sandbox.add_root_mfa_device(member)
    organization = _organization(sandbox, clock, journal)
    kinds = {"password", "mfa"}
    organization.remove_all(HOUR, EVERY, wait=False, credentials=kinds)
    clock.advance(HOUR)
    sandbox.inject_error("ServiceFailure", status=500, operation="DeleteVirtualMFADevice", times=9)

    stopped = organization.remove_all(HOUR, EVERY, wait=False, credentials=kinds)

    assert stopped.counts[AccountOutcome.INCOMPLETE] == 1
    assert sandbox.root_mfa_devices(member) == {}  # deactivated: no longer assigned
    sandbox.clear_faults()
    final = organization.remove_all(HOUR, EVERY, wait=False, credentials=kinds)
    assert final.counts[AccountOutcome.NOTHING_TO_DO] == 1
    assert not quarantined(sandbox, member)
    assert organization.verify(credentials=kinds)
    records = journal.records(member, f"mfa:{serial}")
    assert records[-1].to_state is rootkeys.KeyState.DELETED


def test_history_takes_a_password_or_mfa_id(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The journal names a password and an MFA device by their lifecycle ids."""
    member = org.member_account_ids[0]
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(HOUR, EVERY, account_ids=[member], credentials=EVERYTHING)
    ids = {r.key_id for r in journal.records(member)}
    password = next(i for i in ids if i.startswith("password:"))
    mfa = next(i for i in ids if i.startswith("mfa:arn:"))

    for credential in (password, mfa):
        history = organization.history(member, credential)
        assert history.records[-1].to_state is rootkeys.KeyState.DELETED


def test_a_members_control_is_confirmed_through_a_session_of_its_own(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """confirm_control for a member: Config asked with the session given, in that account."""
    member, other = org.member_account_ids
    rule = sandbox.add_root_key_rule(member)
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(HOUR, EVERY, account_ids=[member])

    confirmation = organization.confirm_control(
        member, session=sandbox.admin_session(member), poll=timedelta(seconds=5)
    )

    assert confirmation.compliant
    assert [(r.rule_name, r.compliance) for r in confirmation.rules] == [(rule, "COMPLIANT")]
    started = [c for c in sandbox.calls if c.operation == "StartConfigRulesEvaluation"]
    assert [c.account_id for c in started] == [member]
    before = len(sandbox.calls)
    with pytest.raises(rootkeys.errors.AccountMismatchError):
        organization.confirm_control(member, session=sandbox.admin_session(other))
    assert [c.operation for c in sandbox.calls[before:]] == ["GetCallerIdentity"]


def test_a_run_of_other_kinds_keeps_the_quarantine_a_password_is_observed_under(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A --password run starts the password's window; the daily default run deletes the
    key but keeps the SCP for the password, and the next --password run finishes it."""
    member = sandbox.create_organization(members=1, root_keys=1).member_account_ids[0]
    sandbox.set_root_password(member, last_used=clock.now() - timedelta(hours=20))
    policy = RemovalPolicy(recent=timedelta(days=3), never=HOUR)
    organization = _organization(sandbox, clock, journal)
    with_password = {"keys", "password"}
    organization.remove_all(policy, EVERY, wait=False, credentials=with_password)
    clock.advance(2 * HOUR)

    daily = organization.remove_all(policy, EVERY, wait=False)

    result = next(a for a in daily.accounts if a.account_id == member)
    assert result.outcome is AccountOutcome.DONE
    assert result.quarantine is QuarantineStatus.ATTACHED
    assert quarantined(sandbox, member)
    assert sandbox.root_keys(member) == []
    plan = next(iter(organization.plan(policy, account_ids=[member], credentials=with_password)))
    assert [k.next for k in plan.keys] == [rootkeys.Next.OBSERVE]
    clock.advance(timedelta(days=3))
    organization.remove_all(policy, EVERY, wait=False, credentials=with_password)
    assert not sandbox.root_password(member)
    assert not quarantined(sandbox, member)


def test_a_rollback_of_other_kinds_holds_the_password_it_released(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A keys-only run's failing check detaches the quarantine: the password quarantined
    by an earlier --password run is held as rolled back, with the check's reason."""
    member = sandbox.create_organization(members=1, root_keys=1).member_account_ids[0]
    sandbox.set_root_password(member)
    ok = {"now": True}
    organization = _organization(sandbox, clock, journal, checks=[lambda key: ok["now"]])
    organization.remove_all(HOUR, EVERY, wait=False, credentials={"keys", "password"})
    ok["now"] = False

    report = organization.remove_all(HOUR, EVERY, wait=False)

    assert report.counts[AccountOutcome.ROLLED_BACK] == 1
    assert not quarantined(sandbox, member)
    status = next(iter(organization.status(account_ids=[member], credentials={"password"})))
    (password,) = status.keys
    assert password.next is rootkeys.Next.ON_HOLD
    assert "rolled back with its account's quarantine" in password.reason


def test_an_unverified_quarantine_is_rolled_back_by_a_later_failing_check(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The quarantine's read-back is throttled (unverified); a pass later a check fails:
    the quarantine is detached and the key held, never deleted afterwards."""
    member = sandbox.create_organization(members=1, root_keys=1).member_account_ids[0]
    sandbox.before(
        "AttachPolicy",
        lambda: sandbox.inject_throttling(operation="ListPoliciesForTarget", times=3),
        times=1,
    )
    ok = {"now": True}
    organization = _organization(
        sandbox,
        clock,
        journal,
        checks=[lambda key: ok["now"]],
        retry=rootkeys.RetryPolicy(attempts=3),
    )
    organization.remove_all(HOUR, timedelta(minutes=20), wait=False)
    clock.advance(timedelta(minutes=20))
    ok["now"] = False

    failed = organization.remove_all(HOUR, timedelta(minutes=20), wait=False)

    assert failed.counts[AccountOutcome.ROLLED_BACK] == 1
    assert not quarantined(sandbox, member)
    ok["now"] = True
    for _ in range(3):
        clock.advance(2 * HOUR)
        organization.remove_all(HOUR, timedelta(minutes=20), wait=False)
    assert len(sandbox.root_keys(member)) == 1  # held: a person resumes it


class _Crash(BaseException):
    """The process dies here."""


def test_a_crash_between_deactivating_and_deleting_a_virtual_device_is_reconciled(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The run dies after DeactivateMFADevice: the next run finds the delete's intent done
    (the device is no longer the root user's), records it so, and finishes the account."""
    member = sandbox.create_organization(members=1, root_keys=0).member_account_ids[0]
    serial = sandbox.add_root_mfa_device(member)
    kinds = {"password", "mfa"}
    _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, wait=False, credentials=kinds)
    clock.advance(HOUR)

    def die() -> None:
        raise _Crash

    sandbox.before("DeleteVirtualMFADevice", die)
    with pytest.raises(_Crash):
        _organization(sandbox, clock, journal).remove_all(
            HOUR, EVERY, wait=False, credentials=kinds
        )
    assert sandbox.root_mfa_devices(member) == {}  # deactivated before the crash

    final = _organization(sandbox, clock, journal).remove_all(
        HOUR, EVERY, wait=False, credentials=kinds
    )

    assert final.counts[AccountOutcome.NOTHING_TO_DO] == 1
    assert not quarantined(sandbox, member)
    records = journal.records(member, f"mfa:{serial}")
    settled = [r for r in records if "reconciled after an interrupted" in r.detail]
    assert [r.to_state for r in settled] == [rootkeys.KeyState.DELETED]
