"""Root signing certificates go through the same lifecycle as access keys (one account).

Inactive (``UpdateSigningCertificate``), observed for the whole window with every check
passing, then deleted (``DeleteSigningCertificate``); a failing check reactivates the
certificate and holds it. Plans, statuses and runs tell one story; ``credentials={"keys"}``
leaves certificates alone.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import CheckResult, KeyOutcome, KeyState, Next, RunOutcome
from rootkeys.errors import IllegalTransitionError
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import Action, CredentialKind
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .onestory import assert_status_agrees, assert_the_run_did_the_plan

DAY = timedelta(days=1)
CERT_CALLS = ("UpdateSigningCertificate", "DeleteSigningCertificate")


@pytest.fixture
def cert_account(sandbox: Sandbox) -> SandboxAccount:
    """An account whose root user has one Active access key."""
    return sandbox.create_account("444455556666", root_keys=1)


@pytest.fixture
def fresh(sandbox: Sandbox, cert_account: SandboxAccount, clock: FakeClock, tmp_path: Path):
    """A new manager each call, as a new process would make (same journal file)."""

    def make(**kwargs: object) -> rootkeys.RootKeyManager:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("journal", tmp_path / "journal.sqlite3")
        return rootkeys.RootKeyManager(sandbox.root_session(cert_account.account_id), **kwargs)

    return make


def _certs(sandbox: Sandbox, account: SandboxAccount) -> dict[str, str]:
    return sandbox.root_signing_certificates(account.account_id)


def _operations(sandbox: Sandbox, *names: str) -> list[str]:
    return [c.operation for c in sandbox.calls if c.operation in names]


def test_certificate_goes_inactive_then_observed_then_deleted(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """Inactive first, Inactive at every check of the window, deleted after it."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    seen: list[str] = []

    def watch(key: rootkeys.ObservedKey) -> CheckResult:
        if key.key_id == cert:
            seen.append(_certs(sandbox, cert_account).get(cert, "gone"))
        return CheckResult(True, "fine")

    report = fresh(checks=[watch]).remove_all(observe_for=DAY)

    assert report.outcome is RunOutcome.DONE
    assert _certs(sandbox, cert_account) == {}
    assert _operations(sandbox, *CERT_CALLS) == [
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
    ]
    assert len(seen) > 2
    assert set(seen) == {"Inactive"}
    (done,) = [k for k in report.keys if k.key_id == cert]
    assert [s.action for s in done.steps] == [Action.DEACTIVATE, Action.DELETE]
    assert report.keys_present is False


def test_failing_check_reactivates_the_certificate_and_holds_it(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """A failed check makes the certificate Active again; no later run touches it until resumed."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)

    def broken(key: rootkeys.ObservedKey) -> CheckResult:
        return CheckResult(key.kind is not CredentialKind.CERTIFICATES, "the SOAP client broke")

    report = fresh(checks=[broken]).remove_all(observe_for=DAY, wait=False)

    assert report.outcome is RunOutcome.ROLLED_BACK
    assert _certs(sandbox, cert_account) == {cert: "Active"}
    assert {k.key_id: k.outcome for k in report.keys}[cert] is KeyOutcome.ROLLED_BACK
    (planned,) = [k for k in fresh().plan(DAY, evidence=False).keys if k.key_id == cert]
    assert planned.next is Next.ON_HOLD
    assert planned.resume

    fresh().remove_all(observe_for=DAY, wait=False)
    assert _certs(sandbox, cert_account) == {cert: "Active"}
    assert _operations(sandbox, *CERT_CALLS).count("UpdateSigningCertificate") == 2

    assert fresh().resume(cert) == (cert,)
    fresh().remove_all(observe_for=DAY, wait=False)
    assert _certs(sandbox, cert_account) == {cert: "Inactive"}


def test_staged_runs_across_processes_delete_after_the_window(
    sandbox: Sandbox, cert_account: SandboxAccount, clock: FakeClock, fresh
) -> None:
    """wait=False runs, a new manager each (same journal file), converge on deletion."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    assert fresh().remove_all(observe_for=DAY, wait=False).outcome is RunOutcome.OBSERVING
    assert _certs(sandbox, cert_account) == {cert: "Inactive"}
    clock.advance(timedelta(hours=12))
    assert fresh().remove_all(observe_for=DAY, wait=False).outcome is RunOutcome.OBSERVING
    assert _certs(sandbox, cert_account) == {cert: "Inactive"}
    clock.advance(timedelta(hours=13))
    assert fresh().remove_all(observe_for=DAY, wait=False).outcome is RunOutcome.DONE
    assert _certs(sandbox, cert_account) == {}
    kinds = [r.kind for r in fresh().history(cert).records]
    assert kinds[:3] == [RecordKind.SEEN, RecordKind.INTENT, RecordKind.OUTCOME]
    assert kinds[-2:] == [RecordKind.INTENT, RecordKind.OUTCOME]


def test_plan_status_and_run_tell_one_story(
    sandbox: Sandbox, cert_account: SandboxAccount, clock: FakeClock, fresh
) -> None:
    """At each stage the run does to every key and certificate what plan and status said."""
    sandbox.add_root_signing_certificate(cert_account.account_id)
    sandbox.add_root_signing_certificate(cert_account.account_id, status="Inactive")
    for step in (timedelta(0), timedelta(hours=12), timedelta(hours=13)):
        clock.advance(step)
        plan = {k.key_id: k for k in fresh().plan(DAY, evidence=False, preflight=False).keys}
        status = {k.key_id: k for k in fresh().status(DAY).keys}
        assert_status_agrees(plan, status)
        report = fresh().remove_all(observe_for=DAY, wait=False)
        states = {k.key_id: k.state for k in fresh().status().keys}
        assert_the_run_did_the_plan(plan, report, states, ok=True)
    assert _certs(sandbox, cert_account) == {}
    assert sandbox.root_keys(cert_account.account_id) == []


def test_active_certificate_is_never_deleted_by_delete(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """delete() of an Active certificate is refused before any AWS write."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    with pytest.raises(IllegalTransitionError, match="never deleted"):
        fresh().delete(cert)
    assert _certs(sandbox, cert_account) == {cert: "Active"}
    assert _operations(sandbox, *CERT_CALLS) == []


def test_explicit_steps_take_a_certificate(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """deactivate, reactivate, deactivate, delete: each one AWS write to the certificate."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    manager = fresh()
    assert manager.deactivate(cert).verified
    assert manager.reactivate(cert).to_state is KeyState.ACTIVE
    manager.deactivate(cert)
    assert manager.delete(cert).to_state is KeyState.DELETED
    assert manager.delete(cert).step.status is rootkeys.reports.StepStatus.ALREADY_DONE
    assert _certs(sandbox, cert_account) == {}


def test_rollback_reactivates_a_certificate_rootkeys_deactivated(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """rollback() makes the certificate Active again and holds it."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    fresh().remove_all(observe_for=DAY, wait=False)
    results = fresh().rollback()
    assert {r.key_id for r in results} == {cert, cert_account.root_key_ids[0]}
    assert _certs(sandbox, cert_account) == {cert: "Active"}
    (held,) = [k for k in fresh().status().keys if k.key_id == cert]
    assert held.next is Next.ON_HOLD


def test_keys_only_leaves_certificates_alone(
    sandbox: Sandbox, cert_account: SandboxAccount, clock: FakeClock, fresh
) -> None:
    """credentials={"keys"}: plan, status and runs never list or touch a certificate."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    fresh().remove_all(observe_for=DAY, wait=False)  # both kinds: the journal knows the cert
    fresh().rollback(cert)
    fresh().resume(cert)
    only_keys = {"keys"}
    assert {k.key_id for k in fresh().plan(DAY, credentials=only_keys).keys} == set(
        cert_account.root_key_ids
    )
    clock.advance(DAY + timedelta(hours=1))
    report = fresh().remove_all(observe_for=DAY, wait=False, credentials=only_keys)
    assert report.outcome is RunOutcome.DONE
    assert report.keys_present is False
    assert cert not in {k.key_id for k in report.keys}
    assert _certs(sandbox, cert_account) == {cert: "Active"}
    assert fresh().status(credentials=only_keys).keys[0].key_id != cert
    assert RecordKind.GONE not in [r.kind for r in fresh().history(cert).records]
    assert fresh().verify(credentials=only_keys)
    (mine,) = [k for k in fresh().status().keys if k.key_id == cert]
    assert mine.next is Next.MAKE_UNUSABLE


def test_verify_is_false_while_a_certificate_remains(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """verify() covers certificates by default, Inactive ones too."""
    sandbox.add_root_signing_certificate(cert_account.account_id, status="Inactive")
    manager = fresh()
    manager.remove_all(observe_for=timedelta(0), credentials={CredentialKind.KEYS})
    assert manager.verify(credentials={"keys"})
    assert not manager.verify()
    assert not manager.verify(credentials={"certificates"})


def test_policy_gives_a_certificate_the_active_window(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """A certificate's use cannot be seen: by risk it gets the policy's active window."""
    cert = sandbox.add_root_signing_certificate(cert_account.account_id)
    policy = rootkeys.RemovalPolicy(active=timedelta(days=9), never=timedelta(hours=1))
    (planned,) = [k for k in fresh().plan(policy).keys if k.key_id == cert]
    assert planned.window == timedelta(days=9)
    assert planned.evidence is None
    assert "cannot be seen" in planned.window_reason
    lookups = [c for c in sandbox.calls if c.operation == "GetAccessKeyLastUsed"]
    assert all(cert not in str(c) for c in lookups)


def test_tables_say_which_rows_are_certificates(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """Plan, status and report tables show each row's kind, within 100 columns."""
    sandbox.add_root_signing_certificate(cert_account.account_id)
    manager = fresh()
    plan = manager.plan(DAY, evidence=False, preflight=False)
    report = manager.remove_all(observe_for=DAY, wait=False)
    for shown in (plan.table(), manager.status().table(), report.table()):
        rows = [line for line in shown.splitlines() if "cert " in line or "key " in line]
        assert any(line.lstrip().startswith("cert") for line in rows), shown
        assert any(line.lstrip().startswith("key") for line in rows), shown
        assert max(len(line) for line in shown.splitlines()) <= 100


def test_plan_cross_checks_the_credential_report_against_access_keys_only(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """An Active certificate is not counted as an active key against the credential report."""
    sandbox.add_root_signing_certificate(cert_account.account_id)
    plan = fresh().plan(DAY, preflight=False)
    assert plan.credential_report is not None
    assert plan.credential_report.active_keys == 1
    assert "agrees" in plan.table(), plan.table()


def test_one_account_refuses_password_and_mfa_but_verifies_them(
    sandbox: Sandbox, cert_account: SandboxAccount, fresh
) -> None:
    """A standalone account's password and MFA are not removed; verify() can still ask."""
    manager = fresh()
    sandbox.set_root_password(cert_account.account_id)
    before = len(sandbox.calls)

    for call in (
        lambda: manager.remove_all(DAY, credentials={"keys", "password"}),
        lambda: manager.plan(DAY, credentials={"mfa", "password"}),
        lambda: manager.status(credentials={"password"}),
    ):
        with pytest.raises(rootkeys.errors.InputError, match="member accounts only"):
            call()
    assert len(sandbox.calls) == before

    assert not manager.verify(credentials={"password"})
    assert manager.verify(credentials={"mfa"})
