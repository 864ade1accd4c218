"""Issue 14's organization "done when", end to end on the sandbox: every root credential.

Fifty member accounts, made with centralized root access off, their root users holding a
mix of access keys (none, Active, Active and Inactive, Inactive), signing certificates
(Active and Inactive), passwords (used lately, long ago, never) and MFA devices (virtual,
hardware). ``enable_root_access()`` turns the features on; ``credentials()`` audits every
credential; one removal of keys, certificates, passwords and MFA devices, with a window
and a check that fails for three chosen accounts, rolls those back and clears the others;
``verify()`` confirms it; the sandbox (which enforces AssumeRoot's task policies) proves
that no call was denied.

The story runs once (a module fixture, about ten seconds); each test asserts one part.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import AccessKey, AccountOutcome, CheckResult, Next, ObservedKey
from rootkeys.errors import OrganizationSetupError
from rootkeys.lifecycle import KeyStatus
from rootkeys.reports import AuditStatus, OrganizationReport, RootAccess, RootCredentials
from rootkeys.testing import MIXED, FakeClock, Sandbox, SandboxOrganization
from tests.conftest import START
from tests.orgtools import quarantined

MEMBERS = 50
WINDOW = timedelta(minutes=90)
EVERY = timedelta(minutes=30)  # passes at 0, 30, 60 and 90 minutes: four
PASSES = 4
EVERYTHING = frozenset({"keys", "certificates", "password", "mfa"})
KEY_MIX: tuple[tuple[KeyStatus, ...], ...] = (
    (),
    (KeyStatus.ACTIVE,),
    (KeyStatus.ACTIVE, KeyStatus.INACTIVE),
    (KeyStatus.INACTIVE,),
)
"""Member n's root access keys: ``KEY_MIX[n % 4]`` (its other credentials: ``MIXED[n % 6]``)."""
FAILING = (2, 9, 11)
"""The members whose check fails from the second pass on: an Active and an Inactive key, a
password used 3 days ago and a virtual MFA device (2); an Active key, two certificates (one
Inactive) and a password never used (9); an Inactive key, a password used 200 days ago and
a hardware MFA device (11): no Active key, so only the password needs the quarantine."""
DELETIONS = (
    "DeleteAccessKey",
    "DeleteSigningCertificate",
    "DeleteLoginProfile",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
)


@dataclass(frozen=True)
class Held:
    """Every root credential of one account, as the sandbox or the audit sees it."""

    keys: dict[str, KeyStatus]
    certificates: dict[str, str]
    password: bool
    mfa: dict[str, str]

    @classmethod
    def truth(cls, sandbox: Sandbox, account_id: str) -> Held:
        """What the root user really holds (the sandbox's state, no stale read)."""
        return cls(
            keys={k.key_id: k.status for k in sandbox.root_keys(account_id)},
            certificates=sandbox.root_signing_certificates(account_id),
            password=sandbox.root_password(account_id),
            mfa=sandbox.root_mfa_devices(account_id),
        )

    @classmethod
    def audited(cls, found: RootCredentials) -> Held:
        """What the audit reported."""
        return cls(
            keys={k.key_id: k.status for k in found.keys},
            certificates={c.certificate_id: c.status.value for c in found.certificates},
            password=found.password.exists,
            mfa={d.serial: d.kind.value for d in found.mfa_devices},
        )

    @property
    def count(self) -> int:
        """How many credentials: keys, certificates, the password, MFA devices."""
        return len(self.keys) + len(self.certificates) + self.password + len(self.mfa)


class FailsFromSecondPass:
    """A check that fails for the chosen accounts once their window is a pass old."""

    name = "console sign-in"

    def __init__(self, failing: frozenset[str], clock: FakeClock) -> None:
        self.failing, self.clock = failing, clock
        self.lock = threading.Lock()
        self.seen: dict[str, set[datetime]] = {}  # account: the times it was checked

    def __call__(self, key: AccessKey, /) -> CheckResult:
        assert isinstance(key, ObservedKey)  # as a run calls it: when its window began
        now = self.clock.now()
        with self.lock:
            self.seen.setdefault(key.account_id, set()).add(now)
        late = now - key.window_started_at >= EVERY
        broken = key.account_id in self.failing and late
        return CheckResult(ok=not broken, reason="the finance team's console sign-in broke")


@dataclass(frozen=True)
class Story:
    """What happened, step by step, for the tests to judge."""

    sandbox: Sandbox
    org: SandboxOrganization
    organization: rootkeys.Organization
    access_before: RootAccess
    refused_before: OrganizationSetupError
    enabled: RootAccess
    access_after: RootAccess
    before: dict[str, Held]
    audit: dict[str, RootCredentials]
    started: datetime
    report: OrganizationReport
    failing: frozenset[str]
    check: FailsFromSecondPass

    @property
    def members(self) -> tuple[str, ...]:
        return self.org.member_account_ids

    @property
    def cleared(self) -> list[str]:
        return [m for m in self.members if m not in self.failing]

    def outcome(self, account_id: str) -> AccountOutcome:
        return next(a.outcome for a in self.report.accounts if a.account_id == account_id)


def _isolated(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    """As conftest's autouse fixture does per test: no developer's AWS config or journal."""
    monkeypatch.setenv("XDG_STATE_HOME", f"{tmp}/state")
    monkeypatch.setenv("XDG_CONFIG_HOME", f"{tmp}/config")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp}/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp}/aws-credentials")
    for name in (
        "ROOTKEYS_CONFIG",
        "ROOTKEYS_JOURNAL",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """The whole story, once, on a sandbox of its own."""
    tmp = tmp_path_factory.mktemp("story")
    clock = FakeClock(START)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolated(monkeypatch, tmp)  # before the sandbox: moto sets (and takes) its own keys
        with Sandbox(clock=clock) as sandbox:
            yield _tell(sandbox, clock, tmp)


def _tell(sandbox: Sandbox, clock: FakeClock, tmp: Path) -> Story:
    """Create the organization with root access off, enable it, audit, remove everything."""
    org = sandbox.create_organization(
        members=MEMBERS, root_keys=0, root_features=False, credentials=MIXED
    )
    for n, member in enumerate(org.member_account_ids):
        for status in KEY_MIX[n % len(KEY_MIX)]:
            sandbox.add_root_key(member, status=status)
    failing = frozenset(org.member_account_ids[n] for n in FAILING)
    check = FailsFromSecondPass(failing, clock)
    organization = rootkeys.Organization(
        sandbox.management_session(),
        workers=16,
        clock=clock,
        journal=tmp / "journal.sqlite3",
        checks=[check],
    )

    access_before = organization.root_access()
    with pytest.raises(OrganizationSetupError) as refused:
        list(organization.credentials())
    enabled = organization.enable_root_access()
    access_after = organization.root_access()

    before = {m: Held.truth(sandbox, m) for m in org.member_account_ids}
    audit = {found.account_id: found for found in organization.credentials()}

    started = clock.now()
    report = organization.remove_all(WINDOW, EVERY, credentials=EVERYTHING, progress=False)
    return Story(
        sandbox=sandbox,
        org=org,
        organization=organization,
        access_before=access_before,
        refused_before=refused.value,
        enabled=enabled,
        access_after=access_after,
        before=before,
        audit=audit,
        started=started,
        report=report,
        failing=failing,
        check=check,
    )


# -- centralized root access ----------------------------------------------------------------------


def test_root_access_is_off_at_first_and_the_audit_is_refused(story: Story) -> None:
    """Made with the features off: root_access() says so, credentials() cannot read members."""
    assert story.access_before.trusted_access is False
    assert story.access_before.root_credentials_management is False
    assert story.access_before.root_sessions is False
    assert "RootCredentialsManagement" in str(story.refused_before)


def test_enable_root_access_turns_every_feature_on(story: Story) -> None:
    """enable_root_access() makes the three calls; root_access() then reads all on."""
    assert story.enabled.made == (
        "organizations:EnableAWSServiceAccess",
        "iam:EnableOrganizationsRootCredentialsManagement",
        "iam:EnableOrganizationsRootSessions",
    )
    assert story.access_after.trusted_access is True
    assert story.access_after.root_credentials_management is True
    assert story.access_after.root_sessions is True
    assert story.access_after.changes == ()


# -- the audit ------------------------------------------------------------------------------------


def test_the_members_hold_every_kind_of_root_credential(story: Story) -> None:
    """The mix is not vacuous: keys of both statuses, certificates, passwords, both MFA kinds."""
    held = story.before.values()
    key_statuses = {s for h in held for s in h.keys.values()}
    certificate_statuses = {s for h in held for s in h.certificates.values()}
    mfa_kinds = {k for h in held for k in h.mfa.values()}
    assert key_statuses == {KeyStatus.ACTIVE, KeyStatus.INACTIVE}
    assert certificate_statuses == {"Active", "Inactive"}
    assert sum(h.password for h in held) >= MEMBERS // 3
    assert mfa_kinds == {"virtual", "hardware"}
    assert sum(h.count == 0 for h in held) >= 1  # and members with none at all


def test_audit_reads_every_member_and_names_the_management_account_out_of_reach(
    story: Story,
) -> None:
    """credentials() answers for all 51 accounts: 50 audited, the management account not."""
    assert set(story.audit) == {story.org.management_account_id, *story.members}
    assert {story.audit[m].status for m in story.members} == {AuditStatus.AUDITED}
    management = story.audit[story.org.management_account_id]
    assert management.status is AuditStatus.OUT_OF_REACH


def test_audit_reports_every_root_credential_of_every_member_as_the_sandbox_holds_it(
    story: Story,
) -> None:
    """Keys and their statuses, certificates and theirs, the password, each MFA device."""
    for member in story.members:
        assert Held.audited(story.audit[member]) == story.before[member], member
        assert story.audit[member].keys_present is bool(story.before[member].keys), member


def test_audit_dates_each_password_last_sign_in(story: Story) -> None:
    """PasswordLastUsed as the root user signed in: 3 days ago, 200 days ago, or never."""
    for n, member in enumerate(story.members):
        spec = MIXED[n % len(MIXED)]
        password = story.audit[member].password
        expected = None if spec.password_used is None else START - spec.password_used
        assert password.exists is spec.password, member
        assert password.last_used_at == expected, member


def test_audit_findings_fail_for_each_credential_held(story: Story) -> None:
    """The IAM.4 / certificate / member-password checks fail exactly where one is held."""
    for member in story.members:
        held = story.before[member]
        failed = {f.check for f in story.audit[member].failed}
        assert ("root_no_access_key" in failed) is bool(held.keys), member
        assert ("root_no_signing_certificate" in failed) is bool(held.certificates), member
        assert ("member_root_no_password" in failed) is held.password, member


# -- the removal ----------------------------------------------------------------------------------


def test_removal_rolls_back_the_failing_accounts_and_clears_the_others(story: Story) -> None:
    """Rolled back where the check failed; done (or nothing to do) everywhere else."""
    for member in story.failing:
        assert story.outcome(member) is AccountOutcome.ROLLED_BACK, member
    for member in story.cleared:
        expected = (
            AccountOutcome.DONE if story.before[member].count else AccountOutcome.NOTHING_TO_DO
        )
        assert story.outcome(member) is expected, member
    assert story.outcome(story.org.management_account_id) is AccountOutcome.OUT_OF_REACH


def test_cleared_accounts_hold_no_root_credential_and_no_quarantine(story: Story) -> None:
    """Keys, certificates, password and MFA devices all gone; the quarantine detached."""
    for member in story.cleared:
        assert Held.truth(story.sandbox, member).count == 0, member
        assert not quarantined(story.sandbox, member), member


def test_rolled_back_accounts_keep_every_credential_as_it_was(story: Story) -> None:
    """Nothing of a rolled-back account deleted or changed: keys keep their statuses."""
    for member in story.failing:
        assert Held.truth(story.sandbox, member) == story.before[member], member
        assert story.before[member].password, member  # a password was at stake in each


def test_rolled_back_accounts_were_quarantined_then_released(story: Story) -> None:
    """The quarantine SCP was attached (the password unusable too), then detached."""
    for member in story.failing:
        attach_detach = [
            c.operation
            for c in story.sandbox.calls
            if c.params.get("TargetId") == member
            and c.operation in ("AttachPolicy", "DetachPolicy")
            and c.status == 200
        ]
        assert attach_detach == ["AttachPolicy", "DetachPolicy"], member
        assert not quarantined(story.sandbox, member), member


def test_rolled_back_accounts_hold_every_credential_the_quarantine_made_unusable(
    story: Story,
) -> None:
    """status() shows each such credential on hold; those found Inactive are not held."""
    statuses = story.organization.status(account_ids=sorted(story.failing), credentials=EVERYTHING)
    for status in statuses:
        held = story.before[status.account_id]
        found_inactive = {k for k, s in held.keys.items() if s is KeyStatus.INACTIVE}
        found_inactive |= {c for c, s in held.certificates.items() if s == "Inactive"}
        not_held = {k.key_id for k in status.keys if k.next is not Next.ON_HOLD}
        assert len(status.keys) == held.count, status.account_id
        assert not_held == found_inactive, status.account_id


def test_nothing_is_deleted_before_its_window_ends(story: Story) -> None:
    """Every deletion comes after the whole window, and none in a rolled-back account."""
    deletions = [c for c in story.sandbox.calls if c.operation in DELETIONS and c.status == 200]
    assert {c.operation for c in deletions} == set(DELETIONS)
    assert all(c.at is not None and c.at >= story.started + WINDOW for c in deletions)
    assert not [c for c in deletions if c.account_id in story.failing]


def test_checks_run_every_pass_of_the_window_and_fail_midway_where_chosen(story: Story) -> None:
    """Accounts with credentials are checked on all four passes; the failing ones on two."""
    for member in story.cleared:
        checked = len(story.check.seen.get(member, ()))
        assert checked == (PASSES if story.before[member].count else 0), member
    for member in story.failing:
        assert len(story.check.seen[member]) == 2, member
        passes = next(a.passes for a in story.report.accounts if a.account_id == member)
        assert passes == 2, member


# -- verify, and the task policies ----------------------------------------------------------------


def test_verify_confirms_no_root_credential_remains_in_the_cleared_accounts(story: Story) -> None:
    """verify(credentials=all four kinds) is True for the cleared accounts."""
    assert story.organization.verify(story.cleared, credentials=EVERYTHING)


def test_verify_is_false_for_each_rolled_back_account(story: Story) -> None:
    """Each rolled-back account still holds its credentials: verify() says so."""
    for member in sorted(story.failing):
        assert not story.organization.verify([member], credentials=EVERYTHING), member


def test_no_call_was_denied_by_a_task_policy(story: Story) -> None:
    """The deletions ran in AssumeRoot sessions, and the sandbox denied none of the calls."""
    assumed = {c.operation for c in story.sandbox.calls if c.principal == "assumed-root"}
    assert set(DELETIONS) <= assumed
    assert story.sandbox.denials() == ()
