"""One table, two renderings: plain text for terminals and logs, HTML for notebooks.

Plain text fits `WIDTH` (100) columns by default: a report picks its compact columns, and
cells too long for their column wrap within it, the longest columns giving way first;
titles and notes wrap too. ``table(wide=True)`` shows every column and every text whole.

And the words every table uses for time: `span` (a duration as a person writes it,
``7d``, ``1d12h``), `stamp` (a time in UTC, ``2026-12-02 05:24Z``; to the second,
``05:24:31Z``, beside a time less than an hour away, where minutes may not tell the two
apart) and `ago`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from rootkeys._errors import InputError

__all__ = ["MIN_WIDTH", "WIDTH", "Table", "Tabular", "ago", "clip", "span", "stamp"]

WIDTH = 100
"""The columns every plain-text table fits by default."""

MIN_WIDTH = 40
"""The narrowest width a table may be asked to fit."""

_GAP = "  "


@dataclass(frozen=True)
class Table:
    """A titled table with lines before (warnings) and after (notes) it."""

    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    before: Sequence[str] = ()
    after: Sequence[str] = ()
    empty: str = "nothing to show"

    def text(self, width: int | None = WIDTH) -> str:
        """Aligned columns, two spaces in; what ``table()`` returns.

        Args:
            width: the columns every line fits: long cells wrap within their column (the
                widest columns narrowed first), and the title and notes wrap. ``None``
                keeps every line whole, however long.
        """
        lines = _wrap(self.title, width, "", "    ")
        for note in self.before:
            lines += _wrap(note, width, "  ", "    ")
        if self.rows:
            lines += self._grid(width)
        elif self.empty:
            lines += _wrap(self.empty, width, "  ", "    ")
        for note in self.after:
            lines += _wrap(note, width, "  ", "    ")
        return "\n".join(lines)

    def _grid(self, width: int | None) -> list[str]:
        cells = [tuple(str(c) for c in row) for row in [self.header, *self.rows]]
        natural = [max(len(row[i]) for row in cells) for i in range(len(self.header))]
        widths = natural
        if width is not None:
            widths = _fit(natural, width - len(_GAP) * len(natural))
        grid: list[str] = []
        if any(self.header):  # a table of labels and values has no header to show
            grid += _row(cells[0], widths, wrap=width is not None)
            grid += _row(tuple("-" * w for w in widths), widths, wrap=False)
        for row in cells[1:]:
            grid += _row(row, widths, wrap=width is not None)
        return grid

    def html(self) -> str:
        """A small HTML table; what Jupyter shows (``_repr_html_``)."""
        parts = [f"<div><p><strong>{escape(self.title)}</strong></p>"]
        parts.extend(f"<p style='color:#b00'>{escape(b)}</p>" for b in self.before)
        if self.rows:
            head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in self.header)
            body = "".join(
                "<tr>"
                + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>" for c in r)
                + "</tr>"
                for r in self.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif self.empty:
            parts.append(f"<p>{escape(self.empty)}</p>")
        parts.extend(f"<p>{escape(a)}</p>" for a in self.after)
        parts.append("</div>")
        return "".join(parts)


class Tabular:
    """Mixin: a model that describes itself as a `Table` gets ``table()`` and HTML.

    Each model builds its compact table (``_table()``) and its wide one
    (``_table(wide=True)``: every column, whole texts, times to the second).
    """

    def _table(self, wide: bool = False) -> Table:
        raise NotImplementedError

    def table(self, *, wide: bool = False, width: int = WIDTH) -> str:
        """As a plain-text table, for terminals and logs.

        Args:
            wide: every column and every text whole, unwrapped (the command line's
                ``--wide``): lines may be as long as their content.
            width: the columns the table fits when not ``wide`` (at least 40).

        Raises:
            InputError: ``width`` is not a whole number of at least 40.
        """
        if wide:
            return self._table(wide=True).text(None)
        given: object = width
        if isinstance(given, bool) or not isinstance(given, int) or given < MIN_WIDTH:
            raise InputError(f"width must be a whole number of columns, at least {MIN_WIDTH}")
        return self._table().text(width)

    def _repr_html_(self) -> str:
        return self._table(wide=True).html()


def span(window: timedelta, *, units: int | None = None) -> str:
    """A window as a person writes it: 7d, 12h, 1d12h, 30m, 0.

    Args:
        window: the duration (whole seconds; a negative one is written with ``-``).
        units: keep this many units, from the largest on (``units=2``: ``6d23h``, ``1m48s``,
            and ``1d`` for one day, no hours and five minutes); None keeps them all.
    """
    seconds = int(window.total_seconds())
    if seconds == 0:
        return "0"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts: list[tuple[int, str]] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append((count, unit))
    kept = parts if units is None else parts[:units]
    return sign + "".join(f"{count}{unit}" for count, unit in kept if count)


def stamp(at: datetime, *, near: datetime | None = None) -> str:
    """A time in UTC, to the minute: ``2026-12-02 05:24Z`` (a naive time is taken as UTC).

    Args:
        at: the time.
        near: a time shown with it (the other end of its window, say): when they are less
            than an hour apart, minutes may not tell them apart, so ``at`` shows its
            seconds too: ``2026-12-02 05:24:31Z``.
    """
    utc = _utc(at)
    if near is not None and abs(utc - _utc(near)) < timedelta(hours=1):
        return f"{utc:%Y-%m-%d %H:%M:%S}Z"
    return f"{utc:%Y-%m-%d %H:%M}Z"


def ago(at: datetime, now: datetime) -> str:
    """How long before ``now`` (``3d ago``) or after it (``in 6h``), in two units at most."""
    seconds = int((now - at).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    rough = span(timedelta(seconds=abs(seconds)))
    units = [i for i, c in enumerate(rough) if c.isalpha()]
    rough = rough[: units[1] + 1] if len(units) > 1 else rough
    return f"{rough} ago" if seconds > 0 else f"in {rough}"


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def clip(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters, with ``…`` where it was cut (None: whole)."""
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(text: str, width: int | None, first: str, rest: str) -> list[str]:
    if width is None:
        return [first + text]
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _fit(natural: list[int], room: int) -> list[int]:
    """Column widths within ``room``: the widest columns narrowed to one cap, rest kept."""
    if sum(natural) <= room:
        return natural
    cap = max(natural)
    while cap > 1 and sum(min(w, cap) for w in natural) > room:
        cap -= 1
    widths = [min(w, cap) for w in natural]
    spare = room - sum(widths)
    for i in reversed(range(len(natural))):  # what is left goes back, last column first
        grow = min(spare, natural[i] - widths[i])
        widths[i] += grow
        spare -= grow
    return widths


def _row(cells: tuple[str, ...], widths: Sequence[int], *, wrap: bool) -> list[str]:
    if wrap:
        columns = [
            textwrap.wrap(c, max(w, 1), break_on_hyphens=False) or [""]
            for c, w in zip(cells, widths, strict=True)
        ]
    else:
        columns = [[c] for c in cells]
    height = max(len(c) for c in columns)
    lines = []
    for n in range(height):
        parts = [
            (c[n] if n < len(c) else "").ljust(w) for c, w in zip(columns, widths, strict=True)
        ]
        lines.append((_GAP + _GAP.join(parts)).rstrip())
    return lines
