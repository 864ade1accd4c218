"""The fault campaign's CI slice: a fixed-seed sample of tests/campaign.py's scenarios.

The long campaign (10,000 scenarios and more) is ``nox -s campaign``.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

import rootkeys
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, KeyChange, Sandbox, SandboxCall
from tests import campaign, orgtools

T0 = datetime(2026, 11, 27, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.timeout(600)  # 60 scenarios: a minute or two, more on a busy machine
@seed(20261127)
@settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(campaign.scenarios())
def test_fault_campaign_slice_keeps_every_promise(scenario: campaign.Scenario) -> None:
    """Faults on, then fresh runs: no promise broken (see tests/campaign.py for which)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = campaign.run(scenario, Path(tmp))
    assert result.violations == []
    assert result.runs >= 1


def _change(minutes: int, status: KeyStatus | None, *, was: bool, by: str = "root") -> KeyChange:
    return KeyChange(
        at=T0 + timedelta(minutes=minutes),
        account_id="111122223333",
        key_id="AKIAAAAAAAAAAAAAAAAA",
        status=status,
        quarantined=False,
        by=by,
        was_usable=was,
    )


def test_judge_flags_a_deletion_while_usable() -> None:
    """The campaign's own judge can fail: a key deleted while Active is a violation."""
    changes = (_change(0, KeyStatus.ACTIVE, was=False), _change(90, None, was=True))
    assert campaign.deletion_violations(changes, HOUR, []) != []


def test_judge_flags_a_short_window_and_a_failing_check() -> None:
    """Deleted 30 minutes after deactivation, or with a failed check inside the window."""
    made = _change(0, KeyStatus.ACTIVE, was=False)
    off = _change(10, KeyStatus.INACTIVE, was=True)
    assert campaign.deletion_violations((made, off, _change(40, None, was=False)), HOUR, [])
    gone = _change(80, None, was=False)
    failed = [("111122223333", T0 + timedelta(minutes=50), False)]
    assert campaign.deletion_violations((made, off, gone), HOUR, failed)
    assert campaign.deletion_violations((made, off, gone), HOUR, []) == []


def test_judge_ignores_deletions_by_someone_else() -> None:
    """A key deleted by the test's own hand is not rootkeys' doing."""
    changes = (_change(0, KeyStatus.ACTIVE, was=False), _change(1, None, was=True, by="sandbox"))
    assert campaign.deletion_violations(changes, HOUR, []) == []


ACT, OFF = KeyStatus.ACTIVE, KeyStatus.INACTIVE
FOUND = [
    # A rollback interrupted (crash before its UpdateAccessKey) while the other key's
    # deactivation had failed: the next run finishes the rollback and observes the other.
    campaign.Scenario(
        seed=0,
        org=False,
        keys=((ACT, ACT),),
        self_signed=False,
        window=HOUR,
        staged=True,
        faults=(campaign.Fault("throttling", "UpdateAccessKey", 3),),
        check_fails_at=1,
        check_raises=False,
        hook_raises=False,
        crash=("before AWS call", "UpdateAccessKey", 2),
    ),
    # An organization rollback whose DetachPolicy kept failing: the next blocking run
    # finishes it and must keep coming back for the account's Inactive key.
    campaign.Scenario(
        seed=0,
        org=True,
        keys=((ACT, OFF),),
        self_signed=False,
        window=HOUR,
        staged=False,
        faults=(campaign.Fault("throttling", "DetachPolicy", 3),),
        check_fails_at=1,
        check_raises=False,
        hook_raises=False,
        crash=None,
    ),
]


FOUND.append(
    # A member's second key was quarantined (read-back throttled), then its first key
    # rolled back and put on hold; the next run quarantined the account again for the
    # second key, making the held key unusable again.
    campaign.Scenario(
        seed=993,
        org=True,
        keys=((ACT, ACT), (ACT, ACT)),
        self_signed=False,
        window=timedelta(0),
        staged=True,
        faults=(
            campaign.Fault("throttling", "ListPoliciesForTarget", 3),
            campaign.Fault("throttling", "ListPoliciesForTarget", 4),
        ),
        check_fails_at=1,
        check_raises=False,
        hook_raises=True,
        crash=None,
        storm=1 / 3,
    )
)


FOUND.append(
    # Under a throttling storm one key's quarantine failed and the other's window failed
    # (its state unreadable): the held key keeps the whole account out of quarantine.
    campaign.Scenario(
        seed=2,
        org=True,
        keys=((ACT, ACT),),
        self_signed=False,
        window=timedelta(0),
        staged=False,
        faults=(),
        check_fails_at=None,
        check_raises=False,
        hook_raises=False,
        crash=None,
        storm=1 / 3,
    )
)


FOUND.append(
    # A check failed, then reading the keys for the rollback was throttled: the failure was
    # never journaled, and the next run deleted the keys after a window with a failed check.
    campaign.Scenario(
        seed=495,
        org=True,
        keys=((OFF, OFF), (), ()),
        self_signed=False,
        window=HOUR,
        staged=True,
        faults=(
            campaign.Fault("throttling", "ListAccessKeys", 1, 0.33),
            campaign.Fault("throttling", "ListAccessKeys", 3, 0.33),
        ),
        check_fails_at=1,
        check_raises=False,
        hook_raises=False,
        crash=None,
        storm=1 / 3,
    )
)


def test_scenarios_the_campaign_found_stay_fixed(tmp_path: Path) -> None:
    """Regressions: the shrunk scenarios of violations the long campaign once found."""
    for n, scenario in enumerate(FOUND):
        workdir = tmp_path / str(n)
        workdir.mkdir()
        assert campaign.run(scenario, workdir).violations == []


def test_a_short_campaign_deletes_every_kind_of_root_credential() -> None:
    """One account's certificates (the ledger records their deletion) and members'
    certificates, passwords and MFA devices are set up and deleted, with no violation."""
    ran, total, failure = campaign.campaign(seed=4, runs=20)  # a seed that draws every kind
    assert failure == ""
    assert ran["single account"] > 0
    assert ran["organization"] > 0
    assert total.certificates["set up"] > 0
    assert total.certificates["deleted"] > 0
    assert total.members["certificates deleted"] > 0
    assert total.members["passwords deleted"] > 0
    assert total.members["MFA devices deactivated"] > 0


def test_ledger_records_a_certificate_deactivated_then_deleted() -> None:
    """A certificate's Inactive and deleted changes are in the ledger, told apart from keys."""
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        sandbox.create_account(campaign.ACCOUNT, root_keys=0)
        cert = sandbox.add_root_signing_certificate(campaign.ACCOUNT)
        manager = rootkeys.RootKeyManager(
            sandbox.root_session(campaign.ACCOUNT), clock=clock, journal=False
        )
        manager.remove_all(observe_for=timedelta(0))
        changes = [c for c in sandbox.key_changes() if c.key_id == cert]
    assert [(c.kind, c.status, c.by) for c in changes] == [
        ("certificate", ACT, "sandbox"),
        ("certificate", OFF, "root"),
        ("certificate", None, "root"),
    ]
    assert changes[-1].deleted
    assert not changes[-1].was_usable


def test_faults_hit_certificate_calls_and_every_promise_holds(tmp_path: Path) -> None:
    """Throttled DeleteSigningCertificate: the certificate is still deleted, no violation."""
    scenario = campaign.Scenario(
        seed=0,
        org=False,
        keys=((OFF,),),
        self_signed=False,
        window=HOUR,
        staged=False,
        faults=(campaign.Fault("throttling", "DeleteSigningCertificate", 2),),
        check_fails_at=None,
        check_raises=False,
        hook_raises=False,
        crash=None,
        certificates=("Active",),
    )
    result = campaign.run(scenario, tmp_path)
    assert result.violations == []
    assert result.certificates["deleted"] == 1
    assert result.certificates["faults on their calls"] >= 1


def test_judge_flags_a_certificate_deleted_while_active() -> None:
    """The deletion invariants judge certificates too (their ids are not AKIA...)."""
    cert = "ASCA" + "B" * 20
    made = KeyChange(T0, "111122223333", cert, ACT, False, "sandbox", False)
    gone = KeyChange(T0 + HOUR, "111122223333", cert, None, False, "root", True)
    assert (made.kind, _change(0, ACT, was=False).kind) == ("certificate", "key")
    assert campaign.deletion_violations((made, gone), timedelta(0), []) != []


# -- member accounts' certificates, passwords and MFA devices ---------------------------------

MEMBER = "222233334444"
POLICY = "p-quarantine"
PASSWORD = "password:20261127T000000Z"
SERIAL = "arn:aws:iam::222233334444:mfa/root-account-mfa-device"
EVERYTHING = frozenset(campaign.ALL_KINDS)


def _call(minutes: int, operation: str, **params: str) -> SandboxCall:
    org = operation.endswith("Policy")
    return SandboxCall(
        service="organizations" if org else "iam",
        operation=operation,
        account_id="999988887777" if org else MEMBER,
        principal="admin" if org else "assumed-root",
        signing_key_id=None,
        params={"PolicyId": POLICY, "TargetId": MEMBER} if org else params,
        status=200,
        at=T0 + timedelta(minutes=minutes),
    )


def _member(**fields: object) -> campaign.Account:
    made = {"keys": {}, "password": PASSWORD, "mfa": (SERIAL,)} | fields
    return campaign.Account(MEMBER, **made)  # type: ignore[arg-type]


def _judge_calls(
    calls: list[SandboxCall], asked: frozenset[str] = EVERYTHING, **options: object
) -> list[str]:
    member = options.pop("member", _member())
    return campaign.call_violations(
        calls,
        asked=asked,
        window=HOUR,
        verdicts=options.pop("verdicts", []),  # type: ignore[arg-type]
        accounts=[member],  # type: ignore[list-item]
        quarantine_id=POLICY,
        **options,  # type: ignore[arg-type]
    )


GOOD = [
    _call(0, "AttachPolicy"),
    _call(61, "DeleteLoginProfile"),
    _call(61, "DeactivateMFADevice", SerialNumber=SERIAL),
    _call(61, "DeleteVirtualMFADevice", SerialNumber=SERIAL),
    _call(62, "DetachPolicy"),
]


def test_judge_passes_a_password_and_its_mfa_removed_in_order() -> None:
    """Quarantined a whole window, the password first, then its MFA device: no violation."""
    assert _judge_calls(GOOD) == []


def test_judge_flags_an_mfa_device_deactivated_while_the_password_exists() -> None:
    """The call record's order: DeactivateMFADevice before DeleteLoginProfile is a violation."""
    calls = [GOOD[0], GOOD[2], GOOD[1], GOOD[3]]
    assert any("with the root password there" in v for v in _judge_calls(calls))
    assert _judge_calls(calls, member=_member(password=None)) == []  # no password: fine


def test_judge_flags_a_password_deleted_without_its_whole_quarantined_window() -> None:
    """Not quarantined, quarantined for 30 minutes, or a failing check inside the window."""
    assert any("while not quarantined" in v for v in _judge_calls(GOOD[1:2]))
    early = [GOOD[0], _call(30, "DeleteLoginProfile")]
    assert any("after the quarantine" in v for v in _judge_calls(early))
    failed = [(MEMBER, T0 + timedelta(minutes=20), False)]
    assert any("failing check" in v for v in _judge_calls(GOOD, verdicts=failed))
    detached = [GOOD[0], _call(10, "DetachPolicy"), GOOD[1]]
    assert any("while not quarantined" in v for v in _judge_calls(detached))


def test_judge_flags_a_kind_not_asked_for() -> None:
    """Keys and certificates asked for: deleting the password or an MFA device is a violation."""
    found = _judge_calls(GOOD, asked=frozenset(campaign.DEFAULT_KINDS))
    assert [v for v in found if "not asked for" in v] == [
        f"DeleteLoginProfile in {MEMBER}: password were not asked for",
        f"DeactivateMFADevice in {MEMBER}: mfa were not asked for",
        f"DeleteVirtualMFADevice in {MEMBER}: mfa were not asked for",
    ]


def test_judge_flags_a_deletion_in_a_rolled_back_account() -> None:
    """A check failed (before call 1) in the quarantined account, now on hold: no deletion of
    what the quarantine made unusable may follow; one found Inactive may (a new window)."""
    assert any("rolled back" in v for v in _judge_calls(GOOD, held={MEMBER: 1}))
    key = "AKIA" + "A" * 16
    delete = _call(70, "DeleteAccessKey", AccessKeyId=key)
    inactive = _member(keys={key: OFF}, password=None, mfa=())
    assert _judge_calls([GOOD[0], delete], held={MEMBER: 1}, member=inactive) == []
    active = _member(keys={key: ACT}, password=None, mfa=())
    assert _judge_calls([GOOD[0], delete], held={MEMBER: 1}, member=active) != []


def test_judge_lets_a_later_run_finish_an_account_whose_quarantine_had_failed() -> None:
    """The check failed before the account was ever quarantined: nothing was made unusable
    by rootkeys, and a later run may quarantine it and delete after a clean window."""
    assert _judge_calls(GOOD, held={MEMBER: 0}) == []


def test_judge_flags_a_quarantine_within_sign_in_blocks() -> None:
    """The root user signed in 2 hours before the quarantine; sign_in_blocks is 7 days."""
    member = _member(password_used=T0 - timedelta(hours=2))
    found = _judge_calls(GOOD, member=member, blocks=campaign.SIGN_IN_BLOCKS)
    assert any("after a sign-in" in v for v in found)
    assert _judge_calls(GOOD, member=member) == []  # no sign_in_blocks: no block


def _org_scenario(**fields: object) -> campaign.Scenario:
    base: dict[str, object] = {
        "seed": 0,
        "org": True,
        "keys": ((ACT,), (OFF,)),
        "self_signed": False,
        "window": HOUR,
        "staged": False,
        "faults": (),
        "check_fails_at": None,
        "check_raises": False,
        "hook_raises": False,
        "crash": None,
        "members": (
            campaign.Member(("Active",), True, timedelta(days=200), ("virtual", "hardware")),
            campaign.Member(("Inactive",), True, None, ("virtual",)),
        ),
        "kinds": campaign.ALL_KINDS,
    }
    return campaign.Scenario(**(base | fields))  # type: ignore[arg-type]


def test_faults_and_a_crash_on_password_and_mfa_calls_break_no_promise(tmp_path: Path) -> None:
    """Throttled, failing and dropped credential calls, stale reads, a crash before
    DeleteVirtualMFADevice: everything asked for is still removed, no violation."""
    scenario = _org_scenario(
        staged=True,
        faults=(
            campaign.Fault("throttling", "DeleteLoginProfile", 2),
            campaign.Fault("server error", "DeactivateMFADevice", 2),
            campaign.Fault("connection reset", "ListMFADevices", 3),
            campaign.Fault("stale reads", "GetLoginProfile", 2),
        ),
        crash=("before AWS call", "DeleteVirtualMFADevice", 1),
    )
    result = campaign.run(scenario, tmp_path)
    assert result.violations == []
    assert result.members["passwords deleted"] == 2
    assert result.members["MFA devices deactivated"] == 3
    assert result.members["faults on their calls"] >= 3
    assert result.members["crashes before their calls"] == 1


def test_kinds_not_asked_for_are_left_alone(tmp_path: Path) -> None:
    """Asking for keys alone: certificates, passwords and MFA devices all stay, no violation."""
    result = campaign.run(_org_scenario(kinds=("keys",)), tmp_path)
    assert result.violations == []
    assert result.members["passwords deleted"] == 0
    assert result.members["certificates deleted"] == 0
    assert result.members["MFA devices deactivated"] == 0


def test_a_recent_sign_in_blocks_its_account_and_a_failing_check_holds_the_other(
    tmp_path: Path,
) -> None:
    """sign_in_blocks blocks the member signed in 2 hours ago; the other's check fails."""
    scenario = _org_scenario(
        members=(
            campaign.Member((), True, timedelta(hours=2), ("virtual",)),
            campaign.Member(("Active",), True, None, ("hardware",)),
        ),
        keys=((ACT,), (ACT,)),
        sign_in_blocks=True,
        check_fails_at=1,
    )
    result = campaign.run(scenario, tmp_path)
    assert result.violations == []
    assert result.members["accounts blocked by a recent sign-in"] == 1
    assert result.members["accounts on hold"] == 1
    assert result.members["passwords deleted"] == 0


def test_judge_finds_a_deletion_after_a_failed_check_never_detached() -> None:
    """A deletion after a failed check, the quarantine never detached: a violation, even
    when the account's quarantine was journaled unverified (no longer a known bug)."""
    calls = [GOOD[0], *GOOD[1:4]]
    found = _judge_calls(calls, held={MEMBER: 1}, unverified=frozenset({MEMBER}))
    assert any(campaign.NEVER_DETACHED in v for v in found)


def test_a_failing_check_after_an_unverified_quarantine_detaches_it() -> None:
    """The quarantine SCP is attached but its read-back is throttled (unverified); a check
    then fails: the rollback must detach the quarantine, and the Active key is held."""
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox, tempfile.TemporaryDirectory() as tmp:
        member = sandbox.create_organization(members=1, root_keys=0).member_account_ids[0]
        sandbox.add_root_key(member, status=ACT)
        sandbox.add_root_key(member, status=OFF)

        def throttle_the_read_back() -> None:
            sandbox.inject_throttling(operation="ListPoliciesForTarget", times=3)

        sandbox.before("AttachPolicy", throttle_the_read_back, times=1)
        organization = rootkeys.Organization(
            sandbox.management_session(),
            clock=clock,
            journal=rootkeys.Journal(Path(tmp) / "journal.sqlite3"),
            checks=[lambda key: False],
            retry=rootkeys.RetryPolicy(attempts=3),
        )
        report = organization.remove_all(HOUR, timedelta(minutes=20), wait=False)

        outcomes = {a.account_id: a.outcome for a in report.accounts}
        assert outcomes[member] is rootkeys.AccountOutcome.ROLLED_BACK
        assert not orgtools.quarantined(sandbox, member)
