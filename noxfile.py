"""Every check rootkeys runs, as nox sessions. `nox` alone runs the test gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "mypy", "lint", "template", "docs"]
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


TEMPLATE = "src/rootkeys/deploy/rootkeys.yaml"


@nox.session
def template(session: nox.Session) -> None:
    """cfn-lint on the deployment template, informational rules included.

    The role it grants is tested against the calls a pass makes by tests/test_template.py.
    """
    session.install("cfn-lint>=1.20,<2")
    session.run("cfn-lint", "--include-checks", "I", "--", TEMPLATE)


@nox.session(name="lambda_package")
def lambda_package(session: nox.Session) -> None:
    """The function's zip for the template: rootkeys and its dependencies, for Lambda.

    ``nox -s lambda_package`` builds build/lambda/rootkeys-lambda-arm64.zip (Lambda's
    python3.12 on arm64, the template's default); ``-- x86_64`` builds for x86_64. Only
    wheels are used (``--only-binary``), so the zip holds what Lambda's Linux can load,
    whatever machine builds it. Upload it to S3 and give its bucket and key to the stack.
    """
    arch = session.posargs[0] if session.posargs else "arm64"
    platforms = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
    if arch not in platforms:
        session.error(f"the architecture is arm64 or x86_64, not {arch!r}")
    out = Path("build/lambda")
    wheels, target = out / "wheels", out / f"python-{arch}"
    for folder in (wheels, target):
        shutil.rmtree(folder, ignore_errors=True)
    session.run("python", "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), ".")
    (wheel,) = wheels.glob("rootkeys-*.whl")
    session.run(
        "python", "-m", "pip", "install", "--quiet", "--target", str(target),
        "--platform", platforms[arch], "--implementation", "cp", "--python-version", "3.12",
        "--only-binary=:all:", str(wheel),
    )  # fmt: skip
    archive = shutil.make_archive(str(out / f"rootkeys-lambda-{arch}"), "zip", target)
    session.log(f"built {archive}")


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
