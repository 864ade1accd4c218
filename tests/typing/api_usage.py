"""Uses the public API as a user would; mypy --strict checks this file, pytest does not run it."""

from __future__ import annotations

from datetime import timedelta

import boto3

import rootkeys
from rootkeys.testing import FakeClock, Sandbox


def alert(event: rootkeys.Event) -> None:
    if event.kind is rootkeys.EventKind.CHECK_FAILED:
        print(f"rollback in {event.account_id}: {event.message}")


class HealthCheck:
    name = "orders API"

    def __call__(self, key: rootkeys.AccessKey) -> rootkeys.CheckResult:
        return rootkeys.CheckResult(ok=key.status is not rootkeys.lifecycle.KeyStatus.ACTIVE)


def production(profile: str) -> rootkeys.RemovalReport:
    manager = rootkeys.RootKeyManager(
        boto3.Session(profile_name=profile),
        account_id="123456789012",
        hooks=[alert, print],
        checks=[HealthCheck(), lambda key: True],
        retry=rootkeys.RetryPolicy(attempts=5, max_total=timedelta(minutes=2)),
    )
    plan: rootkeys.Plan = manager.plan(observe_for=timedelta(days=1))
    blocked: tuple[rootkeys.PlannedKey, ...] = plan.blocked
    print(plan.table(), len(blocked))
    report = manager.remove_all(observe_for=timedelta(days=1), check_interval=timedelta(hours=1))
    deleted: tuple[str, ...] = report.deleted
    print(deleted, report.outcome is rootkeys.RunOutcome.DONE)
    return report


def explicit_steps(manager: rootkeys.RootKeyManager, key_id: str) -> bool:
    try:
        step: rootkeys.StepResult = manager.deactivate(key_id)
    except rootkeys.errors.AWSError as exc:
        print(exc.code, exc.request_id)
        return False
    except rootkeys.RootKeysError:
        return False
    return step.verified and manager.verify()


def sandboxed() -> None:
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        account = sandbox.create_account(root_keys=2)
        sandbox.inject_throttling(operation="UpdateAccessKey", times=1)
        manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), clock=clock)
        assert manager.remove_all(observe_for=timedelta(0)).outcome is rootkeys.RunOutcome.DONE


def daily(profile: str, journal_path: str) -> rootkeys.RunOutcome:
    with rootkeys.Journal(journal_path, lock_timeout=timedelta(minutes=1)) as journal:
        manager = rootkeys.RootKeyManager(boto3.Session(profile_name=profile), journal=journal)
        report = manager.remove_all(observe_for=timedelta(days=7), wait=False)
        status: rootkeys.RemovalStatus = manager.status()
        for key in status.keys:
            progress: rootkeys.PlannedKey = key
            if progress.next is rootkeys.Next.ON_HOLD:
                history: rootkeys.journal.KeyHistory = manager.history(progress.key_id)
                kinds: list[rootkeys.journal.RecordKind] = [r.kind for r in history.records]
                print(kinds, progress.resume)
                resumed: tuple[str, ...] = manager.resume(progress.key_id)
                print(resumed)
        return report.outcome


def without_journal() -> None:
    manager = rootkeys.RootKeyManager(journal=False)
    assert manager.journal is None
    print(rootkeys.journal.default_journal_path())


def organization(management: boto3.Session) -> list[str]:
    def alert(event: rootkeys.Event) -> None:
        if event.kind is rootkeys.EventKind.ACCOUNT_FINISHED:
            print(event.account_id, event.message)

    org = rootkeys.Organization(
        management, workers=32, hooks=[alert], checks=[lambda key: key.quarantined]
    )
    audits: list[rootkeys.AccountAudit] = list(org.audit(ou="ou-abcd-12345678"))
    report: rootkeys.OrganizationReport = org.remove_all(
        timedelta(days=7), wait=False, account_ids=[a.account_id for a in audits]
    )
    rolled_back = report.with_outcome(rootkeys.AccountOutcome.ROLLED_BACK)
    for result in org.removals(rootkeys.RemovalPolicy(), keep_quarantine=True):
        kept: bool = result.quarantine is rootkeys.reports.QuarantineStatus.KEPT
        print(result.account_id, result.outcome.value, kept, result.report)
    steps: tuple[rootkeys.StepResult, ...] = org.quarantine(rolled_back[0].account_id)
    return [s.key_id for s in steps]


def misspelt() -> None:
    # The lazy exports stay visible to type checkers, and an unknown name is still an
    # error (strict mode would flag this ignore as unused if it were not).
    version: str = rootkeys.__version__
    print(version, rootkeys.RootKeyManagr)  # type: ignore[attr-defined]


def from_config(profile: str, path: str | None = None) -> rootkeys.RemovalReport | None:
    try:
        config: rootkeys.config.Config = rootkeys.load_config(path)
    except rootkeys.errors.ConfigError as exc:
        print(exc.path, exc.line, exc.detail)
        return None
    config = config.extended(http=["https://app.example.com/health"], observe=timedelta(days=7))
    session = boto3.Session(profile_name=profile)
    checks: list[rootkeys.Check] = config.checks(session, region="eu-west-1")
    checks.append(rootkeys.checks.CommandCheck(["./healthcheck.sh"], timeout=timedelta(seconds=9)))
    window = config.observe_for()
    if window is None:
        return None
    policy = rootkeys.RemovalPolicy(
        fixed=timedelta(days=1), keys={"AKIAIOSFODNN7EXAMPLE": timedelta(days=30)}
    )
    print(policy.windows, rootkeys.clock.parse_duration("1d12h"))
    manager = rootkeys.RootKeyManager(session, checks=checks)
    return manager.remove_all(window, config.check_interval, wait=False)


def notified(management: boto3.Session, path: str) -> tuple[str, ...]:
    config = rootkeys.load_config(path)
    hooks: list[rootkeys.Hook] = config.notifications(management)
    hooks.append(
        rootkeys.notify.SnsNotifier(
            "arn:aws:sns:eu-west-1:111122223333:rootkeys",
            session=management,
            on=[rootkeys.AccountOutcome.ROLLED_BACK, "on hold"],
        )
    )
    hooks.append(rootkeys.notify.WebhookNotifier("https://example.com/hook", timeout=2.0))
    org = rootkeys.Organization(management, hooks=hooks)
    report = org.remove_all(timedelta(days=7), wait=False)
    errors: tuple[str, ...] = tuple(e for a in report.accounts for e in a.hook_errors)
    return errors


def told(event: rootkeys.Event) -> str | None:
    result: rootkeys.AccountRemoval | None = event.result
    if result is None:
        return None
    return str(rootkeys.notify.notification(result, at=event.at)["outcome"])
