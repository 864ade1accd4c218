"""IAM's eventual consistency in the sandbox: reads that answer the state before a write.

`Staleness` is the stale reads of one kind of root credential in one account (the root
user keeps one per kind it is injected for, and reads that kind through it);
`StaleReads` is the part of the `Sandbox` that injects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from rootkeys._models import CredentialKind, validate_credentials

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable

__all__ = ["StaleReads", "Staleness"]

T = TypeVar("T")


@dataclass
class Staleness(Generic[T]):
    """Stale reads of one kind of root credential in one account.

    After each of the next `writes` writes, the next `reads` reads answer the state from
    just before the write.
    """

    reads: int = 0
    """How many reads see the old state after each write."""
    writes: int = 0
    """How many more writes leave stale reads behind."""
    seen: T | None = None
    """The state those reads see (taken just before the last write)."""
    left: int = 0
    """How many stale reads of `seen` are left."""

    def read(self, truth: T) -> T:
        """What one read sees: the old state while stale reads are left, else ``truth``."""
        if self.seen is not None and self.left > 0:
            self.left -= 1
            return self.seen
        return truth

    def write(self, before: Callable[[], T]) -> None:
        """Hear of a write about to be made; ``before`` takes the state the next reads see."""
        if self.writes > 0 and self.reads > 0:
            self.writes -= 1
            self.seen = before()
            self.left = self.reads


class _Stale(Protocol):
    """What `StaleReads` needs of the root user (`rootkeys.testing._root.RootUser`)."""

    staleness: dict[CredentialKind, Staleness[Any]]


class StaleReads:
    """Injects IAM's stale reads, kind by kind of root credential (a base of `Sandbox`)."""

    _lock: threading.RLock

    if TYPE_CHECKING:

        def _account(self, account_id: str) -> _Stale: ...

    def inject_stale_reads(
        self,
        account_id: str,
        *,
        reads: int,
        writes: int = 1,
        credentials: Iterable[CredentialKind | str] = (CredentialKind.KEYS,),
    ) -> None:
        """After each of the next ``writes`` writes, ``reads`` reads see the old state.

        This is IAM's eventual consistency, kind by kind of root credential:
        ``credentials`` takes the values of `rootkeys.lifecycle.CredentialKind` (access
        keys alone by default). After a write of one of these kinds, reads of that kind
        answer what was true before it:

        - ``"keys"``: ``ListAccessKeys`` and ``GetAccountSummary``'s
          ``AccountAccessKeysPresent``, after ``Update``/``Delete``/``CreateAccessKey``;
        - ``"certificates"``: ``ListSigningCertificates`` and
          ``AccountSigningCertificatesPresent``, after ``Upload``/``Update``/
          ``DeleteSigningCertificate``;
        - ``"password"``: ``GetLoginProfile``, after ``Create``/``DeleteLoginProfile``;
        - ``"mfa"``: ``ListMFADevices`` and ``AccountMFAEnabled``, after
          ``DeactivateMFADevice`` and ``DeleteVirtualMFADevice``.

        Each kind counts its own writes and reads; a call sets the kinds it names and
        leaves the others as they were. An unknown kind raises `InputError`.
        """
        kinds = validate_credentials(credentials)
        with self._lock:
            user = self._account(account_id)
            for kind in kinds:
                user.staleness[kind] = Staleness(reads=reads, writes=writes)
