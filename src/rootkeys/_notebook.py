"""A run's progress in a Jupyter notebook: one display, updated in place.

When `remove_all` runs inside a Jupyter kernel (and ``progress=True``, the default), a
table shows where each key stands (phase, window end and time left, your checks run
and the last result, what happens next, when the next pass starts) and is updated in
place as the run goes, from `rootkeys._progress.ProgressModel`. Outside a kernel
nothing changes: the library stays silent. IPython is never imported here: inside a
kernel it is loaded already, and elsewhere it is not wanted.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING, Any

from rootkeys._errors import InputError
from rootkeys._observe import EventKind
from rootkeys._progress import Notice, ProgressModel, short
from rootkeys._render import Table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rootkeys._observe import Event

__all__ = [
    "NotebookProgress",
    "ProgressView",
    "kernel_display",
    "notebook_progress",
    "validate_progress",
]

EVERY_SECONDS = 1.0
"""The display is updated at most this often, but always when something changes."""

_NOW = (
    EventKind.WAITING,  # before the run sleeps: the display must be current while it does
    EventKind.VERIFIED,
    EventKind.NOT_VERIFIED,
    EventKind.ACCOUNT_FINISHED,
)


def kernel_display() -> Callable[..., Any] | None:
    """IPython's ``display`` when this runs inside a Jupyter kernel; None elsewhere."""
    ipython = sys.modules.get("IPython")  # a kernel has it loaded; nothing is imported here
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        if not any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__):
            return None
        from IPython.display import display
    except Exception:  # an unusual IPython: no display rather than a failed run
        return None
    shown: Callable[..., Any] = display
    return shown


class NotebookProgress:
    """A hook that shows a run's progress as one notebook display, updated in place."""

    def __init__(self, display: Callable[..., Any]) -> None:
        self._display = display
        self._model = ProgressModel()
        self._handle: Any = None
        self._shown_at = 0.0
        self._lines: list[Notice] = []

    def __call__(self, event: Event, /) -> None:
        """Take in one event; update the display when something changed."""
        notices = self._model(event)
        self._lines = [*self._lines, *notices][-5:]
        due = time.monotonic() - self._shown_at >= EVERY_SECONDS
        if notices or due or event.kind in _NOW:
            self.show()

    def show(self, *, final: bool = False) -> None:
        """Show the table as it stands (once a key is seen), or update it in place.

        ``final``: the run is over; a round still open (a staged pass) is told too.
        """
        if final:
            self._lines = [*self._lines, *self._model.finish()][-5:]
        if self._model.latest is None or not (final or self._model.each_key()):
            return
        view = ProgressView(self._table())
        if self._handle is None:
            self._handle = self._display(view, display_id=True)
        else:
            self._handle.update(view)
        self._shown_at = time.monotonic()

    def _table(self) -> Table:
        now = self._model.latest
        assert now is not None
        accounts = {a.account_id: a for a in self._model.each_account()}
        many = len(accounts) > 1
        rows = []
        for key in self._model.each_key():
            account = accounts.get(key.account_id)
            left = key.left(now)
            row = (
                key.key_id,
                key.phase.value,
                f"{key.until:%Y-%m-%d %H:%M:%S}" if key.until else "",
                short(left) if left is not None else "",
                str(key.checks),
                str(key.last) if key.last else "",
                key.next_action(now, account.next_pass if account else None),
            )
            rows.append((key.account_id, *row) if many else row)
        header = ("key", "phase", "window ends (UTC)", "left", "checks", "last check", "next")
        where = f"{len(accounts)} accounts" if many else f"account {next(iter(accounts))}"
        passes = [a.next_pass for a in accounts.values() if a.next_pass and a.next_pass > now]
        title = f"rootkeys: {where}, as of {now:%Y-%m-%d %H:%M:%S} UTC" + (
            f"; next pass at {min(passes):%H:%M:%S} UTC" if passes else ""
        )
        return Table(
            title=title,
            header=("account", *header) if many else header,
            rows=rows,
            after=[line for n in self._lines for line in n.lines()],
            empty="no root access key seen yet",
        )


class ProgressView:
    """What the notebook shows: the table as HTML, or as text."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def _repr_html_(self) -> str:
        return f"<div class='rootkeys-progress'>{self.table.html()}</div>"

    def __repr__(self) -> str:
        return self.table.text()


def validate_progress(progress: object) -> bool:
    """``progress`` checked to be True or False (`InputError` before any AWS call)."""
    if not isinstance(progress, bool):
        raise InputError(f"progress must be True or False, not {progress!r}")
    return progress


@contextlib.contextmanager
def notebook_progress(progress: bool) -> Iterator[NotebookProgress | None]:
    """A `NotebookProgress` for the block, inside a Jupyter kernel with ``progress``.

    Yields None outside a kernel or with ``progress=False``. The display appears with
    the run's first event and is updated one last time when the block ends, however it
    ends.
    """
    display = kernel_display() if progress else None
    if display is None:
        yield None
        return
    view = NotebookProgress(display)
    try:
        yield view
    finally:
        view.show(final=True)
