"""The module map holds: no import cycle, data flows one way, modules stay small.

docs/architecture.md draws the map; these tests keep the code true to it. Imports made
only for type checking count too: a cycle there is still a cycle a reader must untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "rootkeys"

# Each private module's layer. A module may import from its own layer and the layers
# below: entry classes -> the driver -> the engine (one pass) -> the decision and the
# lifecycle -> the adapters (gateways to AWS) -> the journal -> the base models.
LAYERS: dict[str, int] = {
    # entry classes, the command line, the public face
    "rootkeys": 9,
    "rootkeys.__main__": 9,
    "rootkeys.cli": 9,
    "rootkeys._cli": 9,
    "rootkeys._cli.app": 9,
    "rootkeys._cli.one": 9,
    "rootkeys._cli.org": 9,
    "rootkeys._cli.output": 9,
    "rootkeys._cli.context": 9,
    "rootkeys._cli.parser": 9,
    "rootkeys._cli.options": 9,
    "rootkeys._cli.root_access": 9,
    "rootkeys._cli.credentials": 9,
    "rootkeys._cli.recovery": 9,
    "rootkeys._cli.journal": 9,
    "rootkeys._manager": 8,
    "rootkeys._org": 8,
    "rootkeys._org_credentials": 8,
    "rootkeys._org_reads": 8,
    "rootkeys._config": 8,
    "rootkeys._config_sections": 8,
    "rootkeys._config_runs": 8,
    "rootkeys._scheduled": 9,
    "rootkeys._lambda_setup": 9,
    "rootkeys._terminal": 9,
    "rootkeys._notebook": 8,
    # the driver: passes over 1..N accounts, waiting between them
    "rootkeys._driver": 7,
    "rootkeys._member_runs": 7,
    "rootkeys._member_holds": 6,
    # the engine: plans, statuses, one pass, explicit resume and rollback
    "rootkeys._engine": 6,
    "rootkeys._pass": 6,
    "rootkeys._change": 6,
    "rootkeys._checks": 6,
    "rootkeys._notify": 6,
    # the decision and the lifecycle; what they report and tell hooks
    "rootkeys._decide": 5,
    "rootkeys._lifecycle": 5,
    "rootkeys._reports": 5,
    "rootkeys._orgreports": 5,
    "rootkeys._credentials": 5,
    "rootkeys._observe": 5,
    "rootkeys._progress": 5,
    # the adapters: AWS for one account, member accounts, the management account
    "rootkeys._management": 4,
    "rootkeys._member_keys": 4,
    "rootkeys._assume_root": 4,
    "rootkeys._quarantine": 4,
    "rootkeys._iam": 4,
    "rootkeys._iam_credentials": 4,
    "rootkeys._evidence": 4,
    "rootkeys._credential_report": 4,
    "rootkeys._preflight": 4,
    "rootkeys._compliance": 4,
    "rootkeys._root_access": 4,
    # the journal: storage, its records, what they remember of each key
    "rootkeys._reconcile": 3,
    "rootkeys._journal": 3,
    "rootkeys._journal_store": 3,
    "rootkeys._journal_sqlite": 3,
    "rootkeys._journal_dynamodb": 3,
    "rootkeys._journal_table": 3,
    "rootkeys._journal_leases": 3,
    "rootkeys._records": 3,
    # the base: models, findings, errors, retries, time, rendering, config lines, public homes
    "rootkeys._findings": 2,
    "rootkeys._controls": 2,
    "rootkeys._models": 1,
    "rootkeys._kinds": 0,
    "rootkeys._retry": 1,
    "rootkeys._render": 1,
    "rootkeys._clock": 1,
    "rootkeys._config_errors": 1,
    "rootkeys._errors": 0,
    "rootkeys._public": 0,
}
PUBLIC = {
    "aws_lambda",
    "errors",
    "checks",
    "config",
    "reports",
    "journal",
    "lifecycle",
    "notify",
    "retry",
    "clock",
}

# Modules longer than ~400 lines, each with the reason it stays whole.
LONG: dict[str, str] = {
    "rootkeys._manager": "the public face of one account: 14 documented public methods "
    "(half of it docstrings); every decision and pass is the engine's",
}
MAX_LINES = 450


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every rootkeys module ``path`` imports (type-only imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rootkeys"):
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (SRC.parent / (candidate.replace(".", "/") + ".py")).exists():
                    found.add(candidate)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("rootkeys")}
    return found - {_module(path)}


GRAPH = {_module(p): _imports(p) for p in SRC.rglob("*.py")}


def test_there_is_no_import_cycle() -> None:
    """No module imports, directly or not, one that imports it back (packages aside)."""
    packages = {"rootkeys", "rootkeys.testing"}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if target in packages:
                continue
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_cycle_check_can_fail() -> None:
    """The check finds a cycle when one is there (a guard against a check that never fails)."""
    GRAPH["rootkeys._models"].add("rootkeys._manager")
    try:
        with pytest.raises(AssertionError):
            test_there_is_no_import_cycle()
    finally:
        GRAPH["rootkeys._models"].discard("rootkeys._manager")


def test_every_private_module_has_a_layer() -> None:
    """A new module is placed on the map (and docs/architecture.md) before it lands."""
    library = {m for m in GRAPH if not m.startswith("rootkeys.testing")}
    expected = set(LAYERS) | {f"rootkeys.{p}" for p in PUBLIC}
    assert library == expected


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_data_flows_down(module: str) -> None:
    """A module imports only from its own layer and the layers below (the public submodules
    and the package re-export, so they sit on top)."""
    upward = [
        target for target in GRAPH[module] if target in LAYERS and LAYERS[target] > LAYERS[module]
    ]
    assert upward == []


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: _module(p))
def test_modules_stay_small(path: Path) -> None:
    """No module passes ~400 lines without a stated reason (house style)."""
    lines = len(path.read_text().splitlines())
    module = _module(path)
    if module in LONG:
        assert lines > MAX_LINES, f"{module} is short again: drop it from LONG"
    else:
        assert lines <= MAX_LINES, f"{module} has {lines} lines: split it, or state why not"
