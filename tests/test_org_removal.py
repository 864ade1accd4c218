"""Organization.remove_all: the lifecycle per member account, through AssumeRoot and SCPs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import AccountOutcome, EventKind, KeyOutcome, KeyState, ObservedKey
from rootkeys._member_keys import MemberGateway
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import Action, KeyStatus
from rootkeys.reports import QuarantineStatus, StepStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxOrganization
from tests.conftest import Recorder
from tests.orgtools import AppCheck, quarantined
from tests.orgtools import organization as _organization

HOUR = timedelta(hours=1)
EVERY = timedelta(minutes=30)  # three passes per window: enough, and quick


@pytest.fixture
def org(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.create_organization(members=4, root_keys=1)


@pytest.fixture
def journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


def test_removal_quarantines_observes_deletes_and_cleans_up(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Active keys: quarantine, a whole window of passing checks, delete, detach; all done."""
    members = org.member_account_ids
    inactive = members[1]
    sandbox.set_root_key_status(inactive, sandbox.root_keys(inactive)[0].key_id, KeyStatus.INACTIVE)
    keys = {m: sandbox.root_keys(m)[0].key_id for m in members}
    checked: list[tuple[str, KeyState]] = []

    def check(key: ObservedKey) -> bool:
        checked.append((key.account_id, key.state))
        return True

    report = _organization(sandbox, clock, journal, checks=[check], workers=2).remove_all(
        HOUR, EVERY
    )

    assert report.counts == {AccountOutcome.DONE: 4, AccountOutcome.OUT_OF_REACH: 1}
    for member in members:
        assert sandbox.root_keys(member) == []
        assert not quarantined(sandbox, member)
        result = next(a for a in report.accounts if a.account_id == member)
        assert result.report is not None
        assert result.report.keys_present is False
        assert result.report.deleted == (keys[member],)
        expected = QuarantineStatus.NONE if member == inactive else QuarantineStatus.DETACHED
        assert result.quarantine is expected
    # the checks saw each Active key while quarantined, the Inactive key as Inactive
    assert (members[0], KeyState.QUARANTINED) in checked
    assert (inactive, KeyState.INACTIVE) in checked
    assert KeyState.ACTIVE not in {state for _, state in checked}


def test_no_key_is_deleted_before_its_whole_window(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The journal shows each delete intended a full window after the key became unusable."""
    _organization(sandbox, clock, journal).remove_all(HOUR, EVERY)
    for member in org.member_account_ids:
        records = journal.records(member)
        quarantined = next(
            r
            for r in records
            if r.kind is RecordKind.OUTCOME
            and r.action is Action.QUARANTINE
            and r.status is StepStatus.DONE
        )
        delete = next(
            r for r in records if r.kind is RecordKind.INTENT and r.action is Action.DELETE
        )
        assert delete.from_state is KeyState.QUARANTINED
        assert delete.at - quarantined.at >= HOUR
        # the intent was recorded before the outcome, the outcome says done
        outcome = next(r for r in records if r.intent_seq == delete.seq)
        assert outcome.status is StepStatus.DONE


def test_failing_check_rolls_back_only_that_account(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The app's account: quarantine detached, key untouched and on hold; others done."""
    app = org.member_account_ids[2]
    app_key = sandbox.root_keys(app)[0].key_id
    check = AppCheck(sandbox, app, app_key)
    recorder = Recorder()
    organization = _organization(sandbox, clock, journal, checks=[check], hooks=[recorder])

    report = organization.remove_all(HOUR, EVERY)

    result = next(a for a in report.accounts if a.account_id == app)
    assert result.outcome is AccountOutcome.ROLLED_BACK
    assert "orders app" in result.reason
    assert result.quarantine is QuarantineStatus.NONE
    assert [(k.key_id, k.status) for k in sandbox.root_keys(app)] == [(app_key, KeyStatus.ACTIVE)]
    assert not quarantined(sandbox, app)
    assert check(ObservedKey.model_validate(_observed(sandbox, app))).ok  # the app works again
    assert report.counts[AccountOutcome.DONE] == 3
    assert not [c for c in sandbox.mutations(app) if c.operation == "DeleteAccessKey"]
    released = [e for e in recorder.events if e.kind is EventKind.RELEASED]
    assert [e.account_id for e in released] == [app]
    # the next run does not quarantine it again on its own
    again = organization.remove_all(HOUR, EVERY, account_ids=[app])
    assert again.accounts[0].outcome is AccountOutcome.ON_HOLD
    assert "on hold" in again.accounts[0].reason
    assert not quarantined(sandbox, app)


def _observed(sandbox: Sandbox, account_id: str) -> dict[str, object]:
    key = sandbox.root_keys(account_id)[0]
    return {**key.model_dump(), "account_id": account_id, "window_started_at": key.created_at}


def test_staged_runs_converge(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """wait=False: the first run quarantines and reports observing; a later one finishes."""
    organization = _organization(sandbox, clock, journal)
    first = organization.remove_all(timedelta(days=7), wait=False)
    assert first.counts == {AccountOutcome.OBSERVING: 4, AccountOutcome.OUT_OF_REACH: 1}
    for member in org.member_account_ids:
        assert quarantined(sandbox, member)
        assert len(sandbox.root_keys(member)) == 1
    clock.advance(timedelta(days=3))
    middle = _organization(sandbox, clock, journal).remove_all(timedelta(days=7), wait=False)
    assert middle.counts[AccountOutcome.OBSERVING] == 4
    assert {a.passes for a in middle.with_outcome(AccountOutcome.OBSERVING)} == {1}
    clock.advance(timedelta(days=4))
    last = _organization(sandbox, clock, journal).remove_all(timedelta(days=7), wait=False)
    assert last.counts[AccountOutcome.DONE] == 4
    for member in org.member_account_ids:
        assert sandbox.root_keys(member) == []
        assert not quarantined(sandbox, member)


def test_blocking_run_revisits_observing_accounts_each_interval(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """wait=True: passes one check interval apart; no AssumeRoot session outlives its reuse."""
    organization = _organization(sandbox, clock, journal, workers=4)
    report = organization.remove_all(HOUR, check_interval=timedelta(minutes=20))
    member = next(a for a in report.accounts if a.account_id == org.member_account_ids[0])
    assert member.outcome is AccountOutcome.DONE
    assert member.passes == 4  # at 0, 20, 40 and 60 minutes
    assert member.report is not None
    # sessions: fresh ones through the window, none used once expired
    assume = [c for c in sandbox.calls if c.operation == "AssumeRoot"]
    assert len(assume) >= 4 * 4
    assert [c for c in sandbox.calls if c.status >= 400] == []  # no session used once expired


def test_keep_quarantine_leaves_the_guardrail_and_release_removes_it(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """keep_quarantine=True keeps the SCP after the keys are gone; release() detaches it."""
    organization = _organization(sandbox, clock, journal)
    member = org.member_account_ids[0]
    report = organization.remove_all(HOUR, EVERY, account_ids=[member], keep_quarantine=True)
    assert report.accounts[0].outcome is AccountOutcome.DONE
    assert report.accounts[0].quarantine is QuarantineStatus.KEPT
    assert quarantined(sandbox, member)
    assert organization.release(member) == ()  # no key left to release
    assert not quarantined(sandbox, member)


def test_account_at_the_scp_limit_is_blocked_and_untouched(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Five SCPs attached: the Active key is blocked with that reason, left as it was."""
    member = org.member_account_ids[0]
    client = sandbox.management_session().client("organizations")
    for n in range(4):  # plus FullAWSAccess, attached to every account by moto
        policy = client.create_policy(
            Content='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
            '"Resource":"*"}]}',
            Description="",
            Name=f"extra-{n}",
            Type="SERVICE_CONTROL_POLICY",
        )["Policy"]["PolicySummary"]["Id"]
        client.attach_policy(PolicyId=policy, TargetId=member)
    active = sandbox.root_keys(member)[0].key_id
    inactive = sandbox.add_root_key(member, status=KeyStatus.INACTIVE)
    report = _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, account_ids=[member])
    assert report.accounts[0].outcome is AccountOutcome.BLOCKED
    assert "5 SCPs" in report.accounts[0].reason
    assert not quarantined(sandbox, member)
    assert [(k.key_id, k.status) for k in sandbox.root_keys(member)] == [(active, KeyStatus.ACTIVE)]
    # the Inactive key needed no quarantine: it was observed and deleted
    assert [c.params.get("AccessKeyId") for c in sandbox.mutations(member)] == [inactive]


def test_one_failing_account_never_stops_the_others(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """An account whose IAM keeps failing is reported failed with why; the rest are done."""
    broken = org.member_account_ids[1]
    sandbox.inject_server_error(operation="ListAccessKeys", times=None, account_id=broken)
    organization = _organization(sandbox, clock, journal, retry=rootkeys.RetryPolicy(attempts=2))
    report = organization.remove_all(HOUR, EVERY)
    failed = next(a for a in report.accounts if a.account_id == broken)
    assert failed.outcome is AccountOutcome.FAILED
    assert "ServiceFailure" in failed.reason
    assert report.counts[AccountOutcome.DONE] == 3
    assert len(sandbox.root_keys(broken)) == 1


def test_expired_root_session_is_replaced_once(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A session that expired mid-step is replaced by a fresh AssumeRoot, transparently."""
    member = org.member_account_ids[0]
    sandbox.inject_error(
        "ExpiredToken", status=400, operation="ListAccessKeys", times=1, account_id=member
    )
    report = _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, account_ids=[member])
    assert report.accounts[0].outcome is AccountOutcome.DONE
    calls = sandbox.calls
    expired = [i for i, c in enumerate(calls) if c.fault == "ExpiredToken"]
    assert len(expired) == 1
    after = [c.operation for c in calls[expired[0] + 1 :]]
    # a new session is assumed before the read is made again (not a retry on the old one)
    assert after.index("AssumeRoot") < after.index("ListAccessKeys")
    again = calls[expired[0] + 1 + after.index("ListAccessKeys")]
    assert again.signing_key_id != calls[expired[0]].signing_key_id
    assert again.status == 200


def test_member_gateway_refuses_to_delete_a_usable_key(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Even asked directly, a key that is Active and not quarantined is never deleted."""
    member = org.member_account_ids[0]
    key_id = sandbox.root_keys(member)[0].key_id
    organization = _organization(sandbox, clock, journal)
    gateway = MemberGateway(organization._management, member, clock=clock)
    with pytest.raises(rootkeys.errors.IllegalTransitionError, match="usable"):
        gateway.make(Action.DELETE, key_id)
    with pytest.raises(rootkeys.InputError, match="UpdateAccessKey"):
        gateway.make(Action.DEACTIVATE, key_id)
    assert len(sandbox.root_keys(member)) == 1
    assert not [c for c in sandbox.calls if c.operation == "DeleteAccessKey"]


def test_explicit_quarantine_and_release_are_journaled(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """quarantine()/release() record intent and outcome per key, like deactivate()."""
    member = org.member_account_ids[0]
    key_id = sandbox.root_keys(member)[0].key_id
    organization = _organization(sandbox, clock, journal)
    (step,) = organization.quarantine(member)
    assert (step.action, step.from_state, step.to_state) == (
        Action.QUARANTINE,
        KeyState.ACTIVE,
        KeyState.QUARANTINED,
    )
    assert quarantined(sandbox, member)
    (back,) = organization.release(member)
    assert (back.action, back.to_state) == (Action.RELEASE, KeyState.ACTIVE)
    assert not quarantined(sandbox, member)
    kinds = [(r.kind, r.action) for r in journal.records(member, key_id) if r.action]
    assert kinds == [
        (RecordKind.INTENT, Action.QUARANTINE),
        (RecordKind.OUTCOME, Action.QUARANTINE),
        (RecordKind.INTENT, Action.RELEASE),
        (RecordKind.OUTCOME, Action.RELEASE),
    ]


def test_quarantine_lifts_a_hold_left_by_a_rollback(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """After a rollback, an explicit quarantine() starts over; the next run finishes."""
    app = org.member_account_ids[0]
    failing = _organization(sandbox, clock, journal, checks=[lambda key: False])
    assert failing.remove_all(HOUR, EVERY, account_ids=[app]).accounts[0].outcome is (
        AccountOutcome.ROLLED_BACK
    )
    fixed = _organization(sandbox, clock, journal)
    fixed.quarantine(app)
    clock.advance(HOUR)
    assert (
        fixed.remove_all(HOUR, EVERY, account_ids=[app]).accounts[0].outcome is AccountOutcome.DONE
    )
    assert sandbox.root_keys(app) == []


def test_bad_input_is_refused_before_any_aws_call(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Negative windows, bad ids, non-bool flags, no journal: InputError, no call made."""
    organization = _organization(sandbox, clock, journal)
    made = len(sandbox.calls)
    with pytest.raises(rootkeys.InputError, match="negative"):
        organization.remove_all(-HOUR)
    with pytest.raises(rootkeys.InputError, match="12 digits"):
        organization.remove_all(HOUR, EVERY, account_ids=["12345"])
    with pytest.raises(rootkeys.InputError, match="wait"):
        organization.remove_all(HOUR, wait="yes")  # type: ignore[arg-type]
    with pytest.raises(rootkeys.InputError, match="journal"):
        rootkeys.Organization(sandbox.management_session(), journal=False).remove_all(HOUR, EVERY)
    with pytest.raises(rootkeys.InputError, match="checks"):
        rootkeys.Organization(sandbox.management_session(), checks=[1])  # type: ignore[list-item]
    assert len(sandbox.calls) == made


def test_management_account_is_out_of_reach(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The management account is reported out of reach; quarantining it is refused."""
    organization = _organization(sandbox, clock, journal)
    report = organization.remove_all(HOUR, EVERY, account_ids=[org.management_account_id])
    assert report.accounts[0].outcome is AccountOutcome.OUT_OF_REACH
    assert "CloudShell" in report.accounts[0].reason
    with pytest.raises(rootkeys.InputError, match="management account"):
        organization.quarantine(org.management_account_id)


def test_hooks_hear_every_account(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Events name their account; each account's pass ends with ACCOUNT_FINISHED."""
    recorder = Recorder()
    _organization(sandbox, clock, journal, hooks=[recorder]).remove_all(HOUR, EVERY, wait=False)
    finished = {e.account_id for e in recorder.events if e.kind is EventKind.ACCOUNT_FINISHED}
    assert finished == set(org.member_account_ids)
    quarantined = {e.account_id for e in recorder.events if e.kind is EventKind.QUARANTINED}
    assert quarantined == set(org.member_account_ids)


def test_removal_policy_gives_each_key_its_window(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """With a RemovalPolicy, a never-used key goes after an hour, a recently used one waits."""
    used = org.member_account_ids[0]
    sandbox.use_root_key(used, sandbox.root_keys(used)[0].key_id)
    policy = rootkeys.RemovalPolicy()
    organization = _organization(sandbox, clock, journal)
    first = organization.remove_all(policy, wait=False)
    assert first.counts[AccountOutcome.OBSERVING] == 4
    clock.advance(policy.never + timedelta(minutes=1))
    second = {a.account_id: a for a in organization.remove_all(policy, wait=False).accounts}
    assert second[used].outcome is AccountOutcome.OBSERVING
    assert second[used].report is not None
    assert second[used].report.keys[0].window == policy.recent
    for member in org.member_account_ids[1:]:
        assert second[member].outcome is AccountOutcome.DONE


class Crash(BaseException):
    """The process dying at a chosen point (BaseException: nothing may catch it)."""


@pytest.mark.parametrize("action", [Action.QUARANTINE, Action.DELETE])
def test_crash_between_the_aws_call_and_its_outcome_is_finished_by_the_next_run(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    monkeypatch: pytest.MonkeyPatch,
    action: Action,
) -> None:
    """The change was made but its outcome never recorded: the next run settles and ends."""
    member = org.member_account_ids[0]
    real_append = rootkeys.Journal.append

    def dying_append(self: rootkeys.Journal, **fields: object) -> rootkeys.journal.JournalRecord:
        if fields.get("kind") is RecordKind.OUTCOME and fields.get("action") is action:
            raise Crash
        return real_append(self, **fields)

    monkeypatch.setattr(rootkeys.Journal, "append", dying_append)
    with pytest.raises(Crash):
        _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, account_ids=[member])
    monkeypatch.undo()
    # the AWS change was made; the journal holds an intent with no outcome
    records = journal.records(member)
    assert records[-1].kind is RecordKind.INTENT
    assert records[-1].action is action
    assert quarantined(sandbox, member)  # attached, and not yet detached after a delete
    assert (sandbox.root_keys(member) == []) is (action is Action.DELETE)

    clock.advance(timedelta(minutes=1))
    again = _organization(sandbox, clock, journal)
    report = again.remove_all(HOUR, EVERY, account_ids=[member])
    expected = AccountOutcome.DONE if action is Action.QUARANTINE else AccountOutcome.NOTHING_TO_DO
    assert report.accounts[0].outcome is expected
    assert report.accounts[0].report is not None
    assert report.accounts[0].report.keys_present is False
    assert sandbox.root_keys(member) == []
    assert not quarantined(sandbox, member)
    settled = next(r for r in journal.records(member) if r.intent_seq == records[-1].seq)
    assert settled.status is StepStatus.DONE
    if action is Action.QUARANTINE:  # its window began when the quarantine was settled
        delete = next(
            r
            for r in journal.records(member)
            if r.kind is RecordKind.INTENT and r.action is Action.DELETE
        )
        assert delete.at - settled.at >= HOUR


def test_blocking_run_finishes_a_rollback_and_still_waits_out_other_windows(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """An account rolled back (finishing an earlier rollback) with an Inactive key in its
    window is revisited until that window ends: wait=True leaves nothing observing."""
    member = org.member_account_ids[0]
    active = sandbox.root_keys(member)[0].key_id
    inactive = sandbox.add_root_key(member, status=KeyStatus.INACTIVE)

    def fails_and_breaks_detach(key: ObservedKey) -> bool:
        sandbox.inject_throttling(operation="DetachPolicy", times=None)
        return False

    first = _organization(
        sandbox,
        clock,
        journal,
        checks=[fails_and_breaks_detach],
        retry=rootkeys.RetryPolicy(attempts=2),
    ).remove_all(HOUR, EVERY, account_ids=[member])
    assert first.accounts[0].outcome is AccountOutcome.INCOMPLETE  # the release failed
    assert quarantined(sandbox, member)
    sandbox.clear_faults()

    second = _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, account_ids=[member])
    result = second.accounts[0]
    assert result.outcome is AccountOutcome.ROLLED_BACK
    assert result.observing_until is None
    assert [k.key_id for k in sandbox.root_keys(member)] == [active]  # released, not deleted
    assert not quarantined(sandbox, member)
    assert inactive not in {k.key_id for k in sandbox.root_keys(member)}


def test_a_key_on_hold_keeps_its_account_out_of_quarantine(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The quarantine is account-wide: while one key is on hold, no other Active key of the
    account is quarantined (that would break the held key's app again)."""
    member = org.member_account_ids[0]
    held = sandbox.root_keys(member)[0].key_id
    failing = _organization(sandbox, clock, journal, checks=[lambda key: False])
    assert failing.remove_all(HOUR, EVERY, account_ids=[member]).accounts[0].outcome is (
        AccountOutcome.ROLLED_BACK
    )
    newcomer = sandbox.add_root_key(member)  # someone makes another root key
    report = _organization(sandbox, clock, journal).remove_all(HOUR, EVERY, account_ids=[member])
    result = report.accounts[0]
    assert result.outcome is AccountOutcome.ON_HOLD
    assert result.report is not None
    reasons = {k.key_id: k.reason for k in result.report.keys}
    assert {k.key_id: k.outcome for k in result.report.keys}[held] is KeyOutcome.ON_HOLD
    assert "another root key of this account is on hold" in reasons[newcomer]
    assert not quarantined(sandbox, member)
    assert {k.status for k in sandbox.root_keys(member)} == {KeyStatus.ACTIVE}


def _scp_reads(sandbox: Sandbox, member: str, since: int) -> int:
    return sum(
        1
        for c in sandbox.calls[since:]
        if c.operation == "ListPoliciesForTarget" and c.params.get("TargetId") == member
    )


def test_a_pass_reads_the_scps_once_unless_it_changes_them(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A pass that changes nothing reads the account's SCPs once, however many reads it makes;
    one that attaches the quarantine reads them again to verify it took."""
    member = org.member_account_ids[0]
    organization = _organization(sandbox, clock, journal)
    start = len(sandbox.calls)
    first = organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    assert first.accounts[0].outcome is AccountOutcome.OBSERVING
    # the pass's reading, the attach's own guard (the SCP limit), the read-back after it
    assert _scp_reads(sandbox, member, start) == 3
    clock.advance(EVERY)
    start = len(sandbox.calls)
    again = organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    assert again.accounts[0].outcome is AccountOutcome.OBSERVING
    reads = [c.operation for c in sandbox.calls[start:] if c.account_id == member]
    assert reads.count("ListAccessKeys") >= 3  # reconcile, plan, the window's state reads
    assert _scp_reads(sandbox, member, start) == 1


def test_an_scp_detached_mid_pass_stops_the_delete(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """The pass reuses its first reading of the SCPs, but the check just before a delete
    reads them again: an admin detaching the quarantine mid-pass stops the delete."""
    member = org.member_account_ids[0]
    key_id = sandbox.root_keys(member)[0].key_id
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    clock.advance(HOUR + EVERY)
    policy_id = organization.quarantine_policy_id()
    assert policy_id is not None
    orgs = sandbox.management_session().client("organizations")
    # after the pass has read the SCPs (reconcile, listing, the checks' read), before the
    # delete: just before the pass's third ListAccessKeys
    reads = iter([None, None, policy_id])

    def detach_on_third_read() -> None:
        if (policy := next(reads)) is not None:
            orgs.detach_policy(PolicyId=policy, TargetId=member)

    sandbox.before("ListAccessKeys", detach_on_third_read, times=3, account_id=member)
    report = organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    assert not [c for c in sandbox.calls if c.operation == "DeleteAccessKey"]
    assert [k.key_id for k in sandbox.root_keys(member)] == [key_id]
    assert report.accounts[0].outcome is not AccountOutcome.DONE
    # the next pass sees the key usable again: its window is void and it is held
    clock.advance(EVERY)
    after = organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    assert after.accounts[0].outcome is not AccountOutcome.DONE
    assert [k.key_id for k in sandbox.root_keys(member)] == [key_id]


def test_a_removal_that_quarantines_nothing_creates_no_scp(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """Only Inactive keys: deleted without a quarantine, and the SCP is never created."""
    member = org.member_account_ids[0]
    sandbox.set_root_key_status(member, sandbox.root_keys(member)[0].key_id, KeyStatus.INACTIVE)
    organization = _organization(sandbox, clock, journal)
    report = organization.remove_all(timedelta(0), account_ids=[member])
    assert [a.outcome for a in report.accounts] == [AccountOutcome.DONE]
    assert report.accounts[0].quarantine is QuarantineStatus.NONE
    assert sandbox.root_keys(member) == []
    assert [c for c in sandbox.calls if c.operation == "CreatePolicy"] == []
    assert organization.quarantine_policy_id() is None


def test_an_explicit_rollback_detaches_the_quarantine_under_the_accounts_lock(
    sandbox: Sandbox,
    org: SandboxOrganization,
    clock: FakeClock,
    journal: rootkeys.Journal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No other run can quarantine the account between the rollback and the detach."""
    member = org.member_account_ids[0]
    organization = _organization(sandbox, clock, journal)
    organization.remove_all(HOUR, EVERY, account_ids=[member], wait=False)
    assert quarantined(sandbox, member)
    other = rootkeys.Journal(journal.path, lock_timeout=timedelta(milliseconds=100))
    seen: list[bool] = []
    detach = MemberGateway.detach_quarantine

    def watched(gateway: MemberGateway) -> object:
        try:
            with other.lock(member):
                seen.append(False)  # free: another run could have quarantined meanwhile
        except rootkeys.errors.JournalLockedError:
            seen.append(True)
        return detach(gateway)

    monkeypatch.setattr(MemberGateway, "detach_quarantine", watched)
    organization.rollback(member)
    assert seen
    assert all(seen)
    assert not quarantined(sandbox, member)


def test_an_account_id_not_in_the_organization_is_said_not_dropped(
    sandbox: Sandbox, org: SandboxOrganization, clock: FakeClock, journal: rootkeys.Journal
) -> None:
    """A typo in --accounts (or a scheduled config) is reported skipped, with why, by every
    read and by a removal; the real member is worked on."""
    member, typo = org.member_account_ids[0], "111122223333"
    organization = _organization(sandbox, clock, journal)
    audits = {a.account_id: a for a in organization.audit([member, typo])}
    assert audits[typo].status.value == "skipped"
    assert "not an account of this organization" in audits[typo].reason
    report = organization.remove_all(HOUR, EVERY, account_ids=[typo, member], wait=False)
    outcomes = {a.account_id: a for a in report.accounts}
    assert outcomes[typo].outcome is AccountOutcome.SKIPPED
    assert "not an account of this organization" in outcomes[typo].reason
    assert outcomes[member].outcome is AccountOutcome.OBSERVING
    plans = {p.account_id: p for p in organization.plan(HOUR, account_ids=[typo])}
    assert "not an account of this organization" in (plans[typo].note or "")
