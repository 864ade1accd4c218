"""The lifecycle table: every (from, to) pair, allowed and refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rootkeys import InputError, KeyState
from rootkeys._lifecycle import MAX_WINDOW, decide, validate_window
from rootkeys.errors import IllegalTransitionError
from rootkeys.lifecycle import TRANSITIONS, Action, KeyStatus

KEY = "AKIAAAAAAAAAAAAAAAAA"
ACT, OFF, EXP, DEL = KeyState.ACTIVE, KeyState.INACTIVE, KeyState.EXPIRED, KeyState.DELETED
QUA = KeyState.QUARANTINED

ALLOWED = {
    (ACT, OFF): Action.DEACTIVATE,
    (OFF, ACT): Action.REACTIVATE,
    (OFF, DEL): Action.DELETE,
    (EXP, DEL): Action.DELETE,
    (ACT, QUA): Action.QUARANTINE,
    (QUA, ACT): Action.RELEASE,
    (QUA, DEL): Action.DELETE,
}
ALL_PAIRS = [(a, b) for a in KeyState for b in KeyState]


def _id(pair: tuple[KeyState, KeyState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_table_is_exactly_the_documented_one() -> None:
    """TRANSITIONS holds the seven documented moves and nothing else."""
    assert dict(TRANSITIONS) == ALLOWED


@pytest.mark.parametrize("pair", [p for p in ALL_PAIRS if p in ALLOWED], ids=_id)
def test_allowed_pair_returns_its_action(pair: tuple[KeyState, KeyState]) -> None:
    """Each allowed pair is decided as its action."""
    assert decide(KEY, *pair) is ALLOWED[pair]


@pytest.mark.parametrize("state", list(KeyState), ids=lambda s: s.value)
def test_same_state_is_nothing_to_do(state: KeyState) -> None:
    """Asking for the state a key is already in is a no-op, not an error."""
    assert decide(KEY, state, state) is None


@pytest.mark.parametrize(
    "pair", [p for p in ALL_PAIRS if p not in ALLOWED and p[0] is not p[1]], ids=_id
)
def test_refused_pair_raises_with_key_and_states(pair: tuple[KeyState, KeyState]) -> None:
    """Every other pair raises IllegalTransitionError naming key, current and target."""
    with pytest.raises(IllegalTransitionError) as caught:
        decide(KEY, *pair)
    assert (caught.value.key_id, caught.value.current, caught.value.target) == (
        KEY,
        pair[0].value,
        pair[1].value,
    )
    assert KEY in str(caught.value)


def test_quarantined_is_unusable_but_active_in_iam() -> None:
    """A quarantined key cannot sign requests, yet IAM still lists it as Active."""
    assert not QUA.usable
    assert QUA.iam_status is KeyStatus.ACTIVE
    assert [s for s in KeyState if s.usable] == [ACT]


def test_deleting_an_active_key_says_why() -> None:
    """The refusal to delete an Active key tells the user to deactivate first."""
    with pytest.raises(IllegalTransitionError, match="deactivate it and observe first"):
        decide(KEY, ACT, DEL)


@pytest.mark.parametrize(
    ("window", "interval", "expected"),
    [
        (timedelta(0), None, timedelta(seconds=1)),
        (timedelta(hours=1), None, timedelta(minutes=6)),
        (timedelta(days=7), None, timedelta(hours=1)),
        (timedelta(days=7), timedelta(minutes=5), timedelta(minutes=5)),
    ],
    ids=["zero-window", "hour", "week-clamped", "explicit"],
)
def test_window_interval_defaults(
    window: timedelta, interval: timedelta | None, expected: timedelta
) -> None:
    """The default interval is a tenth of the window, kept between 1 s and 1 h."""
    assert validate_window(window, interval) == (window, expected)


@pytest.mark.parametrize(
    ("window", "interval", "message"),
    [
        (timedelta(seconds=-1), None, "must not be negative"),
        (MAX_WINDOW + timedelta(days=1), None, "at most"),
        (3600, None, "must be a datetime.timedelta"),
        ("7d", None, "must be a datetime.timedelta"),
        (timedelta(hours=1), timedelta(0), "must be positive"),
        (timedelta(hours=1), timedelta(seconds=-5), "must be positive"),
        (timedelta(hours=1), 60, "must be a datetime.timedelta"),
    ],
    ids=["negative", "huge", "int", "str", "zero-interval", "negative-interval", "int-interval"],
)
def test_bad_windows_are_input_errors(window: object, interval: object, message: str) -> None:
    """Bad windows and intervals raise InputError with a message saying what is wrong."""
    with pytest.raises(InputError, match=message):
        validate_window(window, interval)
