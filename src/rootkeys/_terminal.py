"""A run's progress in a terminal: a live table on a TTY, a log line per round elsewhere.

The command line's view of `rootkeys._progress.ProgressModel` (the library itself never
prints). On a terminal (``live=True``) a rich ``Live`` table shows a line per key (phase,
time left in its window, your checks run and the last result, what happens next) and
redraws itself every half second, so the time left moves on while the run sleeps between
passes; each change of state is printed above it. Under cron or in a pipe
(``live=False``) it writes plain lines: one per round of checks (one a pass, printed at
the latest when the run ends or waits), one per change of state (deactivated, deleted,
rolled back, on hold). No line passes 100 columns and none is cut: a long one (a failed
check's reason) goes on indented continuation lines.
rich is imported only for the live table, so ``import rootkeys`` stays light.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from rootkeys._progress import NEXT, Notice, Phase, ProgressModel, short

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console, JustifyMethod, RenderableType
    from rich.live import Live

    from rootkeys._observe import Event

__all__ = ["TerminalProgress"]

REFRESH_PER_SECOND = 2
"""How often the live table redraws itself, events or not."""


class TerminalProgress:
    """A hook that shows a run's progress on a terminal; a context manager.

    ``with TerminalProgress(sys.stderr, live=sys.stderr.isatty()) as progress:`` then
    pass ``hooks=[progress]`` to the manager (or organization); the live table starts on
    entry and stops, drawn one last time, on exit.

    Args:
        stream: where to write (the command line's stderr).
        live: ``True`` on a terminal (a live table), ``False`` under cron or in a pipe
            (plain log lines).
        console: the rich console to draw the live table on (default: one writing to
            ``stream``).
        width: the most columns a plain log line takes.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        console: Console | None = None,
        width: int = 100,
    ) -> None:
        self._stream = stream
        self._wanted = live
        self._console = console
        self._width = width
        self._model = ProgressModel()
        self._live: Live | None = None
        self._write = threading.Lock()
        self._seen = time.monotonic()  # when the latest event came (the real clock)

    # -- the hook -----------------------------------------------------------------------------

    def __call__(self, event: Event, /) -> None:
        """Take in one event; print the lines it gives."""
        notices = self._model(event)
        self._seen = time.monotonic()
        for notice in notices:
            self._say(notice)

    def _say(self, notice: Notice) -> None:
        if self._live is not None:
            from rich.text import Text

            console = self._live.console
            for line in notice.lines(console.width):
                console.print(Text(line, no_wrap=True, overflow="ellipsis"), highlight=False)
            return
        with self._write:
            self._stream.write("".join(line + "\n" for line in notice.lines(self._width)))
            self._stream.flush()

    # -- the live table -----------------------------------------------------------------------

    def __enter__(self) -> TerminalProgress:
        """Start the live table (``live=True``)."""
        if self._wanted and self._live is None:
            from rich.console import Console
            from rich.live import Live

            console = self._console or Console(file=self._stream, highlight=False)
            self._live = Live(
                console=console,
                get_renderable=self.view,
                refresh_per_second=REFRESH_PER_SECOND,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Print the line of a round still open (the run ended); draw the table one last time."""
        for notice in self._model.finish():
            self._say(notice)
        if self._live is not None:
            self._live.stop()
            self._live = None

    def now(self) -> datetime | None:
        """The run's time now: its latest event's, plus the real time since (None: none yet).

        The run's clock may be a fake one (tests, the sandbox): counting on from its
        latest event keeps the time left moving while the run sleeps, either way.
        """
        latest = self._model.latest
        if latest is None:
            return None
        return latest + timedelta(seconds=time.monotonic() - self._seen)

    def view(self, width: int | None = None) -> RenderableType:
        """The live table as it stands now: a line per key, at most ``width`` columns.

        ``width`` defaults to the console's. An organization's table has an account
        column and no count of checks (each round's line says it); the last check's
        result wraps onto a second line rather than push the other columns off.
        """
        from rich import box
        from rich.table import Table

        now = self.now()
        accounts = {a.account_id: a for a in self._model.each_account()}
        keys = self._model.each_key()
        if now is None or not keys:
            return Table(title="rootkeys: starting…", box=None)
        many = len(accounts) > 1
        one = next(iter(accounts.values()))
        title = (
            f"rootkeys · {len(accounts)} accounts"
            if many
            else f"rootkeys · account {one.account_id} · round {one.rounds}"
        )
        header = ["key", "phase", "left", "checks", "last check", "next"]
        rows = []
        for key in keys:
            account = accounts.get(key.account_id)
            left = key.left(now)
            cells = [
                key.key_id,
                key.phase.value,
                short(left) if left is not None else "-",
                str(key.checks),
                str(key.last) if key.last else "-",
                key.next_action(now, account.next_pass if account else None),
            ]
            rows.append([key.account_id, *cells[:3], *cells[4:]] if many else cells)
        if many:
            header = ["account", *header[:3], *header[4:]]
        last = header.index("last check")
        widths = [
            max(_RESERVED.get(name, 0), *(len(row[i]) for row in [header, *rows]))
            for i, name in enumerate(header)
        ]
        room = (width or self._width_now()) - sum(widths) + widths[last] - _GAP * (len(header) - 1)
        table = Table(
            title=title,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
            show_edge=False,
        )
        for i, name in enumerate(header):
            if i == last:
                table.add_column(name, overflow="fold", max_width=max(room, len(name)))
            else:
                justify: JustifyMethod = "right" if name == "checks" else "left"
                table.add_column(name, no_wrap=True, min_width=widths[i], justify=justify)
        for row in rows:
            table.add_row(*row)
        return table

    def _width_now(self) -> int:
        console = self._live.console if self._live is not None else self._console
        return console.width if console is not None else self._width


_GAP = 2
"""Columns between two of the live table's columns."""
_RESERVED = {
    "phase": max(len(phase) for phase in Phase),
    "left": len("23h59m"),
    "next": max(
        len(text) for text in (*NEXT.values(), "delete, if checks pass", "checks next pass")
    ),
}
"""Room kept for the texts a column will show as the run goes, so the table keeps its shape."""
