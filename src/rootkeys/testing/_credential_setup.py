"""Setting up the root user's other credentials in the sandbox, and reading them back.

`RootCredentialSetup` is a base of `Sandbox`: typed helpers that give a root user
signing certificates, a password (used or not) and MFA devices, as someone would in the
console, and that read the truth back without faults or stale reads. `MemberCredentials`
describes what one member account's root user holds, for `Sandbox.create_organization`
to give a mix across an organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from rootkeys.testing._credentials import (
    MAX_ROOT_CERTIFICATES,
    RootCertificate,
    RootMfaDevice,
    RootPassword,
    certificate_id,
    mfa_serial,
)

if TYPE_CHECKING:
    import threading

    from rootkeys._clock import Clock
    from rootkeys.testing._calls import SandboxCall
    from rootkeys.testing._root import RootUser

__all__ = ["MIXED", "MemberCredentials", "RootCredentialSetup"]


@dataclass(frozen=True)
class MemberCredentials:
    """What one account's root user holds besides its access keys.

    Attributes:
        certificates: how many signing certificates (0 to 2).
        inactive_certificates: how many of them (the last ones) are Inactive.
        password: whether the root user has a password (a login profile).
        password_used: how long ago the password was last used; None: never.
        mfa: the root user's MFA devices, each ``"virtual"`` or ``"hardware"``.
    """

    certificates: int = 0
    inactive_certificates: int = 0
    password: bool = False
    password_used: timedelta | None = None
    mfa: tuple[Literal["virtual", "hardware"], ...] = ()


MIXED: tuple[MemberCredentials, ...] = (
    MemberCredentials(),
    MemberCredentials(certificates=1),
    MemberCredentials(password=True, password_used=timedelta(days=3), mfa=("virtual",)),
    MemberCredentials(certificates=2, inactive_certificates=1, password=True),
    MemberCredentials(mfa=("hardware",)),
    MemberCredentials(password=True, password_used=timedelta(days=200), mfa=("hardware",)),
)
"""A mix of root credentials for `Sandbox.create_organization` to deal out, member by
member: none; a certificate; a used password with virtual MFA; two certificates (one
Inactive) and an unused password; hardware MFA alone; an old password with hardware MFA."""


class RootCredentialSetup:
    """The root user's certificates, password and MFA devices (a base of `Sandbox`)."""

    clock: Clock
    _lock: threading.RLock
    _calls: list[SandboxCall]

    if TYPE_CHECKING:

        def _account(self, account_id: str) -> RootUser: ...

        def _watch(self, account_id: str, by: str) -> None: ...

    def add_root_signing_certificate(
        self, account_id: str, *, status: Literal["Active", "Inactive"] = "Active"
    ) -> str:
        """Give the root user an X.509 signing certificate; return its id (at most 2)."""
        with self._lock:
            user = self._account(account_id)
            if len(user.certificates) >= MAX_ROOT_CERTIFICATES:
                raise ValueError(
                    f"the root user of {account_id} already has {MAX_ROOT_CERTIFICATES} "
                    "signing certificates"
                )
            cert = RootCertificate(certificate_id(), status, self.clock.now())
            user.certificates[cert.certificate_id] = cert
            self._watch(account_id, "sandbox")
            return cert.certificate_id

    def set_root_password(
        self, account_id: str, *, enabled: bool = True, last_used: datetime | None = None
    ) -> None:
        """Give the root user a password (last used at ``last_used``), or take it away."""
        with self._lock:
            user = self._account(account_id)
            user.password = (
                RootPassword(created_at=self.clock.now(), last_used_at=last_used)
                if enabled
                else None
            )

    def add_root_mfa_device(
        self, account_id: str, *, kind: Literal["virtual", "hardware"] = "virtual"
    ) -> str:
        """Assign the root user an MFA device; return its serial number (or ARN)."""
        if kind not in ("virtual", "hardware"):
            raise ValueError(f"an MFA device is virtual or hardware, not {kind!r}")
        with self._lock:
            user = self._account(account_id)
            serial = mfa_serial(user, kind, len(user.mfa_devices))
            user.mfa_devices[serial] = RootMfaDevice(serial, kind, self.clock.now())
            return serial

    def set_root_mfa(self, account_id: str, enabled: bool = True) -> None:
        """Turn the root user's MFA on (a virtual device) or off (every device gone)."""
        with self._lock:
            if not enabled:
                self._account(account_id).mfa_devices.clear()
            elif not self._account(account_id).mfa_enabled:
                self.add_root_mfa_device(account_id)

    def give_root_credentials(self, account_id: str, spec: MemberCredentials) -> None:
        """Give the root user everything ``spec`` describes."""
        for n in range(spec.certificates):
            inactive = n >= spec.certificates - spec.inactive_certificates
            self.add_root_signing_certificate(
                account_id, status="Inactive" if inactive else "Active"
            )
        if spec.password:
            used = None if spec.password_used is None else self.clock.now() - spec.password_used
            self.set_root_password(account_id, last_used=used)
        for kind in spec.mfa:
            self.add_root_mfa_device(account_id, kind=kind)

    # -- the truth ---------------------------------------------------------------------------

    def root_signing_certificates(self, account_id: str) -> dict[str, str]:
        """The root user's signing certificates as they really are: id to status."""
        with self._lock:
            return {
                c.certificate_id: c.status for c in self._account(account_id).certificates.values()
            }

    def root_password(self, account_id: str) -> bool:
        """Whether the root user has a password now."""
        with self._lock:
            return self._account(account_id).password is not None

    def root_mfa_devices(self, account_id: str) -> dict[str, str]:
        """The root user's assigned MFA devices as they really are: serial to kind."""
        with self._lock:
            return {
                d.serial: d.kind
                for d in self._account(account_id).mfa_devices.values()
                if d.assigned
            }

    def denials(self, account_id: str | None = None) -> tuple[SandboxCall, ...]:
        """Every call a task policy or a service control policy denied, oldest first.

        An empty answer proves that every call stayed inside the policies it was made
        under (``AccessDenied`` from an AssumeRoot task policy, or from an SCP).
        """
        with self._lock:
            return tuple(
                c
                for c in self._calls
                if c.denied_by is not None and account_id in (None, c.account_id)
            )
