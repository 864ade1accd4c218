"""How results are printed, and how a person is asked before a change.

A table (fitted to 100 columns, or ``--wide``), one JSON document, or CSV rows. A held
key's resume hint shows the command alone: the library's adds the Python call.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING, Any

from rootkeys._cli.context import command_only
from rootkeys._errors import InputError
from rootkeys._render import WIDTH, Table, Tabular

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rootkeys._cli.context import Context

__all__ = [
    "JSON_SCHEMA_VERSION",
    "commands_only",
    "confirm",
    "emit",
    "emit_each",
    "must_ask",
    "must_be_able_to_ask",
    "tell",
]

JSON_SCHEMA_VERSION = 1


def commands_only(result: Any) -> Any:
    """A plan or status (or a list of them) with each resume hint as the command alone."""
    from rootkeys._reports import Plan, RemovalStatus

    if isinstance(result, list):
        return [commands_only(item) for item in result]
    if not isinstance(result, Plan | RemovalStatus) or not any(k.resume for k in result.keys):
        return result
    keys = tuple(
        k.model_copy(update={"resume": command_only(k.resume)}) if k.resume else k
        for k in result.keys
    )
    return result.model_copy(update={"keys": keys})


def tell(context: Context, result: Tabular) -> None:
    """Show a result's table on stderr (a plan or status before a question)."""
    context.say(commands_only(result).table(wide=context.args.wide))


def emit(context: Context, result: Any, table: Table | None = None) -> None:
    """Print a result: its table (or ``table``), one JSON document, or CSV rows."""
    args, out = context.args, context.out
    result = commands_only(result)
    if args.output == "json":
        document = {
            "command": args.command,
            "schema_version": JSON_SCHEMA_VERSION,
            "result": _jsonable(result),
        }
        print(json.dumps(document, indent=2, sort_keys=True), file=out)
        return
    items = _items(result)
    whole = args.wide or args.output == "csv"  # CSV is data: every column, every text
    tables = [table] if table is not None else [_table(item, wide=whole) for item in items]
    if args.output == "csv":
        several = table is None and isinstance(result, list)
        accounts = [getattr(item, "account_id", None) for item in items] if several else []
        _csv(out, tables, accounts)
        return
    for each in tables:
        print(_text(each, wide=args.wide), file=out)


def emit_each(context: Context, results: Iterable[Tabular]) -> None:
    """Print results that stream (one per account): each as it comes, or one document."""
    if context.args.output != "table":
        emit(context, list(results))
        return
    wide = context.args.wide
    for result in results:
        shown = _table(commands_only(result), wide=wide)
        print(_text(shown, wide=wide), file=context.out, flush=True)


def _items(result: Any) -> list[Any]:
    return list(result) if isinstance(result, list) else [result]


def _table(item: Any, *, wide: bool) -> Table:
    """The item's table: with ``wide``, the one with every column."""
    if isinstance(item, Table):
        return item
    if isinstance(item, Tabular):
        return item._table(wide=wide)
    raise TypeError(f"no table for {type(item).__name__}")  # a programming error


def _text(table: Table, *, wide: bool) -> str:
    return table.text(None if wide else WIDTH)


def _csv(out: Any, tables: Sequence[Table], accounts: Sequence[str | None]) -> None:
    """One header, then every table's rows: data, no titles.

    Tables of several accounts (``--org``) get an ``account`` column first, so every row
    says whose it is.
    """
    writer = csv.writer(out, lineterminator="\n")
    named = bool(accounts) and any(accounts)
    header_written = False
    for index, table in enumerate(tables):
        account = str(accounts[index] or "") if named else None
        if not header_written and table.rows:
            writer.writerow((["account"] if named else []) + list(table.header))
            header_written = True
        for row in table.rows:
            writer.writerow(([account] if named else []) + [str(cell) for cell in row])
    if not header_written and tables:
        writer.writerow((["account"] if named else []) + list(tables[0].header))


def _jsonable(result: Any) -> Any:
    if isinstance(result, list):
        return [_jsonable(item) for item in result]
    if isinstance(result, dict | bool | str | int | float) or result is None:
        return result
    return result.model_dump(mode="json")


def confirm(context: Context, what: str) -> bool:
    """Ask before a change; ``--yes`` answers for automation. A no says nothing changed."""
    if context.option("yes", False):
        return True
    print(f"{what} Proceed? [y/N] ", end="", file=context.err, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return True
    print("nothing changed", file=context.err)
    return False


def must_be_able_to_ask(context: Context) -> None:
    """Refuse a change that cannot be confirmed: no ``--yes`` and no terminal to ask on."""
    changes = context.command in ("remove", "rollback", "recover-password")
    if changes:
        must_ask(context)


def must_ask(context: Context) -> None:
    """Refuse now if a question is due and cannot be asked (no ``--yes``, no terminal)."""
    if not context.option("yes", False) and not sys.stdin.isatty():
        raise InputError(
            "refusing to change anything without confirmation: no terminal to ask on "
            "(pass --yes to confirm in automation)"
        )
