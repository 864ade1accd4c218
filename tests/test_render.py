"""Tables people can read: 100 columns by default, everything whole when wide, honest counts.

Every report type is built from real sandbox runs (one account with two keys, an
organization of members), then made adversarial: a check failing with a long reason, an
unbreakable URL, 30+ accounts with long names, evidence that could not be gathered in 38
regions, a legacy evidence record whose detail is JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import CheckResult, EventKind, ObservedKey
from rootkeys._render import Table, Tabular, span, stamp
from rootkeys.journal import RecordKind
from rootkeys.reports import KeyEvidence
from rootkeys.testing import FakeClock, Sandbox
from tests.conftest import MakeManager, Recorder

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ACCOUNT = "111122223333"
LONG = (
    "the payments API answered 503 Service Unavailable for /v1/charges from every "
    "availability zone while the root key was unusable; the ledger service timed out after "
    "30000 ms; runbook: https://wiki.example.com/payments/incidents/"
    "root-key-removal-ledger-timeout-and-rollback-procedure-2026"
)
PAGE = "<html><head><title>404 Not Found</title></head><body>" + "x" * 400 + "</body></html>"
NAME = "production-payments-platform-eu-west-1-primary-ledger"


def failing(account_id: str | None = None) -> rootkeys.Check:
    """A check that fails with `LONG` (in ``account_id`` only, if given)."""

    def payments(key: ObservedKey) -> CheckResult:
        if account_id is not None and key.account_id != account_id:
            return CheckResult(True)
        return CheckResult(False, LONG)

    return payments


def _build(sandbox: Sandbox, clock: FakeClock, tmp: Path) -> dict[str, list[Tabular]]:
    """Every kind of table, from real runs, with adversarial content."""
    journal = rootkeys.Journal(tmp / "journal.sqlite3")
    account = sandbox.create_account(ACCOUNT, root_keys=2)
    used = account.root_key_ids[0]
    for region in ("eu-west-1", "us-west-2", "ap-southeast-2"):
        sandbox.use_root_key(
            ACCOUNT, used, service="ec2", region=region, times=3, user_agent="Boto3/1.35 " * 12
        )
    sandbox.set_root_mfa(ACCOUNT, enabled=False)
    session = sandbox.root_session(ACCOUNT)
    manager = rootkeys.RootKeyManager(session, clock=clock, journal=journal)
    plan = manager.plan(rootkeys.RemovalPolicy())
    evidence = plan.keys[0].evidence
    assert evidence is not None
    assert evidence.cloudtrail is not None
    journal.append(  # what rootkeys before 0.2 wrote when it planned
        account_id=ACCOUNT,
        key_id=used,
        run_id="legacy",
        kind=RecordKind.EVIDENCE,
        at=clock.now(),
        detail=evidence.model_dump_json(),
    )
    regions = evidence.cloudtrail.regions
    lost = evidence.model_copy(
        update={
            "cloudtrail": evidence.cloudtrail.model_copy(
                update={"unavailable_regions": tuple(f"{r}: {PAGE}" for r in regions)}
            )
        }
    )
    blind = evidence.model_copy(
        update={"cloudtrail": None, "unavailable": "; ".join(f"{r}: {PAGE}" for r in regions)}
    )
    keys = (plan.keys[0].model_copy(update={"evidence": blind}), *plan.keys[1:])
    observing = manager.remove_all(timedelta(days=7), wait=False)
    status = manager.status()
    clock.advance(timedelta(days=1))
    breaking = rootkeys.RootKeyManager(
        session, clock=clock, journal=journal, checks=[failing()]
    ).remove_all(timedelta(days=7), wait=False)
    org = sandbox.create_organization(members=3, root_keys=2)
    organization = rootkeys.Organization(
        sandbox.management_session(),
        clock=clock,
        journal=journal,
        checks=[failing(org.member_account_ids[0])],
    )
    audits = list(organization.audit())
    org_plans = list(organization.plan(timedelta(days=7)))
    removal = organization.remove_all(timedelta(days=7), wait=False)
    many = tuple(
        removal.accounts[n % len(removal.accounts)].model_copy(
            update={"account_id": f"{n:012d}", "name": f"{NAME}-{n}"}
        )
        for n in range(34)
    )
    return {
        "plan": [plan, plan.model_copy(update={"keys": keys})],
        "evidence": [evidence, lost],
        "report": [observing, breaking],
        "status": [status, manager.status()],
        "history": [manager.history(k) for k in account.root_key_ids],
        "audit": audits,
        "organization plan": org_plans,
        "organization report": [removal, removal.model_copy(update={"accounts": many})],
        "account removal": list(removal.accounts),
        "organization status": [*organization.status(), *_later(clock, organization)],
    }


def _later(clock: FakeClock, organization: rootkeys.Organization) -> list[Tabular]:
    """The organization's statuses once the windows are over (its keys to be deleted)."""
    clock.advance(timedelta(days=8))
    return list(organization.status())


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Tabular]]:
    tmp = tmp_path_factory.mktemp("render")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(tmp / "state"))
        env.setenv("AWS_CONFIG_FILE", str(tmp / "aws-config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "aws-credentials"))
        clock = FakeClock(START)
        with Sandbox(clock=clock) as sandbox:
            built = _build(sandbox, clock, tmp)
    return built  # plain models now: the sandbox is gone, so later tests can make theirs


KINDS = [
    "plan",
    "evidence",
    "report",
    "status",
    "history",
    "audit",
    "organization plan",
    "organization report",
    "account removal",
    "organization status",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_fits_100_columns(tables: dict[str, list[Tabular]], kind: str) -> None:
    """By default every line, title and notes included, is at most 100 wide; no row is lost."""
    assert tables[kind]
    for item in tables[kind]:
        text = item.table()
        too_wide = [line for line in text.splitlines() if len(line) > 100]
        assert too_wide == [], text
        for row in [*getattr(item, "keys", ()), *getattr(item, "accounts", ())]:
            shown = getattr(row, "key_id", None) or row.account_id
            assert shown in text
    if kind == "organization report":
        assert len(getattr(tables[kind][1], "accounts", ())) > 30


@pytest.mark.parametrize("kind", KINDS)
def test_titles_wrap_by_default_and_are_whole_when_wide(
    tables: dict[str, list[Tabular]], kind: str
) -> None:
    """A title too long for 100 columns wraps, losing no word; ``wide=True`` keeps it whole."""
    for item in tables[kind]:
        title = item._table(wide=True).title
        assert item.table(wide=True).splitlines()[0] == title
        assert " ".join(item.table().split()).startswith(" ".join(title.split()))


def test_wide_keeps_long_reasons_whole(tables: dict[str, list[Tabular]]) -> None:
    """A long check reason (with an unbreakable URL) is wrapped by default, whole when wide."""
    shown = [
        tables["report"][1],
        tables["status"][1],
        tables["history"][0],
        tables["organization report"][0],
        tables["organization report"][1],
    ]
    for item in shown:
        assert LONG in item.table(wide=True)
        assert LONG not in item.table()
        assert "runbook:" in item.table()
        assert any(len(line) > 100 for line in item.table(wide=True).splitlines())


def test_the_plan_is_compact_by_default_and_whole_when_wide(
    tables: dict[str, list[Tabular]],
) -> None:
    """The compact plan drops the risk and window columns (the steps say the window)."""
    plan = tables["plan"][0]
    header = [line for line in plan.table().splitlines() if line.startswith("  key ")]
    assert "risk" not in header[0]
    assert "window" not in header[0]
    assert "observe 14d" in plan.table()
    wide = [line for line in plan.table(wide=True).splitlines() if line.startswith("  key ")]
    assert "risk" in wide[0]
    assert "window" in wide[0]
    assert "used in the last day" in plan.table(wide=True)


def test_evidence_lost_in_every_region_says_so_once(tables: dict[str, list[Tabular]]) -> None:
    """Every region (the partition's 30-odd) answering one error page: one row naming them,
    the page cut; whole if wide."""
    lost = tables["evidence"][1]
    assert isinstance(lost, KeyEvidence)
    assert lost.cloudtrail is not None
    regions = len(lost.cloudtrail.regions)
    assert regions > 20
    compact = lost.table()
    assert compact.count("<html>") == 1
    assert "…" in compact
    assert lost.table(wide=True).count(PAGE) == regions
    blind = tables["plan"][1]
    assert blind.table().count("<html>") == 1
    assert blind.table(wide=True).count("<html>") == regions


def test_history_is_in_words_never_json(tables: dict[str, list[Tabular]]) -> None:
    """A history, compact or wide, shows each record in words: no JSON, durations as typed."""
    history = tables["history"][0]
    for text in (history.table(), history.table(wide=True)):
        assert '{"' not in text
        assert "days," not in text
        assert "0:00:00" not in text
    compact = history.table()
    assert "window 7d" in compact
    assert "CloudTrail: 9 events, last just now from 198.51.100.7; IAM: last used just now" in (
        " ".join(compact.split())
    )
    assert "event names: ListBuckets (9)" in history.table(wide=True)


def test_durations_show_as_typed(tables: dict[str, list[Tabular]]) -> None:
    """No table, compact or wide, shows a duration as Python does (``7 days, 0:00:00``)."""
    texts = [t.table(wide=w) for items in tables.values() for t in items for w in (False, True)]
    assert any("deleted if every check passes" in t for t in texts)
    python_duration = re.compile(r"\d+ days?, |(?<!\d{4}-\d\d-\d\d )\b\d+:\d\d:\d\d")
    assert python_duration.search("observe 7 days, 0:00:00")
    assert python_duration.search("within 1:00:00")
    assert not python_duration.search("at 2026-11-27 12:00:00Z")
    assert [t for t in texts if python_duration.search(t)] == []


def test_times_are_compact_and_utc() -> None:
    """Tables show times as ``2026-12-02 05:24Z`` and windows as ``1d12h``."""
    status = rootkeys.RemovalStatus(
        account_id=ACCOUNT,
        at=datetime(2026, 12, 2, 5, 24, 31, tzinfo=UTC),
        keys=(
            rootkeys.PlannedKey(
                key_id="AKIAAAAAAAAAAAAAAAAA",
                state=rootkeys.KeyState.INACTIVE,
                next=rootkeys.Next.OBSERVE,
                reason="observing",
                window=timedelta(days=1, hours=12),
                until=datetime(2026, 12, 3, 17, 24, tzinfo=UTC),
            ),
        ),
    )
    text = status.table()
    assert text.splitlines()[0].endswith("at 2026-12-02 05:24Z")
    assert "2026-12-03 17:24Z" in text
    assert "UTC" not in text


@pytest.mark.parametrize(
    ("seconds", "units", "text"),
    [
        (0, None, "0"),
        (86400 + 300, None, "1d5m"),
        (-90, None, "-1m30s"),
        (86400 + 300, 2, "1d"),
        (6 * 86400 + 23 * 3600 + 59 * 60, 2, "6d23h"),
        (108, 2, "1m48s"),
        (120, 2, "2m"),
        (3 * 3600 + 5, 1, "3h"),
    ],
    ids=["zero", "whole", "negative", "two-no-gap", "two-days", "two-minutes", "round", "one"],
)
def test_a_span_keeps_its_largest_units_when_asked(
    seconds: int, units: int | None, text: str
) -> None:
    """span(units=n) keeps the n largest units (rounded down); by default, every unit."""
    assert span(timedelta(seconds=seconds), units=units) == text


@pytest.mark.parametrize(
    ("near", "text"),
    [
        (None, "2026-12-02 05:24Z"),
        (datetime(2026, 12, 2, 5, 24, 51, tzinfo=UTC), "2026-12-02 05:24:31Z"),
        (datetime(2026, 12, 2, 4, 30, tzinfo=UTC), "2026-12-02 05:24:31Z"),
        (datetime(2026, 12, 2, 6, 24, 31, tzinfo=UTC), "2026-12-02 05:24Z"),
        (datetime(2026, 12, 2, 7, 24, 51), "2026-12-02 05:24Z"),
    ],
    ids=["alone", "same-minute", "within-the-hour-before", "an-hour-apart", "naive-utc"],
)
def test_a_time_beside_one_within_the_hour_shows_its_seconds(
    near: datetime | None, text: str
) -> None:
    """stamp(near=): less than an hour apart, to the second; else (and alone) to the minute."""
    assert stamp(datetime(2026, 12, 2, 5, 24, 31, tzinfo=UTC), near=near) == text


def test_a_short_window_tells_since_from_until() -> None:
    """A 20-second window inside one minute: since and until differ once near each other."""
    since = datetime(2026, 12, 2, 5, 24, 10, tzinfo=UTC)
    until = since + timedelta(seconds=20)
    assert stamp(since) == stamp(until)  # to the minute, the two read the same
    assert (stamp(since, near=until), stamp(until, near=since)) == (
        "2026-12-02 05:24:10Z",
        "2026-12-02 05:24:30Z",
    )


def test_table_fits_a_narrower_width_and_refuses_a_silly_one(
    tables: dict[str, list[Tabular]],
) -> None:
    """``table(width=60)`` fits 60 columns; a width under 40 is an input error."""
    for kind in ("plan", "report", "status", "history", "organization report"):
        for item in tables[kind]:
            assert max(len(line) for line in item.table(width=60).splitlines()) <= 60
    with pytest.raises(rootkeys.InputError):
        tables["plan"][0].table(width=12)


def test_short_columns_keep_their_width_while_long_ones_wrap() -> None:
    """The widest column gives way first; short ones (ids, states) are never broken."""
    table = Table("t", ("key", "state", "why"), [("AKIAAAAAAAAAAAAAAAAA", "Inactive", "x " * 80)])
    lines = table.text(60).splitlines()
    assert lines[3].startswith("  AKIAAAAAAAAAAAAAAAAA  Inactive  x x")
    assert all(len(line) <= 60 for line in lines)
    assert len(lines) > 4
    assert len(table.text(None).splitlines()) == 4


# -- check counts ---------------------------------------------------------------------------


class Counting:
    """A check that counts its calls and fails on call ``fail_on`` (never, by default)."""

    name = "orders app"

    def __init__(self, fail_on: int = 0) -> None:
        self.calls, self.fail_on = 0, fail_on

    def __call__(self, key: ObservedKey) -> CheckResult:
        self.calls += 1
        return CheckResult(self.calls != self.fail_on, "orders failing")


def _check_events(recorder: Recorder, name: str) -> int:
    return sum(
        1
        for e in recorder.events
        if e.kind in (EventKind.CHECK_PASSED, EventKind.CHECK_FAILED) and e.check == name
    )


@pytest.mark.parametrize("keys", [1, 2], ids=["one key", "two keys"])
def test_checks_run_counts_each_call_of_your_checks(
    sandbox: Sandbox, make_manager: MakeManager, recorder: Recorder, keys: int
) -> None:
    """N passes over k keys: the report says N*k runs, as many as the hooks' check events."""
    if keys == 1:
        sandbox.delete_root_key(ACCOUNT, sandbox.root_keys(ACCOUNT)[0].key_id)
    check = Counting()
    report = make_manager(checks=[check]).remove_all(timedelta(hours=1), timedelta(minutes=20))
    passes = len(recorder.of(EventKind.OBSERVING))
    assert report.outcome is rootkeys.RunOutcome.DONE
    assert passes >= 3
    assert check.calls == passes * keys
    assert report.checks_run == check.calls
    assert report.checks_run == len(recorder.of(EventKind.CHECK_PASSED))
    assert f"({check.calls} checks run" in report.table()


def test_a_failing_check_counts_once_and_the_built_in_read_never(
    sandbox: Sandbox, make_manager: MakeManager, recorder: Recorder
) -> None:
    """Passed and failed runs of your check count; rootkeys' own state read does not."""
    check = Counting(fail_on=5)
    report = make_manager(checks=[check]).remove_all(timedelta(hours=1), timedelta(minutes=20))
    assert report.outcome is rootkeys.RunOutcome.ROLLED_BACK
    assert check.calls == 5
    assert report.checks_run == 5 == _check_events(recorder, "orders app")
    assert len(recorder.of(EventKind.CHECK_FAILED)) == 1


def test_no_checks_configured_says_none_ran(
    sandbox: Sandbox, make_manager: MakeManager, recorder: Recorder
) -> None:
    """Without checks of yours, a run reports 0 checks run, and its keys say so."""
    report = make_manager().remove_all(timedelta(hours=1), timedelta(minutes=20))
    assert report.outcome is rootkeys.RunOutcome.DONE
    assert report.checks_run == 0
    assert "(0 checks run" in report.table()
    assert all("no checks configured" in k.reason for k in report.keys)
    assert recorder.of(EventKind.CHECK_PASSED) == []
