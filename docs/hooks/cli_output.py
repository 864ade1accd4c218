"""MkDocs hook: docs/cli.md shows the real output of each command, made at build time.

A ``<!-- rootkeys-cli: NAME -->`` line in a page is replaced by the command and what it
printed in the session of ``rootkeys.testing._transcript`` (run once per build, on the
sandbox), so the page cannot drift from the command line.
"""

from __future__ import annotations

import re
from typing import Any

_MARKER = re.compile(r"^<!-- rootkeys-cli: (?P<name>[a-z-]+) -->$", re.MULTILINE)
_steps: dict[str, Any] | None = None


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each marker with its step's output, as a fenced block."""
    global _steps
    if not _MARKER.search(markdown):
        return markdown
    if _steps is None:
        from rootkeys.testing._transcript import transcript

        _steps = transcript()
    steps = _steps

    def shown(found: re.Match[str]) -> str:
        name = found["name"]
        if name not in steps:
            raise KeyError(f"docs: no step named {name!r} in the CLI transcript")
        return f"```text\n{steps[name].shown()}\n```"

    return _MARKER.sub(shown, markdown)
