"""The operator's story, from a shell, as issue 13 tells it: only a config file, the
sandbox served on loopback, every command a process of its own.

A removal whose HTTP check starts failing mid-window rolls back, exits 1 and prints the
command that resumes; `rootkeys resume` starts the keys over; a later clean run deletes
them and exits 0. Nothing is written to the user's own journal.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import IO

import pytest

TIMEOUT = 60


def _exports(stream: IO[str]) -> tuple[dict[str, str], str]:
    """The served sandbox's export lines, and its health URL."""
    env: dict[str, str] = {}
    health = ""
    for line in stream:
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            env[name] = shlex.split(value)[0]
        if "# A health URL for checks: " in line:
            health = line.split("checks: ")[1].split()[0]
        if line.startswith("# Ctrl-C"):
            return env, health
    raise AssertionError("the sandbox server stopped before it was ready")


def _set_health(url: str, status: int) -> None:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=str(status).encode(), method="PUT")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (loopback, checked above)
        pass


@pytest.fixture
def shell(tmp_path: Path):
    """`rootkeys sandbox serve` in its own process; a function that runs rootkeys in
    another, with the exports, a config file and a HOME of its own."""
    server = subprocess.Popen(
        [sys.executable, "-m", "rootkeys", "sandbox", "serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        exports, health = _exports(server.stdout)
        config = tmp_path / "rootkeys.toml"
        config.write_text(
            f'observe = "6s"\ncheck_interval = "1s"\n\n[[checks.http]]\nurl = "{health}"\n'
        )
        home = tmp_path / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROOTKEYS_"))}
        env.update(exports, HOME=str(home), ROOTKEYS_CONFIG=str(config))
        env.pop("XDG_STATE_HOME", None)
        yield env, health, home
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT)
        if server.stdout is not None:
            server.stdout.close()


def _rootkeys(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rootkeys", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_a_check_failing_mid_window_rolls_back_then_resume_and_a_clean_run_delete(
    shell: tuple[dict[str, str], str, Path],
) -> None:
    env, health, home = shell
    run = subprocess.Popen(
        [sys.executable, "-m", "rootkeys", "remove", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    seen = []
    for line in run.stderr:  # under a pipe: plain lines, one per step and per round
        seen.append(line)
        if "deactivated" in line:
            break
    _set_health(health, 503)  # mid-window: the keys are unusable, the window runs
    out, err = run.communicate(timeout=TIMEOUT)
    err = "".join(seen) + err
    assert run.returncode == 1, err
    assert "rolled back" in out
    assert "to resume" in err
    assert "rootkeys resume AKIA" in err

    _set_health(health, 200)
    resumed = _rootkeys(env, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "the next `rootkeys remove` starts each resumed key over" in resumed.stdout

    done = _rootkeys(env, "remove", "--yes")
    assert done.returncode == 0, done.stderr
    # under a pipe (cron): the plan, then one line per round of checks and one per step
    rounds = [line for line in done.stderr.splitlines() if " round " in line]
    assert 4 <= len(rounds) <= 9, done.stderr  # a 6 s window, checks every second
    assert all(len(line) <= 100 for line in done.stderr.splitlines())
    assert done.stdout.count(" deleted ") == 2
    assert _rootkeys(env, "verify").returncode == 0
    assert not home.exists() or not any(home.rglob("*.sqlite3"))  # no journal of the user's


def _in_a_terminal(env: dict[str, str], *argv: str) -> tuple[int, list[tuple[float, bytes]]]:
    """Run rootkeys with a pseudo-terminal as stdin, stdout and stderr; what it wrote, when."""
    import os
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "rootkeys", *argv],
        env={**env, "COLUMNS": "100", "LINES": "40", "TERM": "xterm-256color"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks: list[tuple[float, bytes]] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not data:
                break
            chunks.append((time.monotonic() - started, data))
        elif process.poll() is not None:
            break
        assert time.monotonic() - started < TIMEOUT
    os.close(leader)
    return process.wait(timeout=TIMEOUT), chunks


def test_in_a_terminal_progress_moves_while_the_run_waits(
    shell: tuple[dict[str, str], str, Path], tmp_path: Path
) -> None:
    """A window whose rounds are 4 s apart: the live view still redraws every second or so
    (the time left moves), not only when a round comes."""
    env, health, _ = shell
    config = tmp_path / "slow.toml"
    config.write_text(
        f'observe = "8s"\ncheck_interval = "4s"\n\n[[checks.http]]\nurl = "{health}"\n'
    )
    code, chunks = _in_a_terminal(env, "--config", str(config), "remove", "--yes")
    assert code == 0
    shown = b"".join(data for _, data in chunks).decode(errors="replace")
    assert "observing" in shown
    assert "deleted" in shown
    during = [at for at, _ in chunks]
    gaps = [later - earlier for earlier, later in itertools.pairwise(during)]
    assert max(gaps) < 3, gaps  # the issue asks for at least every 10 s
