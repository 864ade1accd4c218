"""``python -m benchmarks``: every benchmark, one after another."""

from __future__ import annotations

import sys

from benchmarks import audit, cost, evidence, imports


def main() -> int:
    """Run them all; the audit's arguments come from the command line."""
    status = imports.main([])
    status |= evidence.main([])
    status |= cost.main([])
    status |= audit.main(sys.argv[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
