"""The root user's other credentials, as IAM calls of the caller (a base of `IamGateway`).

Signing certificates, the password (login profile) and MFA devices: each method is one
logical AWS call (or two, for an MFA device's removal) made without ``UserName``, so it
acts on the caller, under the retry policy. In a member account, the reads are inside
``IAMAuditRootUserCredentials``, the deletes inside ``IAMDeleteRootUserCredentials``, and
`allow_password_recovery` inside ``IAMCreateRootUserPassword``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from rootkeys._errors import AWSError
from rootkeys._models import AccessKey, CredentialKind, KeyStatus, LastUsed, credential_id

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from mypy_boto3_iam.client import IAMClient

__all__ = ["SIGN_IN", "RootCredentialCalls"]

T = TypeVar("T")
SIGN_IN = "console sign-in"
"""The ``service`` of a password's (and its MFA devices') last use."""


class RootCredentialCalls:
    """Signing certificates, password and MFA devices of the caller (a base of `IamGateway`)."""

    _iam: IAMClient
    kinds: frozenset[CredentialKind]

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        raise NotImplementedError  # IamGateway's: under the retry policy

    def _sign_in_credentials(self) -> list[AccessKey]:
        """The password, then its MFA devices (as `kinds` says), with the password's last use.

        An MFA device is used when the root user signs in with the password, so it
        carries the password's last use (IAM records no use of a device).
        """
        created = self.login_profile()
        used = self.password_last_used() if created is not None else None
        last = LastUsed(at=used, service=SIGN_IN) if used is not None else None
        found: list[AccessKey] = []
        if CredentialKind.PASSWORD in self.kinds and created is not None:
            password = credential_id(CredentialKind.PASSWORD, created)
            found.append(
                AccessKey(
                    key_id=password, status=KeyStatus.ACTIVE, created_at=created, last_used=last
                )
            )
        if CredentialKind.MFA in self.kinds:
            devices = sorted(self.mfa_devices(), key=lambda d: d[1])
            found += [
                AccessKey(
                    key_id=credential_id(CredentialKind.MFA, serial),
                    status=KeyStatus.ACTIVE,
                    created_at=enabled,
                    last_used=last,
                )
                for serial, enabled in devices
            ]
        return found

    def set_certificate_status(self, certificate_id: str, status: KeyStatus) -> None:
        """``iam:UpdateSigningCertificate`` without ``UserName``: the caller's certificate."""
        self._call(
            "UpdateSigningCertificate",
            lambda: self._iam.update_signing_certificate(
                CertificateId=certificate_id, Status=status.value
            ),
        )

    def delete_certificate(self, certificate_id: str) -> None:
        """``iam:DeleteSigningCertificate`` without ``UserName``: the caller's certificate."""
        self._call(
            "DeleteSigningCertificate",
            lambda: self._iam.delete_signing_certificate(CertificateId=certificate_id),
        )

    def delete_login_profile(self) -> None:
        """``iam:DeleteLoginProfile`` without ``UserName``: the caller's password."""
        self._call("DeleteLoginProfile", self._iam.delete_login_profile)

    def delete_mfa_device(self, serial: str) -> None:
        """``iam:DeactivateMFADevice``, then ``iam:DeleteVirtualMFADevice`` for a virtual one.

        A device already deactivated (a run stopped between the two calls) is still
        deleted. ``NoSuchEntity`` is raised only when neither call found the device.
        """
        try:
            self._call(
                "DeactivateMFADevice",
                lambda: self._iam.deactivate_mfa_device(SerialNumber=serial),
            )
            missing: AWSError | None = None
        except AWSError as exc:
            if exc.code != "NoSuchEntity":
                raise
            missing = exc
        if ":mfa/" not in serial:  # hardware or security key: deactivating removes it
            if missing is not None:
                raise missing
            return
        try:
            self._call(
                "DeleteVirtualMFADevice",
                lambda: self._iam.delete_virtual_mfa_device(SerialNumber=serial),
            )
        except AWSError as exc:
            if exc.code != "NoSuchEntity" or missing is not None:
                raise

    def signing_certificates(self) -> list[tuple[str, KeyStatus, datetime]]:
        """The caller's signing certificates: (id, status, upload date), all pages."""

        def list_all() -> list[tuple[str, KeyStatus, datetime]]:
            found: list[tuple[str, KeyStatus, datetime]] = []
            for page in self._iam.get_paginator("list_signing_certificates").paginate():
                for cert in page["Certificates"]:
                    found.append(
                        (cert["CertificateId"], KeyStatus(cert["Status"]), cert["UploadDate"])
                    )
            return found

        return self._call("ListSigningCertificates", list_all)

    def login_profile(self) -> datetime | None:
        """When the caller's password was set (``iam:GetLoginProfile``); None: no password."""

        def read() -> datetime | None:
            try:
                return self._iam.get_login_profile()["LoginProfile"]["CreateDate"]
            except self._iam.exceptions.NoSuchEntityException:
                return None

        return self._call("GetLoginProfile", read)

    def allow_password_recovery(self) -> bool:
        """Let the root user set a password through "forgot password"; False: it has one.

        A member account, in an ``IAMCreateRootUserPassword`` session:
        ``iam:CreateLoginProfile`` with no password. False changes nothing.
        """

        def create() -> bool:
            try:
                self._iam.create_login_profile()
            except self._iam.exceptions.EntityAlreadyExistsException:
                return False
            return True

        return self._call("CreateLoginProfile", create)

    def password_last_used(self) -> datetime | None:
        """``iam:GetUser``'s ``PasswordLastUsed`` for the caller; None: never, or unknown."""
        return self._call("GetUser", self._iam.get_user)["User"].get("PasswordLastUsed")

    def mfa_devices(self) -> list[tuple[str, datetime]]:
        """The caller's MFA devices: (serial number or ARN, enable date), all pages."""

        def list_all() -> list[tuple[str, datetime]]:
            found: list[tuple[str, datetime]] = []
            for page in self._iam.get_paginator("list_mfa_devices").paginate():
                found += [(d["SerialNumber"], d["EnableDate"]) for d in page["MFADevices"]]
            return found

        return self._call("ListMFADevices", list_all)
