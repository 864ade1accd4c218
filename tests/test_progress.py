"""Progress where people wait: the events it is told by, the terminal's lines and table."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
from rootkeys import EventKind, Next
from rootkeys._observe import STILL_UNUSABLE
from rootkeys._progress import Notice, Phase, ProgressModel, short
from rootkeys._terminal import TerminalProgress
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount
from tests.conftest import MakeManager, Recorder
from tests.orgtools import organization

MINUTES_2 = timedelta(minutes=2)
WEEK = timedelta(days=7)
DOCS = Path(__file__).parent.parent / "docs"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def passing(name: str) -> Callable[[rootkeys.AccessKey], bool]:
    """A check named ``name`` that always passes."""

    def check(key: rootkeys.AccessKey) -> bool:
        return True

    check.name = name  # type: ignore[attr-defined]
    return check


def refused_after(call: int, reason: str) -> Callable[[rootkeys.AccessKey], rootkeys.CheckResult]:
    """A check named "sandbox health" that passes until its ``call``-th call, then says why not."""
    calls = [0]

    def check(key: rootkeys.AccessKey) -> rootkeys.CheckResult:
        calls[0] += 1
        return rootkeys.CheckResult(calls[0] < call, "" if calls[0] < call else reason)

    check.name = "sandbox health"  # type: ignore[attr-defined]
    return check


def failing_from(call: int, name: str = "orders API") -> Callable[[rootkeys.AccessKey], bool]:
    """A check that passes until its ``call``-th call, then fails."""
    calls = [0]

    def check(key: rootkeys.AccessKey) -> bool:
        calls[0] += 1
        return calls[0] < call

    check.name = name  # type: ignore[attr-defined]
    return check


# -- what the engine tells hooks ----------------------------------------------------------------


def test_until_is_each_keys_real_window_end_across_staged_runs(
    make_manager: MakeManager, recorder: Recorder, clock: FakeClock, tmp_path: Path
) -> None:
    """DEACTIVATED, KEY_FOUND and OBSERVING carry the window end the journal remembers."""
    journal = tmp_path / "journal.sqlite3"
    make_manager(journal=journal).remove_all(observe_for=WEEK, wait=False)
    deactivated = recorder.of(EventKind.DEACTIVATED)
    assert len(deactivated) == 2
    assert all(e.until == e.at + WEEK for e in deactivated)
    end = max(e.until for e in deactivated if e.until)
    assert [e.until for e in recorder.of(EventKind.OBSERVING)] == [end]

    clock.advance(timedelta(days=3))
    recorder.events.clear()
    make_manager(journal=journal).remove_all(observe_for=WEEK, wait=False)
    found = recorder.of(EventKind.KEY_FOUND)
    assert {(e.next, e.until) for e in found} == {(Next.OBSERVE, e.until) for e in deactivated}
    assert [e.until for e in recorder.of(EventKind.OBSERVING)] == [end]

    clock.advance(timedelta(days=1))
    recorder.events.clear()
    make_manager(journal=journal).remove_all(observe_for=timedelta(days=10), wait=False)
    lengthened = {e.until for e in recorder.of(EventKind.KEY_FOUND)}
    assert lengthened == {e.at + timedelta(days=10) for e in deactivated}


def test_a_blocking_run_says_once_per_wait_when_its_next_pass_starts(
    make_manager: MakeManager, recorder: Recorder
) -> None:
    """WAITING is emitted before each sleep; its until is when the next pass checks."""
    make_manager(journal=False).remove_all(observe_for=MINUTES_2)
    rounds = recorder.of(EventKind.OBSERVING)
    waits = recorder.of(EventKind.WAITING)
    assert len(rounds) == 11  # every 12 s over 2 minutes, and the last at its end
    assert [w.until for w in waits] == [r.at for r in rounds[1:]]
    assert EventKind.WAITING not in recorder.kinds()[recorder.kinds().index(EventKind.VERIFIED) :]


def test_an_organization_says_once_per_wait_for_all_its_accounts(
    sandbox: Sandbox, clock: FakeClock, recorder: Recorder, tmp_path: Path
) -> None:
    """One WAITING per wait (no account: the run's), naming how many accounts observe."""
    sandbox.create_organization(members=2, root_keys=1)
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    org = organization(sandbox, clock, journal, hooks=[recorder], workers=2)
    org.remove_all(timedelta(hours=1), timedelta(minutes=30))
    waits = recorder.of(EventKind.WAITING)
    assert len(waits) == 2  # checks at 0, 30 and 60 minutes
    assert {w.account_id for w in waits} == {""}
    assert all("2 accounts observing" in w.message for w in waits)


# -- the progress model -------------------------------------------------------------------------


def test_the_model_counts_your_checks_not_the_built_in_tick(
    make_manager: MakeManager, sandbox: Sandbox, account: SandboxAccount
) -> None:
    """Checks run per key are the user's; a built-in failure is the last result, uncounted."""
    model = ProgressModel()
    key_id = account.root_key_ids[0]

    def reactivate_in_third_round(event: rootkeys.Event) -> None:
        """Someone makes the key Active just as the third round starts."""
        if event.kind is EventKind.OBSERVING and model.each_account()[0].rounds == 3:
            sandbox.set_root_key_status(account.account_id, key_id, KeyStatus.ACTIVE)

    manager = make_manager(
        hooks=[model, reactivate_in_third_round], checks=[passing("nightly export")], journal=False
    )
    manager.remove_all(observe_for=MINUTES_2)
    key = {k.key_id: k for k in model.each_key()}[key_id]
    assert key.checks == 2  # rounds 1 and 2; in round 3 the built-in tick failed first
    assert key.last is not None
    assert (key.last.name, key.last.ok) == (STILL_UNUSABLE, False)
    assert key.phase is Phase.ROLLED_BACK or key.phase is Phase.OBSERVING


def test_the_model_knows_each_keys_phase_window_and_next_action(
    make_manager: MakeManager, clock: FakeClock
) -> None:
    """After a staged pass: observing, the window's end, one check, checks next pass."""
    model = ProgressModel()
    make_manager(hooks=[model], checks=[passing("health")]).remove_all(observe_for=WEEK, wait=False)
    now = clock.now()
    for key in model.each_key():
        assert key.phase is Phase.OBSERVING
        assert key.until is not None
        assert key.left(now) == key.until - now
        assert (key.checks, str(key.last)) == (1, "health: passed")
        assert key.next_action(now, None) == "checks next pass"
        assert key.next_action(now, now + timedelta(seconds=90)) == "checks in 1m30s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59, "59s"), (108, "1m48s"), (120, "2m"), (86399, "23h59m"), (7 * 86400, "7d")],
    ids=["zero", "seconds", "minutes", "round-minutes", "hours", "days"],
)
def test_time_left_is_written_as_a_person_writes_it(seconds: int, text: str) -> None:
    """Two units at most, no zero unit: 1m48s, 2m, 23h59m, 7d."""
    assert short(timedelta(seconds=seconds)) == text


# -- the terminal: plain lines (cron, a pipe) ---------------------------------------------------


def test_plain_progress_is_one_line_per_round_and_per_change(make_manager: MakeManager) -> None:
    """Under cron: deactivated twice, 11 rounds of checks, deleted twice, the outcome once."""
    err = io.StringIO()
    with TerminalProgress(err, live=False) as progress:
        manager = make_manager(hooks=[progress], checks=[passing("health")], journal=False)
        manager.remove_all(observe_for=MINUTES_2)
    lines = err.getvalue().splitlines()
    rounds = [line for line in lines if " round " in line]
    assert len(rounds) == 11
    assert [int(re.findall(r"round (\d+):", line)[0]) for line in rounds] == list(range(1, 12))
    assert "2 keys unusable, 1m48s left; 2 checks passed (health)" in rounds[1]
    assert rounds[-1].endswith("window over; 2 checks passed (health)")
    assert len([line for line in lines if "deactivated; its window ends" in line]) == 2
    assert len([line for line in lines if line.endswith(" deleted")]) == 2
    assert " account: done: 2 key(s) deleted" in lines[-1]
    assert len(lines) == 16
    assert max(len(line) for line in lines) <= 100


def test_plain_progress_says_what_failed_and_what_was_rolled_back(
    make_manager: MakeManager, account: SandboxAccount, tmp_path: Path
) -> None:
    """A failed round names the check and key; each rollback and hold is one line, once."""
    err = io.StringIO()
    journal = tmp_path / "journal.sqlite3"
    with TerminalProgress(err, live=False) as progress:
        manager = make_manager(hooks=[progress], checks=[failing_from(7)], journal=journal)
        manager.remove_all(observe_for=MINUTES_2)
        for _ in range(2):  # later runs find the keys on hold: said once
            make_manager(hooks=[progress], journal=journal).remove_all(observe_for=MINUTES_2)
    lines = err.getvalue().splitlines()
    failed = [line for line in lines if " round " in line and " failed: " in line]
    assert len(failed) == 1
    assert "round 4: check 'orders API' failed: " in failed[0]
    assert len([line for line in lines if "rolled back (reactivated)" in line]) == 2
    held = [line for line in lines if " on hold: " in line and " account: " not in line]
    assert {line.split()[2] for line in held} == set(account.root_key_ids)
    assert len(held) == 2
    assert max(len(line) for line in lines) <= 100


def test_a_staged_pass_prints_its_round_when_the_run_ends(
    make_manager: MakeManager, clock: FakeClock, tmp_path: Path
) -> None:
    """Under cron (--no-wait), each run during the window prints its one round of checks."""
    journal = tmp_path / "journal.sqlite3"
    said = []
    for _ in range(2):
        err = io.StringIO()
        with TerminalProgress(err, live=False) as progress:
            manager = make_manager(hooks=[progress], checks=[passing("health")], journal=journal)
            manager.remove_all(observe_for=WEEK, wait=False)
        said.append([line.split(" ", 2)[2] for line in err.getvalue().splitlines()])
        clock.advance(timedelta(days=3))
    assert [line for line in said[0] if line.startswith("round")] == [
        "round 1: 2 keys unusable, 7d left; 2 checks passed (health)"
    ]
    assert said[1] == ["round 1: 2 keys unusable, 4d left; 2 checks passed (health)"]


def test_the_runs_wait_ends_each_accounts_open_round() -> None:
    """An organization's WAITING (no account) prints the round of every account still open."""
    from datetime import UTC, datetime

    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    model = ProgressModel()
    members = ["111122223333", "444455556666"]
    for member in members:
        model(rootkeys.Event(EventKind.OBSERVING, member, start, until=start + timedelta(hours=1)))
        model(rootkeys.Event(EventKind.CHECK_PASSED, member, start, key_id="AKIA" + "A" * 16))
    later = start + timedelta(seconds=5)
    said = model(rootkeys.Event(EventKind.WAITING, "", later, until=start + timedelta(minutes=30)))
    assert [(n.account_id, n.round, n.text.split(":")[0]) for n in said] == [
        (member, True, "round 1") for member in members
    ]
    assert model.finish() == []


def test_a_failed_rounds_line_gives_the_reason_whole_on_wrapped_lines(
    make_manager: MakeManager, account: SandboxAccount
) -> None:
    """The reason comes first and is never cut: a long one goes on indented lines <= 100."""
    url = "http://127.0.0.1:53117/orders/v2/health?deep=true&region=eu-west-1&probe=rootkeys"
    reason = f"{url} answered 503, expected 200"
    err = io.StringIO()
    with TerminalProgress(err, live=False) as progress:
        manager = make_manager(hooks=[progress], checks=[refused_after(3, reason)], journal=False)
        manager.remove_all(observe_for=MINUTES_2)
    lines = err.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if " round 2: " in line)
    assert lines[start].split(" ", 2)[2].startswith("round 2: check 'sandbox health' failed: ")
    more = list(itertools.takewhile(lambda line: line.startswith(" "), lines[start + 1 :]))
    assert more  # continuation lines, indented, right after it
    said = " ".join(line.strip() for line in [lines[start], *more])
    assert "answered 503, expected 200" in said
    assert "".join(said.split()).count("".join(reason.split())) == 1
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize("width", [100, 60, 40], ids=["100", "60", "40"])
def test_a_long_notice_wraps_under_its_text_and_loses_nothing(width: int) -> None:
    """Each line fits ``width``; continuation lines are indented; joined, the text is whole."""
    from datetime import UTC, datetime

    text = "round 3: check 'x' failed: " + "word " * 30 + "https://example.test/" + "a" * 120
    notice = Notice(datetime(2026, 11, 27, 12, tzinfo=UTC), "111122223333", text)
    lines = notice.lines(width)
    assert len(lines) > 1
    assert max(len(line) for line in lines) <= width
    assert all(line.startswith(" ") for line in lines[1:])
    joined = "".join("".join(line.split()) for line in lines)
    assert joined == "".join(f"[12:00:00]111122223333{text}".split())


def test_plain_progress_of_an_organization_is_per_account(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    """Each member: its rounds, its key quarantined and deleted, and how it ended; no noise."""
    org = sandbox.create_organization(members=2, root_keys=1)
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    err = io.StringIO()
    with TerminalProgress(err, live=False) as progress:
        organization(sandbox, clock, journal, hooks=[progress], workers=2).remove_all(
            timedelta(hours=1), timedelta(minutes=30)
        )
    lines = err.getvalue().splitlines()
    for member in org.member_account_ids:
        mine = [line.split(" ", 2)[2] for line in lines if line.split()[1] == member]
        assert [line.split(":")[0] for line in mine if line.startswith("round")] == [
            "round 1",
            "round 2",
            "round 3",
        ]
        assert len([line for line in mine if "quarantined; its window ends" in line]) == 1
        assert len([line for line in mine if line.endswith(" deleted")]) == 1
        assert [line for line in mine if line.startswith("account: ")] == [
            "account: done: 1 key(s) deleted; AccountAccessKeysPresent is 0"
        ]
    assert len(lines) == 12
    assert max(len(line) for line in lines) <= 100


def test_plain_progress_never_prints_a_secret(
    sandbox: Sandbox, account: SandboxAccount, make_manager: MakeManager
) -> None:
    """Nothing the hook prints contains a secret access key or the session token."""
    err = io.StringIO()
    session = sandbox.root_session(account.account_id)
    credentials = session.get_credentials()
    assert credentials is not None
    with TerminalProgress(err, live=False) as progress:
        make_manager(hooks=[progress], journal=False).remove_all(observe_for=MINUTES_2)
    secrets = [credentials.secret_key, credentials.token]
    printed = err.getvalue()
    assert printed
    assert not [s for s in secrets if s and s in printed]


# -- the terminal: the live table -------------------------------------------------------------


def _console() -> tuple[io.StringIO, object]:
    from rich.console import Console

    out = io.StringIO()
    return out, Console(file=out, force_terminal=True, width=100)


def test_the_live_table_shows_time_left_and_the_last_check(make_manager: MakeManager) -> None:
    """A line per key: observing, time left in its window, checks run, the check's result."""
    out, console = _console()
    with TerminalProgress(io.StringIO(), live=True, console=console) as progress:  # type: ignore[arg-type]
        manager = make_manager(hooks=[progress], checks=[passing("nightly export")])
        manager.remove_all(observe_for=timedelta(days=1), wait=False)
    screen = ANSI.sub("", out.getvalue())
    rows = [line for line in screen.splitlines() if line.startswith("AKIA")]
    assert rows
    for row in rows[-2:]:
        assert re.search(r"observing\s+23h59m\s+1\s+nightly export: passed\s+checks next pass", row)
    assert max(len(line.rstrip()) for line in screen.splitlines()) <= 100


def test_the_live_table_counts_down_while_the_run_sleeps() -> None:
    """No event for over a second: the table is redrawn, the time left lower."""
    from datetime import UTC, datetime

    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    out, console = _console()

    def event(kind: EventKind, **fields: object) -> rootkeys.Event:
        return rootkeys.Event(kind=kind, account_id="111122223333", at=start, **fields)  # type: ignore[arg-type]

    with TerminalProgress(io.StringIO(), live=True, console=console) as progress:  # type: ignore[arg-type]
        progress(event(EventKind.KEY_FOUND, key_id="AKIAAAAAAAAAAAAAAAAA", next=Next.MAKE_UNUSABLE))
        progress(
            event(EventKind.DEACTIVATED, key_id="AKIAAAAAAAAAAAAAAAAA", until=start + MINUTES_2)
        )
        deadline = time.monotonic() + 5
        while "1m58s" not in ANSI.sub("", out.getvalue()) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert "1m58s" in ANSI.sub("", out.getvalue())


def test_an_organizations_live_table_fits_100_columns_and_cuts_nothing(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    """3 members: every frame <= 100 columns, no text cut; phases and next steps whole."""
    from rich.console import Console

    org = sandbox.create_organization(members=3, root_keys=1)
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    out, console = _console()
    frames: list[str] = []

    def draw(event: rootkeys.Event) -> None:
        """The table as the live view draws it, after each event."""
        frame = Console(file=io.StringIO(), width=100, force_terminal=True)
        with frame.capture() as captured:
            frame.print(progress.view())
        frames.append(ANSI.sub("", captured.get()))

    with TerminalProgress(io.StringIO(), live=True, console=console) as progress:  # type: ignore[arg-type]
        checks = [passing("orders app health")]
        run = organization(
            sandbox, clock, journal, hooks=[progress, draw], workers=2, checks=checks
        )
        run.remove_all(timedelta(hours=1), timedelta(minutes=30))
    screens = [*frames, ANSI.sub("", out.getvalue())]
    assert max(len(line.rstrip()) for screen in screens for line in screen.splitlines()) <= 100
    assert not [screen for screen in screens if "…" in screen]
    seen = "\n".join(frames)
    assert "deactivating" in seen
    assert re.search(r"checks in \d+m", seen)
    assert "delete, if checks pass" in seen
    rows = [line for line in frames[-1].splitlines() if line[:12] in org.member_account_ids]
    assert len(rows) == 3
    assert all(re.search(r"AKIA\w{16}\s+done\s+-\s+orders app health:", row) for row in rows)


def test_import_rootkeys_loads_no_rich_and_plain_progress_needs_none() -> None:
    """rich is the live table's alone: not loaded by the library, nor by plain lines."""
    probe = (
        "import io, sys, datetime, rootkeys\n"
        "rootkeys.RootKeyManager, rootkeys.Organization\n"
        "from rootkeys._terminal import TerminalProgress\n"
        "with TerminalProgress(io.StringIO(), live=False) as p:\n"
        "    p(rootkeys.Event(rootkeys.EventKind.DELETED, '111122223333',\n"
        "      datetime.datetime.now(datetime.UTC), key_id='AKIAAAAAAAAAAAAAAAAA'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'IPython')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- the docs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.name)
def test_every_event_kind_is_documented(kind: EventKind) -> None:
    """docs/hooks-and-checks.md has a row for each kind: when it is sent, which fields."""
    rows = [
        line
        for line in (DOCS / "hooks-and-checks.md").read_text().splitlines()
        if line.startswith(f"| `{kind.name}` |")
    ]
    assert len(rows) == 1
