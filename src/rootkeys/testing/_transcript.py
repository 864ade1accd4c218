"""A real session of the ``rootkeys`` command on the sandbox, for docs/cli.md.

The docs build (``docs/hooks/cli_output.py``) runs `transcript` and puts each step's
real output where docs/cli.md has a ``<!-- rootkeys-cli: NAME -->`` marker, so the page
cannot drift from the command; tests/test_cli_docs.py runs it too and checks every
output fits 100 columns and every marker names a step.

The session: an account whose root user has two keys, signed in as root from the
environment (as in CloudShell), a journal of its own, and a health URL on loopback that
the script makes fail and recover.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from rootkeys.testing._credential_setup import MIXED
from rootkeys.testing._sandbox import Sandbox
from rootkeys.testing._shell import session_credentials

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

__all__ = ["Step", "transcript"]


@dataclass(frozen=True)
class Step:
    """One command of the session and what it printed."""

    name: str
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def shown(self) -> str:
        """As a terminal shows it: the command, then stderr and stdout, then the code."""
        lines = [f"$ rootkeys {' '.join(self.argv)}"]
        lines += [line.rstrip() for line in self.err.splitlines()]
        lines += [line.rstrip() for line in self.out.splitlines()]
        lines.append(f"$ echo $?\n{self.code}")
        return "\n".join(lines)


class _Health:
    """A loopback health endpoint whose answer the script sets."""

    def __init__(self) -> None:
        self.status = 200
        health = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                self.send_response(health.status)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/health"

    @contextlib.contextmanager
    def serving(self) -> Iterator[_Health]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@contextlib.contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """``values`` in the environment while inside (None: unset)."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def transcript() -> dict[str, Step]:
    """Run the documented session; each step by name."""
    from rootkeys.cli import main

    steps: dict[str, Step] = {}

    def run(name: str, *argv: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out=out, err=err)
        steps[name] = Step(name, argv, code, out.getvalue(), err.getvalue())

    with (
        Sandbox() as sandbox,
        tempfile.TemporaryDirectory() as tmp,
        _Health().serving() as health,
    ):
        account = sandbox.create_account(root_keys=2)
        key = account.root_key_ids[0]
        credentials = sandbox.root_credentials(account.account_id)
        env = {
            **credentials,
            "AWS_DEFAULT_REGION": "us-east-1",
            "ROOTKEYS_JOURNAL": str(Path(tmp) / "journal.db"),
        }
        script: list[tuple[Callable[[], None] | None, str, tuple[str, ...]]] = [
            (None, "plan", ("plan", "--observe", "7d", "--no-evidence")),
            (None, "verify-before", ("verify",)),
            (
                None,
                "remove-staged",
                ("remove", "--observe", "7d", "--check-url", health.url, "--no-wait", "--yes"),
            ),
            (None, "status", ("status",)),
            (None, "csv", ("status", "--output", "csv")),
            (None, "history", ("history", key)),
            (
                lambda: setattr(health, "status", 503),
                "remove-fails",
                ("remove", "--observe", "7d", "--check-url", health.url, "--no-wait", "--yes"),
            ),
            (None, "remove-held", ("remove", "--observe", "7d", "--no-wait", "--yes")),
            (lambda: setattr(health, "status", 200), "resume", ("resume",)),
            (
                None,
                "remove-done",
                ("remove", "--observe", "0", "--check-url", health.url, "--yes", "--quiet"),
            ),
            (None, "verify", ("verify",)),
            (None, "credentials", ("credentials",)),
        ]
        with _environment(env):
            for before, name, argv in script:
                if before is not None:
                    before()
                run(name, *argv)
        organization = sandbox.create_organization(
            members=2, root_keys=1, root_features=False, credentials=MIXED[1:]
        )
        member, signs_in = organization.member_account_ids
        management = session_credentials(sandbox.management_session())
        org_script: list[tuple[str, tuple[str, ...]]] = [
            ("org-status", ("org", "status")),
            ("org-enable", ("org", "enable", "--yes")),
            ("audit", ("audit",)),
            ("credentials-org", ("credentials", "--org")),
            ("plan-org", ("plan", "--org", "--observe", "7d")),
            (
                "plan-org-password",
                ("plan", "--org", "--policy", "--password", "--mfa", "--accounts", signs_in),
            ),
            ("remove-org", ("remove", "--org", "--observe", "7d", "--no-wait", "--yes")),
            ("status-org", ("status", "--org", "--accounts", member)),
            ("rollback-org", ("rollback", "--org", "--accounts", member, "--yes")),
            ("resume-org", ("resume", "--org", "--accounts", member)),
        ]
        signed = {"AWS_SESSION_TOKEN": None, **management}  # none of the root's
        with _environment({**env, **signed}):
            for name, argv in org_script:
                run(name, *argv)
    return steps
