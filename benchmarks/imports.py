"""Import time: ``import rootkeys`` beside ``import boto3``, each in a fresh interpreter.

``python -m benchmarks.imports`` times each import in new processes (the median of
``--runs``), and reports the ratio (target: rootkeys <= 1.5x boto3). The package loads
its modules when a name is first used, so it also times what a user pays on first use:
the single-account manager, and every public name. It checks that neither the sandbox
nor the CLI was imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = (
    "import json, sys, time; t = time.perf_counter(); {stmt}; "
    "print(json.dumps({{'seconds': time.perf_counter() - t, 'modules': sorted(sys.modules)}}))"
)


STATEMENTS = [
    "import boto3",
    "import rootkeys",
    "from rootkeys import RootKeyManager",
    "from rootkeys import *",
]


def probe(stmt: str) -> tuple[float, list[str]]:
    """The seconds ``stmt`` takes in a fresh interpreter, and the modules it loaded.

    Bytecode caching is on, so modules load from their ``.pyc`` as they do after
    ``pip install`` (which compiles them). With ``PYTHONDONTWRITEBYTECODE`` set, an
    editable install would be compiled from source on every run, which no user pays.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    found = json.loads(done.stdout)
    return found["seconds"], found["modules"]


def timed(runs: int) -> tuple[dict[str, float], set[str]]:
    """The median seconds of each statement, and every module any of them loaded.

    The statements take turns, round after round (after one round thrown away to write
    the bytecode), so a machine that slows down mid-run slows every statement alike.
    """
    seconds: dict[str, list[float]] = {stmt: [] for stmt in STATEMENTS}
    loaded: set[str] = set()
    for round_ in range(runs + 1):
        for stmt in STATEMENTS:
            took, modules = probe(stmt)
            if round_:
                seconds[stmt].append(took)
            loaded.update(modules)
    return {stmt: statistics.median(s) for stmt, s in seconds.items()}, loaded


def main(argv: list[str] | None = None) -> int:
    """Run the import benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    medians, loaded = timed(args.runs)
    boto3 = medians.pop("import boto3")
    print(f"import time, median of {args.runs} fresh interpreters each, taking turns")
    print(f"  {'import boto3':36} {boto3 * 1000:6.0f} ms")
    for stmt, ours in medians.items():
        target = " (target <= 1.5x)" if stmt == "import rootkeys" else ""
        print(f"  {stmt:36} {ours * 1000:6.0f} ms = {ours / boto3:.2f}x boto3{target}")
    unwanted = sorted(
        m for m in loaded if m.startswith(("rootkeys.testing", "rootkeys.cli", "moto"))
    )
    print(f"  sandbox or CLI imported: {unwanted or 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
