"""Import time: ``import rootkeys`` beside ``import boto3``, each in a fresh interpreter.

``python -m benchmarks.imports`` times each import in new processes (the median of
``--runs``), and reports the ratio (target: rootkeys <= 1.5x boto3, which it imports).
It also checks that neither the sandbox nor the CLI was imported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = (
    "import json, sys, time; t = time.perf_counter(); {stmt}; "
    "print(json.dumps({{'seconds': time.perf_counter() - t, 'modules': sorted(sys.modules)}}))"
)


def timed(stmt: str, runs: int) -> tuple[float, list[str]]:
    """The median seconds ``stmt`` takes in a fresh interpreter, and the modules it loads."""
    seconds, modules = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(stmt=stmt)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(done.stdout)
        seconds.append(found["seconds"])
        modules = found["modules"]
    return statistics.median(seconds), modules


def main(argv: list[str] | None = None) -> int:
    """Run the import benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    boto3, _ = timed("import boto3", args.runs)
    ours, modules = timed("import rootkeys", args.runs)
    print(f"import time, median of {args.runs} fresh interpreters")
    print(f"  import boto3:    {boto3 * 1000:6.0f} ms")
    print(f"  import rootkeys: {ours * 1000:6.0f} ms = {ours / boto3:.2f}x boto3 (target <= 1.5x)")
    unwanted = [m for m in modules if m.startswith(("rootkeys.testing", "rootkeys.cli", "moto"))]
    print(f"  sandbox or CLI imported: {unwanted or 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
