"""The sandbox served for a shell: an AWS of your own that ``rootkeys`` commands reach.

`serve_main` builds a sandbox (accounts whose root users have access keys, or an
organization of them), serves it on loopback, prints the environment to export in
another terminal, and answers until interrupted. It runs on the real clock, so a
two-minute window takes two minutes.
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from rootkeys._errors import InputError
from rootkeys.testing._credential_setup import MIXED
from rootkeys.testing._root import MAX_ROOT_KEYS
from rootkeys.testing._sandbox import Sandbox
from rootkeys.testing._server import HEALTH_PATH

__all__ = ["ServedSandbox", "serve_main"]

_MAX_ACCOUNTS = 50


@dataclass(frozen=True)
class ServedSandbox:
    """A sandbox `serve_main` is serving, as its ``ready`` callback receives it.

    Attributes:
        endpoint_url: where it answers (``AWS_ENDPOINT_URL``).
        health_url: the stand-in health URL: ``GET`` answers its status, ``PUT`` with a
            status code (``503``) changes it.
        environment: the variables to run ``rootkeys`` against it with: the endpoint,
            the credentials (the sandbox's made-up secrets), the region and
            ``ROOTKEYS_JOURNAL`` (the sandbox's own journal).
        account_ids: the accounts whose root users have keys (the organization's
            members, with ``organization``).
        sandbox: the sandbox itself (its calls, its accounts' true state).
        stop: ends `serve_main` as an interrupt would.
    """

    endpoint_url: str
    health_url: str
    environment: Mapping[str, str] = field(repr=False)
    account_ids: tuple[str, ...]
    sandbox: Sandbox = field(repr=False)
    stop: Callable[[], None] = field(repr=False)


def serve_main(
    out: TextIO,
    *,
    port: int = 0,
    accounts: int = 1,
    keys: int = 2,
    organization: bool = False,
    root_access: bool = True,
    ready: Callable[[ServedSandbox], object] | None = None,
) -> int:
    """Serve a sandbox on ``http://127.0.0.1:<port>`` until interrupted; return 0.

    Makes ``accounts`` accounts whose root users have ``keys`` Active access keys each
    (the first key of each used by an app an hour ago, so plans have evidence to show),
    or with ``organization`` an organization of ``accounts`` such member accounts with
    centralized root access on, their root users also holding the mix of signing
    certificates, passwords and MFA devices of `rootkeys.testing.MIXED` (member n gets
    ``MIXED[n % 6]``: the second a certificate, the third a password and MFA device...).
    Prints to ``out`` the ``export`` lines that point AWS
    tools and ``rootkeys`` at it: the endpoint, credentials (the root user of the first
    account, signed in without a key as AWS CloudShell is; with ``organization``, an
    administrator of the management account), the region, and ``ROOTKEYS_JOURNAL``, the
    sandbox's own journal in a temporary directory, so commands run against it never
    touch your journal. Then it answers until SIGINT or SIGTERM (or
    `ServedSandbox.stop`), and removes the sandbox and its journal.

    The sandbox runs on the real clock. It also serves a health URL to demonstrate
    checks with: ``GET`` answers 200 until ``PUT`` with another status (say ``503``).

    Args:
        out: where the export lines go.
        port: the loopback port; 0 takes a free one.
        accounts: how many accounts (or member accounts), 1 to 50.
        keys: how many root access keys each account's root user has, 0 to 2.
        organization: make an organization of the accounts.
        root_access: with ``organization``, centralized root access on (False: off, to try
            ``rootkeys org enable``).
        ready: called once serving, with the `ServedSandbox` (tests use it; a signal
            handler can be installed only in the main thread, so a caller in another
            thread stops it with `ServedSandbox.stop`).

    Raises:
        InputError: ``port``, ``accounts`` or ``keys`` out of range.
    """
    _check(port, accounts, keys)
    stopped = threading.Event()
    with Sandbox() as sandbox:
        if organization:
            made = sandbox.create_organization(
                members=accounts, root_keys=keys, root_features=root_access, credentials=MIXED
            )
            account_ids = made.member_account_ids
            signing = session_credentials(sandbox.management_session())
        else:
            account_ids = tuple(
                sandbox.create_account(root_keys=keys).account_id for _ in range(accounts)
            )
            signing = sandbox.root_credentials(account_ids[0])
        for account_id in account_ids:
            for key in sandbox.root_keys(account_id)[:1]:
                sandbox.use_root_key(account_id, key.key_id, service="s3")
        with sandbox.serve(port=port) as url:
            environment = {
                "AWS_ENDPOINT_URL": url,
                **signing,
                "AWS_DEFAULT_REGION": sandbox.region,
                "ROOTKEYS_JOURNAL": str(sandbox.journal_path),
            }
            served = ServedSandbox(
                url, url + HEALTH_PATH, environment, account_ids, sandbox, stopped.set
            )
            _announce(out, served, organization=organization)
            with _stop_on_signals(stopped):
                if ready is not None:
                    ready(served)
                while not stopped.wait(timeout=0.5):
                    pass
    print("# the sandbox stopped; its accounts and journal are gone", file=out, flush=True)
    return 0


def _check(port: object, accounts: object, keys: object) -> None:
    for name, value, low, high in (
        ("port", port, 0, 65535),
        ("accounts", accounts, 1, _MAX_ACCOUNTS),
        ("keys", keys, 0, MAX_ROOT_KEYS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(f"{name} must be a whole number from {low} to {high}: {value!r}")


def session_credentials(session: Any) -> dict[str, str]:
    """A session's credentials as the ``AWS_*`` variables that stand for them."""
    frozen = session.get_credentials().get_frozen_credentials()
    found = {
        "AWS_ACCESS_KEY_ID": str(frozen.access_key),
        "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
    }
    if frozen.token:
        found["AWS_SESSION_TOKEN"] = str(frozen.token)
    return found


def _announce(out: TextIO, served: ServedSandbox, *, organization: bool) -> None:
    def say(line: str = "") -> None:
        print(line, file=out)

    box = served.sandbox
    say(f"# rootkeys sandbox on {served.endpoint_url}: moto plus root users, no AWS account.")
    for account_id in served.account_ids:
        keys = ", ".join(k.key_id for k in box.root_keys(account_id)) or "none"
        role = "member account" if organization else "account"
        say(f"# {role} {account_id}: root access keys {keys}")
    if organization:
        say("# signed in as an administrator of the management account: use --org")
    else:
        say(f"# signed in as the root user of {served.account_ids[0]} (no key in use)")
    say("# In another terminal, export these (made-up test credentials), then run rootkeys:")
    say("unset AWS_PROFILE")
    for name, value in served.environment.items():
        say(f"export {name}={shlex.quote(value)}")
    say(f"# A health URL for checks: {served.health_url} (GET answers 200;")
    say(f"#   make it fail: curl -X PUT --data 503 {served.health_url})")
    say("# Ctrl-C stops the sandbox.")
    out.flush()


@contextlib.contextmanager
def _stop_on_signals(stopped: threading.Event) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM set ``stopped`` (in the main thread only)."""
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stopped.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
