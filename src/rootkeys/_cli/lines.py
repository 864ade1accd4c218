"""Progress as event lines on stderr (one per tick of the window)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TextIO

import rootkeys
from rootkeys._render import span

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Lines"]


class Lines:
    """A hook that tells the terminal how a run goes: steps, checks, time left."""

    def __init__(self, out: TextIO, *, live: bool = False) -> None:
        self._out = out
        self._until: datetime | None = None
        self._checks = 0
        self._last_tick: datetime | None = None

    def __enter__(self) -> Lines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def __call__(self, event: rootkeys.Event) -> None:
        """Print the events a person watching wants to see (on stderr)."""
        kind = rootkeys.EventKind
        if event.kind is kind.OBSERVING:
            self._until = event.until
        if event.kind is kind.CHECK_PASSED:
            self._checks += 1
            if self._last_tick == event.at:
                return  # one line per tick of the window, not per check
            self._last_tick = event.at
            left = (self._until - event.at) if self._until else None
            when = f"; {span(left)} left in the window" if left and left > timedelta(0) else ""
            self._say(event, f"checks passing ({self._checks} run){when}")
            return
        if event.kind in (kind.RECONCILED, kind.KEY_FOUND) and not event.message:
            return
        text = f"{event.kind.value}{' ' + event.key_id if event.key_id else ''}"
        self._say(event, f"{text}: {event.message}" if event.message else text)

    def _say(self, event: rootkeys.Event, text: str) -> None:
        where = f"{event.account_id} " if event.account_id else ""
        print(f"[{event.at:%H:%M:%S}] {where}{text}", file=self._out, flush=True)
