"""remove_all in a notebook: one display, updated in place; nothing elsewhere or when asked."""

from __future__ import annotations

import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import rootkeys
from rootkeys.testing import FakeClock, Sandbox
from tests.conftest import MakeManager
from tests.orgtools import organization

MINUTES_2 = timedelta(minutes=2)


class ZMQInteractiveShell:
    """Stands in for ipykernel's shell: what a Jupyter kernel's ``get_ipython()`` is."""


class TerminalInteractiveShell:
    """Stands in for the IPython shell in a terminal (no rich display)."""


class Handle:
    """What ``display(..., display_id=True)`` returns: its updates are kept."""

    def __init__(self, shown: Any) -> None:
        self.shown = [shown]

    def update(self, obj: Any) -> None:
        self.shown.append(obj)


class Screen:
    """A fake ``IPython.display.display``: every call makes a new display."""

    def __init__(self) -> None:
        self.handles: list[Handle] = []

    def display(self, obj: Any, *, display_id: bool = False) -> Handle:
        assert display_id is True
        self.handles.append(Handle(obj))
        return self.handles[-1]


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Screen:
    """A Jupyter kernel, as far as rootkeys can tell: IPython loaded, a ZMQ shell."""
    found = Screen()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    display = types.ModuleType("IPython.display")
    display.display = found.display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return found


def test_in_a_kernel_one_display_is_updated_in_place(
    screen: Screen, make_manager: MakeManager
) -> None:
    """One display for the run, updated as it goes; its last state shows the keys deleted."""
    make_manager(journal=False, checks=[lambda key: True]).remove_all(observe_for=MINUTES_2)
    assert len(screen.handles) == 1
    shown = screen.handles[0].shown
    assert len(shown) >= 11  # at least once a round of checks
    first, last = shown[0]._repr_html_(), shown[-1]._repr_html_()
    assert "rootkeys-progress" in last
    assert "<table" in last
    assert "observing" in first or "deactivating" in first
    assert last.count("<td style='text-align:left'>done</td>") == 2
    assert "window over" in repr(shown[-1])


def test_while_the_run_sleeps_the_display_says_when_the_next_pass_starts(
    screen: Screen, make_manager: MakeManager, clock: FakeClock
) -> None:
    """Each wait updates the display first: the next pass's time and each key's next check."""
    seen: list[str] = []

    def look(event: rootkeys.Event) -> None:
        if event.kind is rootkeys.EventKind.OBSERVING and screen.handles:
            seen.append(repr(screen.handles[0].shown[-1]))

    make_manager(journal=False, hooks=[look]).remove_all(observe_for=MINUTES_2)
    assert "next pass at 12:00:12 UTC" in seen[1]  # shown before sleeping to the 2nd pass
    assert "checks in 12s" in seen[1]


def test_progress_false_shows_nothing(screen: Screen, make_manager: MakeManager) -> None:
    """The opt-out: no display at all."""
    make_manager(journal=False).remove_all(observe_for=MINUTES_2, progress=False)
    assert screen.handles == []


def test_outside_a_kernel_nothing_is_shown(
    screen: Screen, make_manager: MakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IPython in a terminal is not a notebook: the library stays silent."""
    monkeypatch.setattr(sys.modules["IPython"], "get_ipython", TerminalInteractiveShell)
    make_manager(journal=False).remove_all(observe_for=MINUTES_2)
    assert screen.handles == []


def test_without_ipython_nothing_is_shown_and_nothing_fails(
    make_manager: MakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No IPython loaded: the run is as before, and IPython is not imported for it."""
    for name in [m for m in sys.modules if m == "IPython" or m.startswith("IPython.")]:
        monkeypatch.delitem(sys.modules, name)
    report = make_manager(journal=False).remove_all(observe_for=MINUTES_2)
    assert report.outcome is rootkeys.RunOutcome.DONE
    assert "IPython" not in sys.modules


@pytest.mark.parametrize("progress", ["yes", 1, None], ids=["str", "int", "none"])
def test_progress_must_be_true_or_false(
    progress: object, make_manager: MakeManager, sandbox: Sandbox
) -> None:
    """A bad ``progress`` is an input error before any AWS call."""
    manager = make_manager(journal=False)
    calls = len(sandbox.calls)
    with pytest.raises(rootkeys.errors.InputError, match="progress must be True or False"):
        manager.remove_all(observe_for=MINUTES_2, progress=progress)  # type: ignore[arg-type]
    assert len(sandbox.calls) == calls


def test_an_organization_removal_shows_every_account_in_one_display(
    screen: Screen, sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    """Organization.remove_all: one display, a row per member key, updated in place."""
    org = sandbox.create_organization(members=2, root_keys=1)
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    organization(sandbox, clock, journal, workers=2).remove_all(
        timedelta(hours=1), timedelta(minutes=30)
    )
    assert len(screen.handles) == 1
    last = repr(screen.handles[0].shown[-1])
    assert "2 accounts" in last
    for member in org.member_account_ids:
        assert member in last
    assert len(screen.handles[0].shown) > 1


def test_a_staged_pass_shows_its_round_in_the_last_update(
    screen: Screen, make_manager: MakeManager, tmp_path: Path
) -> None:
    """wait=False: one pass, its round still open when the run ends; the display tells it."""
    manager = make_manager(journal=tmp_path / "j.sqlite3", checks=[lambda key: True])
    manager.remove_all(observe_for=timedelta(days=7), wait=False)
    last = screen.handles[0].shown[-1]._repr_html_()
    assert "round 1: 2 keys unusable" in last
