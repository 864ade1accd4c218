"""The sandbox from a shell (`serve_main`), and sandbox runs never touching a real journal.

(The demo and the docs examples are checked for that where they run: test_public_api,
test_docs, test_notebook.)
"""

from __future__ import annotations

import io
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

import rootkeys
from rootkeys.testing import Sandbox, ServedSandbox, serve_main

EXPORT = re.compile(r"^export (?P<name>[A-Z_]+)=(?P<value>.+)$")


def _exports(text: str) -> dict[str, str]:
    """The ``export NAME=value`` lines of serve_main's output, as a shell would read them."""
    found = {}
    for line in text.splitlines():
        match = EXPORT.match(line)
        if match:
            (value,) = shlex.split(match["value"])
            found[match["name"]] = value
    return found


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of our own: the per-user journal would land in it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("ROOTKEYS_JOURNAL", raising=False)
    return home


def _journals_in(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if "rootkeys" in p.name or p.suffix == ".sqlite3"]


def _command_env(home: Path, exports: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROOTKEYS_"))}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / ".local" / "state"))
    env.update(exports)
    return env


def test_a_served_sandbox_answers_rootkeys_in_another_process(home: Path) -> None:
    """`serve_main` in its own process prints what to export; `python -m rootkeys plan`
    with those variables sees the sandbox's keys (evidence included, no error page) and
    writes nothing to the user's journal; SIGINT stops the sandbox with exit 0."""
    command = (
        "import sys; from rootkeys.testing import serve_main; sys.exit(serve_main(sys.stdout))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_command_env(home, {}),
    ) as server:
        try:
            assert server.stdout is not None
            printed = []
            for line in server.stdout:
                printed.append(line)
                if line.startswith("# Ctrl-C"):
                    break
            text = "".join(printed)
            exports = _exports(text)
            assert set(exports) >= {
                "AWS_ENDPOINT_URL",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_DEFAULT_REGION",
                "ROOTKEYS_JOURNAL",
            }
            assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
            assert f"{exports['AWS_ENDPOINT_URL']}/_sandbox/health" in text
            keys = re.findall(r"AKIA[A-Z0-9]{16}", text)
            assert len(keys) == 2
            plan = subprocess.run(
                [sys.executable, "-m", "rootkeys", "plan", "--observe", "1d"],
                env=_command_env(home, exports),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert plan.returncode == 0, plan.stderr
            for key in keys:
                assert key in plan.stdout
            assert "CloudTrail event" in plan.stdout
            assert "cn-" not in plan.stdout
            assert "<html" not in plan.stdout.lower()
            assert _journals_in(home) == []
            server.send_signal(signal.SIGINT)
            rest, errors = server.communicate(timeout=30)
            assert server.returncode == 0, errors
            assert "the sandbox stopped" in rest
            assert not Path(exports["ROOTKEYS_JOURNAL"]).parent.exists()
        finally:
            if server.poll() is None:
                server.kill()


@pytest.fixture
def served_org() -> Iterator[tuple[ServedSandbox, io.StringIO, list[int]]]:
    """serve_main with an organization of two members, in a thread; stopped afterwards."""
    out = io.StringIO()
    ready: queue.Queue[ServedSandbox] = queue.Queue()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve_main(out, accounts=2, keys=1, organization=True, ready=ready.put)
        ),
        daemon=True,
    )
    thread.start()
    served = ready.get(timeout=60)
    yield served, out, codes
    served.stop()
    thread.join(30)


def test_a_served_organization_signs_as_its_management_account(
    served_org: tuple[ServedSandbox, io.StringIO, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an organization, the exported credentials audit every member through the
    endpoint; `stop` ends serve_main with 0."""
    served, out, codes = served_org
    exports = _exports(out.getvalue())
    assert exports == dict(served.environment)
    monkeypatch.setenv("AWS_ENDPOINT_URL", exports["AWS_ENDPOINT_URL"])
    session = boto3.Session(
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exports.get("AWS_SESSION_TOKEN"),
        region_name=exports["AWS_DEFAULT_REGION"],
    )
    before = len(served.sandbox.calls)
    audits = {a.account_id: a for a in rootkeys.Organization(session, journal=False).audit()}
    assert set(served.account_ids) <= set(audits)
    assert all(len(audits[member].keys) == 1 for member in served.account_ids)
    assert all(c.served for c in served.sandbox.calls[before:])
    served.stop()
    for _ in range(60):
        if codes:
            break
        threading.Event().wait(0.1)
    assert codes == [0]


@pytest.mark.parametrize(
    "kwargs",
    [{"keys": 3}, {"accounts": 0}, {"port": 70000}, {"accounts": True}],
    ids=["three-keys", "no-account", "bad-port", "a-bool"],
)
def test_serve_main_refuses_bad_input_before_serving(kwargs: dict[str, object]) -> None:
    """Out-of-range numbers are one InputError, before anything is built."""
    with pytest.raises(rootkeys.InputError):
        serve_main(io.StringIO(), **kwargs)  # type: ignore[arg-type]


def test_inside_a_sandbox_the_default_journal_is_the_sandboxs(home: Path) -> None:
    """A manager made without journal= records in the sandbox's own journal, which goes
    with the sandbox; an explicit journal is still used."""
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=1)
        manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id))
        manager.remove_all(observe_for=timedelta(0))
        journal = manager.journal
        assert journal is not None
        assert journal.path == sandbox.journal_path
        assert journal.records(account.account_id)
        explicit = home / "mine.sqlite3"
        other = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), journal=explicit)
        assert other.journal is not None
        assert other.journal.path == explicit
        folder = sandbox.journal_path.parent
    assert not folder.exists()
    assert rootkeys.journal.default_journal_path() == home / ".local/state/rootkeys/journal.sqlite3"


def test_rootkeys_journal_names_the_default_journal(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ROOTKEYS_JOURNAL, when set, is the journal used when none is given."""
    monkeypatch.setenv("ROOTKEYS_JOURNAL", str(home / "elsewhere.sqlite3"))
    assert rootkeys.journal.default_journal_path() == home / "elsewhere.sqlite3"
    with rootkeys.Journal() as journal:
        assert journal.path == home / "elsewhere.sqlite3"


def test_a_served_organization_may_start_with_root_access_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rootkeys sandbox serve --org --root-access-off`: `org enable` has work to do."""
    out = io.StringIO()
    ready: queue.Queue[ServedSandbox] = queue.Queue()
    thread = threading.Thread(
        target=lambda: serve_main(
            out, accounts=1, keys=1, organization=True, root_access=False, ready=ready.put
        ),
        daemon=True,
    )
    thread.start()
    served = ready.get(timeout=60)
    try:
        exports = _exports(out.getvalue())
        monkeypatch.setenv("AWS_ENDPOINT_URL", exports["AWS_ENDPOINT_URL"])
        session = boto3.Session(
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=exports.get("AWS_SESSION_TOKEN"),
            region_name=exports["AWS_DEFAULT_REGION"],
        )
        organization = rootkeys.Organization(session, journal=False)
        assert organization.root_access().changes  # off: enabling has calls to make
        assert not organization.enable_root_access().changes
    finally:
        served.stop()
        thread.join(30)
