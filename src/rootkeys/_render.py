"""One table, two renderings: plain text for terminals and logs, HTML for notebooks.

And `span`: a duration as a person writes it (``7d``, ``1d12h``), for every table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import timedelta

__all__ = ["Table", "Tabular", "span"]


@dataclass(frozen=True)
class Table:
    """A titled table with lines before (warnings) and after (notes) it."""

    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    before: Sequence[str] = ()
    after: Sequence[str] = ()
    empty: str = "nothing to show"

    def text(self) -> str:
        """Aligned columns, two spaces in; what ``table()`` returns."""
        if not self.rows:
            return "\n".join([self.title, f"  {self.empty}", *(f"  {a}" for a in self.after)])
        widths = [
            max(len(str(r[i])) for r in [self.header, *self.rows]) for i in range(len(self.header))
        ]
        fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
        grid = [fmt.format(*self.header), fmt.format(*("-" * w for w in widths))]
        grid.extend(fmt.format(*r) for r in self.rows)
        return "\n".join(
            [
                self.title,
                *(f"  {b}" for b in self.before),
                *(line.rstrip() for line in grid),
                *(f"  {a}" for a in self.after),
            ]
        )

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
        else:
            parts.append(f"<p>{escape(self.empty)}</p>")
        parts.extend(f"<p>{escape(a)}</p>" for a in self.after)
        parts.append("</div>")
        return "".join(parts)


class Tabular:
    """Mixin: a model that describes itself as a `Table` gets ``table()`` and HTML."""

    def _table(self) -> Table:
        raise NotImplementedError

    def table(self) -> str:
        """As a plain-text table, for terminals and logs."""
        return self._table().text()

    def _repr_html_(self) -> str:
        return self._table().html()


def span(window: timedelta) -> str:
    """A window as a person writes it: 7d, 12h, 1d12h, 30m, 0."""
    seconds = int(window.total_seconds())
    if seconds == 0:
        return "0"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
