"""An account's lease, held while a journal's holder acts on it: taken, renewed, let go.

`Leases` is the journal's lock (`rootkeys.Journal.lock`): for each account, a lease in
the store (an expiry, renewed by one heartbeat thread every quarter of a lease while it
is held, and a fencing token), a lock between this process's threads, and for a journal
file an OS file lock too (released by the kernel when a process dies: the next holder
takes the lease over at once instead of waiting for it to expire).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from rootkeys._errors import JournalError, JournalFencedError, JournalLockedError
from rootkeys._journal_store import FLOCKED
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import timedelta
    from pathlib import Path

    from rootkeys._journal_store import JournalStore

__all__ = ["Lease", "Leases"]

log = logging.getLogger("rootkeys")


@dataclass(frozen=True, slots=True)
class Lease:
    """An account's lease, held by this process for the duration of a `Journal.lock` block.

    Attributes:
        account_id: the account.
        token: the fencing token: larger than any earlier holder's of this account.
    """

    account_id: str
    token: int


@dataclass(slots=True)
class _Held:
    token: int
    owner: str
    until: float  # wall-clock seconds: when the lease expires unless renewed
    thread: int  # the thread holding it (`lock` blocks are per thread)
    lost: bool = False


class Leases:
    """Every account lease a journal holds, and how it takes, renews and lets go of them.

    Args:
        store: where the leases live.
        path: the journal file, whose per-account lock files sit beside it (None: no
            file locks, for a DynamoDB or in-memory journal).
        lock_timeout: how long `lock` waits for another holder.
        lease: how long a lease lasts unless renewed.
    """

    def __init__(
        self, store: JournalStore, path: Path | None, lock_timeout: timedelta, lease: timedelta
    ) -> None:
        self._store = store
        self.location = store.location
        self.path = path.resolve() if path is not None else None  # one lock file per file
        self._lock_timeout = lock_timeout
        self._lease = lease.total_seconds()
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._guard = threading.Lock()
        self._locals: dict[str, threading.Lock] = {}
        self._held: dict[str, _Held] = {}
        self._beat: threading.Thread | None = None
        self._closed = threading.Event()

    def token(self, account_id: str) -> tuple[int, str] | None:
        """The lease this thread holds on the account (token, owner), if any.

        Raises:
            JournalFencedError: it was held, and the heartbeat found it taken over; or it
                expired (not renewed in time): nothing may be written under it any more.
        """
        with self._guard:
            held = self._held.get(account_id)
        if held is None or held.thread != threading.get_ident():
            return None
        if held.lost:
            raise JournalFencedError(account_id, held.token, self.location)
        if time.time() > held.until - self._lease / 8:  # a margin for clocks and calls
            raise JournalFencedError(account_id, held.token, self.location, expired=True)
        return held.token, held.owner

    def close(self) -> None:
        """Stop renewing, and let go of every lease still held."""
        self._closed.set()
        with self._guard:
            held = list(self._held.items())
            self._held.clear()
        for account_id, lease in held:
            with contextlib.suppress(JournalError):
                self._store.release(account_id, lease.token, lease.owner)

    @contextlib.contextmanager
    def lock(self, account_id: str) -> Iterator[Lease]:
        """Hold the account's lease: no other process or thread acts on it meanwhile.

        Raises:
            JournalLockedError: another holder kept it for longer than ``lock_timeout``.
        """
        wait = self._lock_timeout.total_seconds()
        deadline = time.monotonic() + wait
        with self._guard:
            local = self._locals.setdefault(account_id, threading.Lock())
        if not local.acquire(timeout=wait):
            raise JournalLockedError(account_id, self._lock_timeout, self.location)
        try:
            with self._file_lock(account_id) as files:
                token, owner = self._take(account_id, files, deadline)
                try:
                    yield Lease(account_id, token)
                finally:
                    with self._guard:
                        self._held.pop(account_id, None)
                    try:
                        self._store.release(account_id, token, owner)
                    except JournalError as exc:  # it expires by itself
                        log.warning("could not release the lease on %s: %s", account_id, exc)
        finally:
            local.release()

    def _take(
        self, account_id: str, files: tuple[Callable[[], bool], str] | None, deadline: float
    ) -> tuple[int, str]:
        """Wait for the lease (taking the file lock too as soon as it is free).

        With lock files: holding the account's file lock, a lease its last holder took
        under that same file lock is taken over at once (that holder is gone); without
        it, only a lease that expired in its holder's hands (a paused process), never a
        free one (a file lock alone is how rootkeys before the leases kept others out).
        """
        while True:
            flocked = files is not None and files[0]()
            identity = files[1] if files is not None and flocked else None
            owner = f"{identity}{self._owner}" if identity else self._owner
            now = time.time()
            token = self._store.acquire(
                account_id,
                owner,
                now_ms=int(now * 1000),
                until_ms=int((now + self._lease) * 1000),
                takeover=identity,
                free=files is None or flocked,
            )
            if token is not None:
                with self._guard:
                    self._held[account_id] = _Held(
                        token, owner, now + self._lease, threading.get_ident()
                    )
                    self._start_heartbeat()
                return token, owner
            if time.monotonic() >= deadline:
                raise JournalLockedError(account_id, self._lock_timeout, self.location)
            time.sleep(min(0.05, self._lease / 4))

    def _start_heartbeat(self) -> None:
        if self._beat is None or not self._beat.is_alive():
            self._beat = threading.Thread(
                target=self._heartbeat, name="rootkeys-journal-leases", daemon=True
            )
            self._beat.start()

    def _heartbeat(self) -> None:
        """Renew every held lease, each quarter of a lease, until none is held."""
        while not self._closed.wait(self._lease / 4):
            with self._guard:
                held = [(a, h) for a, h in self._held.items() if not h.lost]
            if not held:
                with self._guard:
                    if not self._held:
                        self._beat = None
                        return
                continue
            for account_id, lease in held:
                until = time.time() + self._lease
                try:
                    kept = self._store.renew(
                        account_id, lease.token, lease.owner, until_ms=int(until * 1000)
                    )
                except JournalError as exc:
                    log.warning("could not renew the lease on %s: %s", account_id, exc)
                    continue
                if kept:
                    lease.until = until
                else:
                    lease.lost = True
                    log.warning("lost the lease on %s to another process", account_id)

    @contextlib.contextmanager
    def _file_lock(self, account_id: str) -> Iterator[tuple[Callable[[], bool], str] | None]:
        """For a journal file: a function taking the account's file lock, and its identity.

        The identity: `FLOCKED`, the host, the lock file's device and inode.
        """
        if self.path is None:
            yield None
            return
        lock_path = self.path.with_name(f"{self.path.name}.{account_id}.lock")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole block
            stat = os.fstat(handle.fileno())
        except OSError as exc:
            raise JournalError(f"cannot create the lock file {lock_path}: {exc}") from exc
        identity = f"{FLOCKED}{socket.gethostname()}:{stat.st_dev}:{stat.st_ino}:"
        taken = False

        def take() -> bool:
            nonlocal taken
            taken = taken or _try_lock(handle)
            return taken

        try:
            yield take, identity
        finally:
            if taken:
                _unlock(handle)
            handle.close()


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


rehome(globals())
