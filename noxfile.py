"""Every check rootkeys runs, as nox sessions. `nox` alone runs the test gate."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "mypy", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, on the sandbox (no AWS account, no network)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def mypy(session: nox.Session) -> None:
    """mypy --strict on the library and on a file that uses the API as a user would."""
    session.install("-e", ".[typing]")
    session.run("mypy", "src", "tests/typing")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def campaign(session: nox.Session) -> None:
    """The long fault campaign: 10,000 randomized scenarios (``-- --runs N`` for more)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.campaign", *(session.posargs or ["--runs", "10000"]))


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (organization audit, CloudTrail pacing, import time), as ratios.

    ``nox -s bench -- --headline`` adds 10,000 accounts at 50 ms per call.
    """
    session.install("-e", ".[sandbox]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (MkDocs), built strictly: any warning fails.

    The example notebook is executed as the site is built (the ``docs`` extra brings the
    sandbox, a kernel and mkdocs-jupyter), so the outputs the site shows cannot go stale.
    """
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "build/site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def demo(session: nox.Session) -> None:
    """The walk-through on the built-in sandbox: plan, deactivate, observe, delete."""
    session.install("-e", ".[sandbox]")
    session.run("rootkeys", "demo", *session.posargs)
