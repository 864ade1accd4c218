"""A config error in the file's words: on which line, and what is wrong.

`tomllib` gives values without positions, so `key_lines` reads the text once more, line
by line, for the tables (``[a.b]``, ``[[a.b]]``, counted) and keys (``a.b = ...``) it
declares; `line_of` finds the line of a key path such as ``("checks", "http", 0, "url")``,
or of its nearest declared parent. It only needs to understand valid TOML (the text has
parsed), and is a locator, not a parser: a multi-line array's or inline table's keys
point at the line their key starts on. `message` says a validation error as a person
reads it (``unknown key; did you mean observe?``).
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["key_lines", "line_of", "message", "path_of", "shown", "toml_error_line"]

KeyPath = tuple[int | str, ...]
"""Where a value is in the file: table and key names, array indexes."""

_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")
_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _dotted(text: str) -> tuple[list[str], str] | None:
    """The dotted key at the start of ``text`` and what follows it, or None."""
    parts: list[str] = []
    pos = 0
    while True:
        found = _PART.match(text, pos)
        if found is None:
            return None
        parts.append(next(g for g in found.groups() if g is not None))
        pos = found.end()
        if not text.startswith(".", pos):
            return parts, text[pos:]
        pos += 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """The line (1-based) each table and key of ``text`` is declared on."""
    lines: dict[KeyPath, int] = {}
    counts: dict[KeyPath, int] = {}
    table: KeyPath = ()
    closing: str | None = None  # inside a multi-line string: its closing quotes
    for number, line in enumerate(text.splitlines(), 1):
        if closing is not None:
            if closing in line:
                closing = None
            continue
        stripped = line.strip()
        if stripped.startswith("[["):
            header = _dotted(stripped[2:])
            if header is not None and header[1].startswith("]]"):
                path = tuple(header[0])
                index = counts.get(path, 0)
                counts[path] = index + 1
                table = (*path, index)
                lines.setdefault(path, number)
                lines[table] = number
                continue
        elif stripped.startswith("["):
            header = _dotted(stripped[1:])
            if header is not None and header[1].startswith("]"):
                table = tuple(header[0])
                lines.setdefault(table, number)
                continue
        pair = _dotted(stripped)
        if pair is None or not pair[1].startswith("="):
            continue
        lines.setdefault((*table, *pair[0]), number)
        value = pair[1][1:].lstrip()
        for quotes in ('"""', "'''"):
            if value.startswith(quotes) and quotes not in value[3:]:
                closing = quotes
    return lines


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest parent that has one (None: none has)."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None


def toml_error_line(message: str, text: str) -> tuple[int | None, str]:
    """A `tomllib` error's line in ``text``, and its message without the position."""
    found = _WHERE.search(message)
    if found is not None:
        return int(found[1]), f"{message[: found.start()]} (column {found[2]})"
    end = message.find(" (at end of document)")
    if end >= 0:
        return max(len(text.splitlines()), 1), message[:end]
    return None, message


def path_of(loc: KeyPath) -> KeyPath:
    """A pydantic error location as a path in the file (a table's key is its name)."""
    return tuple(part for part in loc if part != "[key]")


def shown(path: KeyPath) -> str:
    """A path as TOML writes it: ``checks.http[0].url``, ``keys."a.b"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            bare = part.replace("_", "").replace("-", "").isalnum()
            text += ("." if text else "") + (part if bare else f'"{part}"')
    return text


def message(error: Any, model: type[BaseModel] | None) -> str:
    """One validation error as a person reads it."""
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        allowed = _allowed(model, path_of(error["loc"])[:-1])
        key = str(error["loc"][-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {close[0]}?" if close else "expected one of " + ", ".join(allowed)
        return f"unknown key; {hint}"
    return str(error["msg"])


def _allowed(model: type[BaseModel] | None, path: KeyPath) -> list[str]:
    """The keys the table at ``path`` may hold."""
    keyed = False  # the next part is a key of a table of tables ([accounts."<id>"])
    for part in path:
        if model is None or isinstance(part, int) or keyed:
            keyed = False
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        field = fields.get(part)
        annotation = field.annotation if field is not None else None
        keyed = getattr(annotation, "__origin__", None) is dict
        model = _model_in(annotation)
    if model is None:
        return []
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model a field holds, directly or in a list, a table or an Optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in getattr(annotation, "__args__", ()):
        found = _model_in(inner)
        if found is not None:
            return found
    return None
