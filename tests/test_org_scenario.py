"""The organizations "done when": 50 member accounts, audited, then their root keys removed.

The mix: accounts with no root keys, with an Inactive key, with an Active unused key, with
one of each, and one whose Active key an app still uses (its check fails once the key is
quarantined). Everything runs on the sandbox, which enforces AssumeRoot's task policies.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import rootkeys
from rootkeys import AccountOutcome, KeyState
from rootkeys.journal import RecordKind
from rootkeys.lifecycle import Action, KeyStatus
from rootkeys.reports import AuditStatus
from rootkeys.testing import FakeClock, Sandbox
from tests.orgtools import AppCheck, quarantined

WINDOW = timedelta(days=1)
EVERY = timedelta(hours=12)


def test_fifty_account_organization_end_to_end(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    """Audit lists all; removal is done everywhere but the app's account, rolled back."""
    org = sandbox.create_organization(members=50, root_keys=1)
    members = org.member_account_ids
    none, inactive, active, both, app = (
        members[:10],
        members[10:20],
        members[20:40],
        members[40:49],
        members[49],
    )
    for account in none:
        sandbox.delete_root_key(account, sandbox.root_keys(account)[0].key_id)
    for account in inactive:
        sandbox.set_root_key_status(
            account, sandbox.root_keys(account)[0].key_id, KeyStatus.INACTIVE
        )
    for account in both:
        sandbox.add_root_key(account, status=KeyStatus.INACTIVE)
    app_key = sandbox.root_keys(app)[0].key_id
    sandbox.use_root_key(app, app_key, times=24)
    before = {m: [k.key_id for k in sandbox.root_keys(m)] for m in members}

    organization = rootkeys.Organization(
        sandbox.management_session(),
        workers=8,
        clock=clock,
        journal=tmp_path / "journal.sqlite3",
        checks=[AppCheck(sandbox, app, app_key)],
    )

    # the audit lists every account and every key
    audits = {a.account_id: a for a in organization.audit()}
    assert set(audits) == {org.management_account_id, *members}
    assert audits[org.management_account_id].status is AuditStatus.OUT_OF_REACH
    for member in members:
        assert audits[member].status is AuditStatus.AUDITED
        assert [k.key_id for k in audits[member].keys] == before[member]
        assert audits[member].keys_present is bool(before[member])
    assert audits[app].keys[0].last_used is not None

    report = organization.remove_all(WINDOW, EVERY)

    outcomes = {a.account_id: a.outcome for a in report.accounts}
    assert outcomes[org.management_account_id] is AccountOutcome.OUT_OF_REACH
    assert "CloudShell" in next(
        a.reason for a in report.accounts if a.account_id == org.management_account_id
    )
    assert {outcomes[m] for m in none} == {AccountOutcome.NOTHING_TO_DO}
    assert {outcomes[m] for m in (*inactive, *active, *both)} == {AccountOutcome.DONE}
    assert outcomes[app] is AccountOutcome.ROLLED_BACK
    for member in members:
        assert not quarantined(sandbox, member)
        if member != app:
            assert sandbox.root_keys(member) == []
    # the app's account: quarantine detached, key untouched
    assert [(k.key_id, k.status) for k in sandbox.root_keys(app)] == [(app_key, KeyStatus.ACTIVE)]
    assert AppCheck(sandbox, app, app_key)(_observed(sandbox, app)).ok

    # least privilege: no call of an AssumeRoot session was denied by its task policy,
    # and no call of the management principal was denied either
    assert [c for c in sandbox.calls if c.principal == "assumed-root" and c.status == 403] == []
    assert [c for c in sandbox.calls if c.principal == "admin" and c.status >= 400] == []
    # member IAM was only ever changed by deletes in AssumeRoot sessions, never deactivated
    changes = [c for m in members for c in sandbox.mutations(m) if c.service == "iam"]
    assert {(c.principal, c.operation) for c in changes} == {("assumed-root", "DeleteAccessKey")}
    assert len(changes) == sum(len(before[m]) for m in members if m != app)

    # every delete was intended a whole window after its key became unusable
    journal = organization_journal(tmp_path)
    for member in (*inactive, *active, *both):
        records = journal.records(member)
        for key_id in before[member]:
            own = [r for r in records if r.key_id == key_id]
            unusable = next(
                r.at
                for r in own
                if r.kind is RecordKind.WINDOW_STARTED
                or (r.kind is RecordKind.OUTCOME and r.to_state is KeyState.QUARANTINED)
            )
            delete = next(
                r for r in own if r.kind is RecordKind.INTENT and r.action is Action.DELETE
            )
            assert delete.at - unusable >= WINDOW


def organization_journal(tmp_path: Path) -> rootkeys.Journal:
    return rootkeys.Journal(tmp_path / "journal.sqlite3")


def _observed(sandbox: Sandbox, account_id: str) -> rootkeys.ObservedKey:
    key = sandbox.root_keys(account_id)[0]
    return rootkeys.ObservedKey(
        **key.model_dump(), account_id=account_id, window_started_at=key.created_at
    )
