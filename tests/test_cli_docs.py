"""docs/cli.md shows the command's real output: the session the docs build runs.

The docs build replaces each ``<!-- rootkeys-cli: NAME -->`` marker with a step of
`rootkeys.testing._transcript.transcript`; these tests run the same session and hold it
to what the page says about it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rootkeys.testing._transcript import Step, transcript

DOC = Path(__file__).parent.parent / "docs" / "cli.md"
MARKER = re.compile(r"^<!-- rootkeys-cli: (?P<name>[a-z-]+) -->$", re.MULTILINE)


@pytest.fixture(scope="module")
def steps() -> dict[str, Step]:
    return transcript()


def test_every_marker_in_the_page_names_a_step(steps: dict[str, Step]) -> None:
    named = MARKER.findall(DOC.read_text())
    assert named, "docs/cli.md shows no generated output"
    assert set(named) <= set(steps)


def test_every_step_is_shown_in_the_page(steps: dict[str, Step]) -> None:
    assert set(steps) <= set(MARKER.findall(DOC.read_text()))


def test_a_failing_check_rolls_back_exits_1_and_names_the_resume_command(
    steps: dict[str, Step],
) -> None:
    failed = steps["remove-fails"]
    assert failed.code == 1
    assert "rolled back" in failed.out
    assert re.search(r"rootkeys resume AKIA[A-Z0-9]{16}", failed.err)
    held = steps["remove-held"]
    assert held.code == 1
    assert "on hold" in held.err


def test_after_resume_a_clean_run_deletes_and_exits_0(steps: dict[str, Step]) -> None:
    assert steps["resume"].code == 0
    done = steps["remove-done"]
    assert (done.code, done.err) == (0, "")  # --quiet: the result alone
    assert "deleted" in done.out
    assert (steps["verify-before"].code, steps["verify"].code) == (1, 0)


def test_a_healthy_staged_run_exits_0(steps: dict[str, Step]) -> None:
    staged = steps["remove-staged"]
    assert staged.code == 0
    assert "observing" in staged.out


def test_every_step_fits_100_columns(steps: dict[str, Step]) -> None:
    """Tables, progress and advice alike (CSV is data, not a table: its rows are whole)."""
    for step in steps.values():
        if "csv" in step.argv:
            continue
        wide = [line for line in step.shown().splitlines() if len(line) > 100]
        assert not wide, (step.name, wide)
