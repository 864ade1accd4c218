"""The DynamoDB journal in use: runs record there as in SQLite, the CLI makes, exports and
copies it, and what is stored there is what the module's docstring promises (no TTL,
records never rewritten, a damaged item refused)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

import rootkeys
from rootkeys import RunOutcome, cli
from rootkeys.errors import JournalError
from rootkeys.testing import FakeClock, Sandbox
from tests.orgtools import organization

LOCATION = "dynamodb://rootkeys-journal?region=us-east-1"
WINDOW = timedelta(days=3)


@pytest.fixture(autouse=True)
def _environment_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal's default session signs with the environment's (made-up) credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAJOURNALEXAMPLE01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "journal-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def _client() -> Any:
    return boto3.Session().client("dynamodb")


def _journal(sandbox: Sandbox) -> rootkeys.Journal:
    return rootkeys.Journal.open(LOCATION, create=True)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_an_organization_removal_converges_on_a_dynamodb_journal() -> None:
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        org = sandbox.create_organization(members=3, root_keys=1)
        journal = _journal(sandbox)
        members = list(org.member_account_ids)
        first = organization(sandbox, clock, journal).remove_all(
            WINDOW, wait=False, account_ids=members
        )
        assert {a.outcome.value for a in first.accounts} == {"observing"}
        clock.advance(WINDOW + timedelta(hours=1))
        again = organization(sandbox, clock, _journal(sandbox)).remove_all(
            WINDOW, wait=False, account_ids=members
        )
        assert {a.outcome.value for a in again.accounts} == {"done"}
        for member in members:
            assert sandbox.root_keys(member) == []
            kinds = [r.kind.value for r in journal.records(member)]
            assert kinds[0] == "seen"
            assert "window" in kinds
            assert kinds[-2:] == ["intent", "outcome"]  # the delete, after the window
        assert journal.accounts() == sorted(members)


def test_one_account_staged_runs_on_a_dynamodb_location() -> None:
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        account = sandbox.create_account(root_keys=2)
        _journal(sandbox).close()
        session = sandbox.root_session(account.account_id)
        manager = rootkeys.RootKeyManager(session, clock=clock, journal=LOCATION)
        assert manager.remove_all(WINDOW, wait=False).outcome is RunOutcome.OBSERVING
        clock.advance(WINDOW + timedelta(minutes=5))
        later = rootkeys.RootKeyManager(session, clock=clock, journal=LOCATION)
        assert later.remove_all(WINDOW, wait=False).outcome is RunOutcome.DONE
        assert sandbox.root_keys(account.account_id) == []
        history = later.history(account.root_key_ids[0])
        assert [r.kind.value for r in history.records][-2:] == ["intent", "outcome"]


def test_cli_creates_copies_and_exports_a_table(tmp_path: Path) -> None:
    with Sandbox():
        local = rootkeys.Journal(tmp_path / "journal.sqlite3")
        for account in ("111122223333", "444455556666"):
            local.append(
                account_id=account,
                key_id="AKIAIOSFODNN7EXAMPLE",
                run_id="run-1",
                kind="seen",
                to_state="Active",
            )
        assert _run("journal", "create", LOCATION)[0] == 0
        code, _, err = _run("journal", "copy", str(local.path), LOCATION)
        assert code == 0, err
        assert "Copied 2 record(s) of 2 account(s)" in err
        code, out, _ = _run("journal", "export", LOCATION)
        assert code == 0
        assert out.splitlines() == list(local.export())
        target = tmp_path / "audit.jsonl"
        assert _run("journal", "export", "--to", str(target), "--journal", LOCATION)[0] == 0
        assert [json.loads(x)["account_id"] for x in target.read_text().splitlines()] == [
            "111122223333",
            "444455556666",
        ]
        table = _client()
        ttl = table.describe_time_to_live(TableName="rootkeys-journal")
        assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
        described = table.describe_table(TableName="rootkeys-journal")["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_record_is_never_written_over() -> None:
    with Sandbox() as sandbox:
        journal = _journal(sandbox)
        first = journal.append(
            account_id="111122223333", key_id="AKIAIOSFODNN7EXAMPLE", run_id="a", kind="gone"
        )
        store = journal._store
        store._last["111122223333"] = 0  # type: ignore[attr-defined]  # a stale view
        second = journal.append(
            account_id="111122223333", key_id="AKIAIOSFODNN7EXAMPLE", run_id="b", kind="gone"
        )
        assert (first.seq, second.seq) == (1, 2)
        assert [r.run_id for r in journal.records("111122223333")] == ["a", "b"]


def test_a_table_that_is_not_a_journal_is_refused_by_journal_create() -> None:
    with Sandbox():
        client = _client()
        client.create_table(
            TableName="orders",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="orders", Item={"pk": {"S": "o#1"}, "sk": {"S": "x"}})
        with pytest.raises(JournalError, match="not a rootkeys journal"):
            rootkeys.Journal.dynamodb("orders", create=True)  # a person's journal create
        assert len(client.scan(TableName="orders")["Items"]) == 1  # left as it was


def test_a_damaged_record_or_newer_schema_is_refused() -> None:
    with Sandbox() as sandbox:
        journal = _journal(sandbox)
        journal.append(
            account_id="111122223333", key_id="AKIAIOSFODNN7EXAMPLE", run_id="a", kind="gone"
        )
        client = _client()
        client.put_item(
            TableName="rootkeys-journal",
            Item={
                "pk": {"S": "A#111122223333"},
                "sk": {"S": "R#000000000002"},
                "body": {"S": '{"kind": "nonsense"}'},
            },
        )
        with pytest.raises(JournalError, match="damaged record"):
            journal.records("111122223333")
        client.update_item(
            TableName="rootkeys-journal",
            Key={"pk": {"S": "META"}, "sk": {"S": "META"}},
            UpdateExpression="SET schema_version = :v",
            ExpressionAttributeValues={":v": {"N": "99"}},
        )
        with pytest.raises(JournalError, match="newer than this rootkeys"):
            _journal(sandbox)


def test_opening_a_new_table_for_a_read_writes_nothing_and_the_first_lease_makes_it() -> None:
    """A table made by CloudFormation (no META yet): a read opens it with GetItem and
    Query only; the first lease writes META, with no Scan (outside the function's role)."""
    with Sandbox() as sandbox:
        client = _client()
        rootkeys.Journal.open(LOCATION, create=True).close()
        client.delete_item(
            TableName="rootkeys-journal", Key={"pk": {"S": "META"}, "sk": {"S": "META"}}
        )
        made = len(sandbox.calls)
        reader = rootkeys.Journal.open(LOCATION)
        assert reader.records("111122223333") == []
        assert {c.operation for c in sandbox.calls[made:]} == {"GetItem", "Query"}
        reader.append(
            account_id="111122223333", key_id="AKIAIOSFODNN7EXAMPLE", run_id="a", kind="gone"
        )
        operations = {c.operation for c in sandbox.calls[made:]}
        assert "Scan" not in operations
        assert "PutItem" in operations
        meta = client.get_item(
            TableName="rootkeys-journal", Key={"pk": {"S": "META"}, "sk": {"S": "META"}}
        )
        assert meta["Item"]["application"]["S"] == "rootkeys journal"
