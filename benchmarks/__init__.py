"""rootkeys' benchmarks: ``nox -s bench`` (see benchmarks/README.md)."""
