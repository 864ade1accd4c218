"""The root user's other credentials in the sandbox: signing certificates, password, MFA.

moto has them for IAM users only. Here they are for the root user, as AWS answers the
root user's own calls (no ``UserName``): at most 2 signing certificates, Active or
Inactive (``ListSigningCertificates``, ``UploadSigningCertificate``,
``UpdateSigningCertificate``, ``DeleteSigningCertificate``); a login profile
(``GetLoginProfile``, ``CreateLoginProfile``, ``DeleteLoginProfile``, and ``GetUser``'s
``PasswordLastUsed``); MFA devices, virtual or hardware (``ListMFADevices``,
``DeactivateMFADevice``, ``DeleteVirtualMFADevice``). A password is never kept: the
sandbox records that one exists, and when it was set and last used.

Stale reads (`rootkeys.testing.Sandbox.inject_stale_reads`) reach them kind by kind: a
write tells the root user (``before_write``), and ``ListSigningCertificates``,
``GetLoginProfile`` and ``ListMFADevices`` read through ``view``, which may answer the
state from before the write.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from rootkeys._models import CredentialKind
from rootkeys.testing import _http

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse


__all__ = [
    "CREDENTIAL_CALLS",
    "MAX_ROOT_CERTIFICATES",
    "RootCertificate",
    "RootMfaDevice",
    "RootPassword",
    "answer_credentials",
]

MAX_ROOT_CERTIFICATES = 2
"""The root user can have at most two signing certificates (IAM quotas)."""

CREDENTIAL_CALLS = frozenset(
    {
        "ListSigningCertificates",
        "UploadSigningCertificate",
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
        "GetLoginProfile",
        "CreateLoginProfile",
        "DeleteLoginProfile",
        "GetUser",
        "ListMFADevices",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
    }
)
"""The root user's own calls this module answers (without ``UserName``)."""

_CERT_ALPHABET = string.ascii_uppercase + string.digits
_FAKE_BODY = "-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----"


@dataclass
class RootCertificate:
    """One X.509 signing certificate of the root user (a public certificate: no secret)."""

    certificate_id: str
    status: Literal["Active", "Inactive"]
    uploaded_at: datetime
    body: str = _FAKE_BODY


@dataclass
class RootPassword:
    """The root user's login profile: that a password exists, never the password."""

    created_at: datetime
    last_used_at: datetime | None = None


@dataclass
class RootMfaDevice:
    """One MFA device of the root user; a virtual one outlives its deactivation."""

    serial: str
    kind: Literal["virtual", "hardware"]
    enabled_at: datetime
    assigned: bool = True


class RootUser(Protocol):
    """What these answers need of `rootkeys.testing._root.RootUser` (no import cycle)."""

    account_id: str
    partition: str
    certificates: dict[str, RootCertificate]
    password: RootPassword | None
    mfa_devices: dict[str, RootMfaDevice]

    @property
    def arn(self) -> str:
        """The root user's ARN."""
        ...

    def view(self, kind: CredentialKind) -> RootUser:
        """What one read of ``kind`` sees (the truth, or a stale state)."""
        ...

    def before_write(self, kind: CredentialKind) -> None:
        """Hear of a write of ``kind`` just before it is made (stale reads start from it)."""
        ...


def certificate_id() -> str:
    """A signing certificate id as IAM makes them (24 upper-case letters or digits)."""
    return "".join(secrets.choice(_CERT_ALPHABET) for _ in range(24))


def mfa_serial(user: RootUser, kind: str, n: int) -> str:
    """A virtual device's ARN, or a hardware TOTP token's serial number."""
    if kind == "virtual":
        name = "root-account-mfa-device" if n == 0 else f"root-account-mfa-device-{n}"
        return f"arn:{user.partition}:iam::{user.account_id}:mfa/{name}"
    return "GAHT" + "".join(secrets.choice(string.digits) for _ in range(8))


def answer_credentials(
    user: RootUser,
    request: AWSPreparedRequest,
    operation: str,
    params: Mapping[str, str],
    *,
    now: datetime,
    assumed_root: bool,
) -> AWSResponse | None:
    """The root user's answer to one of `CREDENTIAL_CALLS`, or None for another call."""
    handlers = {
        "ListSigningCertificates": _list_certificates,
        "UploadSigningCertificate": _upload_certificate,
        "UpdateSigningCertificate": _update_certificate,
        "DeleteSigningCertificate": _delete_certificate,
        "GetLoginProfile": _get_login_profile,
        "DeleteLoginProfile": _delete_login_profile,
        "GetUser": _get_user,
        "ListMFADevices": _list_mfa,
        "DeactivateMFADevice": _deactivate_mfa,
        "DeleteVirtualMFADevice": _delete_virtual_mfa,
    }
    if operation == "CreateLoginProfile":
        return _create_login_profile(user, request, params, now, assumed_root)
    handler = handlers.get(operation)
    return None if handler is None else handler(user, request, params, now)


def _certificate_xml(user: RootUser, cert: RootCertificate) -> str:
    return (
        f"<UserName>{user.account_id}</UserName>"
        f"<CertificateId>{cert.certificate_id}</CertificateId>"
        f"<CertificateBody>{cert.body}</CertificateBody><Status>{cert.status}</Status>"
        f"<UploadDate>{_http.timestamp(cert.uploaded_at)}</UploadDate>"
    )


def _list_certificates(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    seen = user.view(CredentialKind.CERTIFICATES)
    body = "".join(
        f"<member>{_certificate_xml(seen, c)}</member>" for c in seen.certificates.values()
    )
    return _http.answer(
        request,
        "iam",
        "ListSigningCertificates",
        f"<Certificates>{body}</Certificates><IsTruncated>false</IsTruncated>",
    )


def _upload_certificate(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    if len(user.certificates) >= MAX_ROOT_CERTIFICATES:
        message = f"Cannot exceed quota for CertificatesPerUser: {MAX_ROOT_CERTIFICATES}"
        return _http.error(request, "iam", "LimitExceeded", message, 409)
    body = params.get("CertificateBody", "")
    if "BEGIN CERTIFICATE" not in body:
        return _http.error(request, "iam", "MalformedCertificate", "not a PEM certificate", 400)
    cert = RootCertificate(certificate_id(), "Active", now, body)
    user.before_write(CredentialKind.CERTIFICATES)
    user.certificates[cert.certificate_id] = cert
    return _http.answer(
        request,
        "iam",
        "UploadSigningCertificate",
        f"<Certificate>{_certificate_xml(user, cert)}</Certificate>",
    )


def _update_certificate(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    cert = user.certificates.get(params.get("CertificateId", ""))
    if cert is None:
        return _no_such(request, "signing certificate", params.get("CertificateId", ""))
    status = params.get("Status")
    if status in ("Active", "Inactive"):
        user.before_write(CredentialKind.CERTIFICATES)
        cert.status = "Active" if status == "Active" else "Inactive"
        return _http.answer(request, "iam", "UpdateSigningCertificate")
    message = f"Value '{status}' at 'status' failed to satisfy constraint"
    return _http.error(request, "iam", "ValidationError", message, 400)


def _delete_certificate(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    if params.get("CertificateId", "") not in user.certificates:
        return _no_such(request, "signing certificate", params.get("CertificateId", ""))
    user.before_write(CredentialKind.CERTIFICATES)
    del user.certificates[params["CertificateId"]]
    return _http.answer(request, "iam", "DeleteSigningCertificate")


def _get_login_profile(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    password = user.view(CredentialKind.PASSWORD).password
    if password is None:
        return _no_such(request, "login profile", "root")
    return _http.answer(
        request,
        "iam",
        "GetLoginProfile",
        f"<LoginProfile><UserName>{user.account_id}</UserName>"
        f"<CreateDate>{_http.timestamp(password.created_at)}</CreateDate>"
        "<PasswordResetRequired>false</PasswordResetRequired></LoginProfile>",
    )


def _create_login_profile(
    user: RootUser,
    request: AWSPreparedRequest,
    params: Mapping[str, str],
    now: datetime,
    assumed_root: bool,
) -> AWSResponse:
    # In an AssumeRoot session (password recovery) the password must be omitted: the
    # root user sets one through "forgot password". Anywhere else it is required.
    if assumed_root == ("Password" in params):
        message = (
            "Password must be omitted in an AssumeRoot session"
            if assumed_root
            else "Password is required"
        )
        return _http.error(request, "iam", "ValidationError", message, 400)
    if user.password is not None:
        return _http.error(
            request, "iam", "EntityAlreadyExists", "Login Profile for root exists", 409
        )
    user.before_write(CredentialKind.PASSWORD)
    user.password = RootPassword(created_at=now)
    return _http.answer(
        request,
        "iam",
        "CreateLoginProfile",
        f"<LoginProfile><UserName>{user.account_id}</UserName>"
        f"<CreateDate>{_http.timestamp(now)}</CreateDate>"
        "<PasswordResetRequired>false</PasswordResetRequired></LoginProfile>",
    )


def _delete_login_profile(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    if user.password is None:
        return _no_such(request, "login profile", "root")
    user.before_write(CredentialKind.PASSWORD)
    user.password = None
    return _http.answer(request, "iam", "DeleteLoginProfile")


def _get_user(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    used = user.password.last_used_at if user.password else None
    last = "" if used is None else f"<PasswordLastUsed>{_http.timestamp(used)}</PasswordLastUsed>"
    return _http.answer(
        request,
        "iam",
        "GetUser",
        f"<User><Path>/</Path><UserId>{user.account_id}</UserId><Arn>{user.arn}</Arn>"
        f"<CreateDate>2015-01-01T00:00:00Z</CreateDate>{last}</User>",
    )


def _list_mfa(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    body = "".join(
        f"<member><UserName>{user.account_id}</UserName><SerialNumber>{d.serial}</SerialNumber>"
        f"<EnableDate>{_http.timestamp(d.enabled_at)}</EnableDate></member>"
        for d in user.view(CredentialKind.MFA).mfa_devices.values()
        if d.assigned
    )
    return _http.answer(
        request,
        "iam",
        "ListMFADevices",
        f"<MFADevices>{body}</MFADevices><IsTruncated>false</IsTruncated>",
    )


def _deactivate_mfa(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    serial = params.get("SerialNumber", "")
    device = user.mfa_devices.get(serial)
    if device is None or not device.assigned:
        return _no_such(request, "MFA device", serial)
    user.before_write(CredentialKind.MFA)
    if device.kind == "virtual":
        device.assigned = False  # the virtual device stays until DeleteVirtualMFADevice
    else:
        del user.mfa_devices[serial]
    return _http.answer(request, "iam", "DeactivateMFADevice")


def _delete_virtual_mfa(
    user: RootUser, request: AWSPreparedRequest, params: Mapping[str, str], now: datetime
) -> AWSResponse:
    serial = params.get("SerialNumber", "")
    device = user.mfa_devices.get(serial)
    if device is None or device.kind != "virtual":
        return _no_such(request, "virtual MFA device", serial)
    if device.assigned:
        message = "MFA device is still in use: deactivate it first"
        return _http.error(request, "iam", "DeleteConflict", message, 409)
    user.before_write(CredentialKind.MFA)
    del user.mfa_devices[serial]
    return _http.answer(request, "iam", "DeleteVirtualMFADevice")


def _no_such(request: AWSPreparedRequest, what: str, name: str) -> AWSResponse:
    message = f"The {what} {name} cannot be found"
    return _http.error(request, "iam", "NoSuchEntity", message, 404)
