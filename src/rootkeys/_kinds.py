"""The kinds of root credential the lifecycle covers, their ids, and ids' validation.

A credential's kind follows from its id (the journal keeps every kind in one column):
see `CredentialKind`. Every validator raises `InputError` before any AWS call, quoting
no more than the first characters of a bad value (a secret may have been pasted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from rootkeys._errors import InputError
from rootkeys._public import rehome

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "KEYS_ONLY",
    "PRESENT",
    "SIGN_IN_KINDS",
    "CredentialKind",
    "credential_id",
    "mfa_serial",
    "reject",
    "validate_account_credential_id",
    "validate_account_credentials",
    "validate_account_id",
    "validate_account_ids",
    "validate_certificate_id",
    "validate_credential_id",
    "validate_credentials",
    "validate_key_id",
    "validate_member_credentials",
    "validate_ou",
]

_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_CERTIFICATE_ID = re.compile(r"\w{24,128}", re.ASCII)
_PASSWORD_ID = re.compile(r"password:[0-9]{8}T[0-9]{6}Z")
_MFA_ID = re.compile(r"mfa:[\w+=/:,.@-]{9,256}", re.ASCII)


class CredentialKind(StrEnum):
    """A kind of root credential that goes through the lifecycle (unusable, observed, deleted).

    The values are what ``credentials=`` takes (``{"keys", "certificates"}``, the
    default). A credential's kind follows from its id, and the ids never overlap: an
    access key id is ``AKIA`` + 16 characters, a signing certificate id 24 to 128 word
    characters, a password ``password:`` + when it was set (a password set again after
    a recovery is another credential), an MFA device ``mfa:`` + its serial number.
    """

    KEYS = "keys"
    """The root user's access keys."""
    CERTIFICATES = "certificates"
    """The root user's X.509 signing certificates (Active or Inactive, like keys)."""
    PASSWORD = "password"  # noqa: S105 (a kind of credential, not one)
    """The root user's password (its login profile): member accounts only, when asked."""
    MFA = "mfa"
    """The root user's MFA devices: member accounts only, when asked, with the password."""

    @property
    def short(self) -> str:
        """A table's word for it (``key``, ``cert``, ``password``, ``mfa``)."""
        return _SHORT[self]

    @property
    def noun(self) -> str:
        """Its name in a sentence (``access key``, ``signing certificate``, ``password``...)."""
        return _NOUN[self]

    @classmethod
    def of(cls, credential_id: str) -> CredentialKind:
        """The kind of the credential whose id is ``credential_id`` (already validated)."""
        if credential_id.startswith("password:"):
            return cls.PASSWORD
        if credential_id.startswith("mfa:"):
            return cls.MFA
        return cls.KEYS if _KEY_ID.fullmatch(credential_id) else cls.CERTIFICATES


_NOUN = {
    CredentialKind.KEYS: "access key",
    CredentialKind.CERTIFICATES: "signing certificate",
    CredentialKind.PASSWORD: "password",
    CredentialKind.MFA: "MFA device",
}
_SHORT = {
    CredentialKind.KEYS: "key",
    CredentialKind.CERTIFICATES: "cert",
    CredentialKind.PASSWORD: "password",
    CredentialKind.MFA: "mfa",
}

ALL_KINDS = frozenset(CredentialKind)
"""Every kind of root credential the lifecycle can cover."""

DEFAULT_KINDS = frozenset({CredentialKind.KEYS, CredentialKind.CERTIFICATES})
"""What ``credentials=`` means by default: access keys and signing certificates."""

PRESENT: dict[CredentialKind, str] = {
    CredentialKind.KEYS: "AccountAccessKeysPresent",
    CredentialKind.CERTIFICATES: "AccountSigningCertificatesPresent",
    CredentialKind.MFA: "AccountMFAEnabled",
}
"""The ``GetAccountSummary`` field that says a credential of a kind is present (the
password has none: ``GetLoginProfile`` says it)."""

KEYS_ONLY = frozenset({CredentialKind.KEYS})
"""Access keys alone (``credentials={"keys"}``)."""


def credential_id(kind: CredentialKind, name: str | datetime) -> str:
    """The lifecycle's id of a password (``name``: when it was set) or an MFA device (serial).

    Access keys and certificates are named by their own ids.
    """
    if kind is CredentialKind.PASSWORD and isinstance(name, datetime):
        return f"password:{name.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    if kind is CredentialKind.MFA and isinstance(name, str):
        return f"mfa:{name}"
    if isinstance(name, str) and kind in (CredentialKind.KEYS, CredentialKind.CERTIFICATES):
        return name
    raise TypeError(f"no credential id for {kind.value} from {type(name).__name__}")


def mfa_serial(credential_id: str) -> str:
    """The serial number (or ARN) of the MFA device whose lifecycle id is ``credential_id``."""
    return credential_id.removeprefix("mfa:")


def validate_key_id(value: object) -> str:
    """Return ``value`` if it is a long-term AWS access key id, else raise `InputError`.

    Root access keys are long-term keys: ``AKIA`` followed by 16 upper-case letters or
    digits. The message never repeats more than the first characters of the value, in
    case a secret was pasted by mistake.
    """
    if isinstance(value, str) and _KEY_ID.fullmatch(value):
        return value
    return reject("access key id", value, "AKIA followed by 16 upper-case letters or digits")


def validate_certificate_id(value: object) -> str:
    """Return ``value`` if it is a signing certificate id (24-128 word characters)."""
    if isinstance(value, str) and _CERTIFICATE_ID.fullmatch(value):
        return value
    return reject("signing certificate id", value, "24 to 128 letters, digits or underscores")


def validate_credential_id(value: object) -> str:
    """Return ``value`` if it names a root credential in the lifecycle, else raise `InputError`.

    An access key id, a signing certificate id, or the lifecycle's id of a password or
    an MFA device (see `CredentialKind`). The message quotes no more than the first
    characters of the value.
    """
    if isinstance(value, str) and any(
        p.fullmatch(value) for p in (_KEY_ID, _CERTIFICATE_ID, _PASSWORD_ID, _MFA_ID)
    ):
        return value
    return reject(
        "access key id or signing certificate id",
        value,
        "AKIA followed by 16 upper-case letters or digits (an access key), or 24 to 128 "
        "letters, digits or underscores (a signing certificate); a member's password or "
        "MFA device by its id in a plan (password:…, mfa:…)",
    )


def validate_account_credential_id(value: object) -> str:
    """An access key id or signing certificate id: what one account's steps act on.

    A member account's password or MFA id (``password:…``, ``mfa:…``) is refused with
    `InputError`, as any other malformed id.
    """
    if isinstance(value, str) and (_KEY_ID.fullmatch(value) or _CERTIFICATE_ID.fullmatch(value)):
        return value
    return reject(
        "access key id or signing certificate id",
        value,
        "AKIA followed by 16 upper-case letters or digits (an access key), or 24 to 128 "
        "letters, digits or underscores (a signing certificate)",
    )


def validate_credentials(value: object) -> frozenset[CredentialKind]:
    """The kinds ``credentials=`` asks for: a set of `CredentialKind` or their values.

    None means the default kinds (access keys and signing certificates). A lone string
    is refused (``{"keys"}``, not ``"keys"``), as is an empty selection or an unknown
    kind, with `InputError` before any AWS call.
    """
    if value is None:
        return DEFAULT_KINDS
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError(
            'credentials must be a set of kinds, such as {"keys", "certificates"}, not '
            f"{_article(type(value).__name__)} {type(value).__name__}"
        )
    kinds: set[CredentialKind] = set()
    known = ", ".join(repr(k.value) for k in CredentialKind)
    for item in value:
        if not isinstance(item, str) or item not in CredentialKind._value2member_map_:
            shown = repr(item[:16]) if isinstance(item, str) else type(item).__name__
            raise InputError(f"{shown} is not a kind of root credential: expected {known}")
        kinds.add(CredentialKind(item))
    if not kinds:
        raise InputError(f"credentials must name at least one kind: {known}")
    return frozenset(kinds)


SIGN_IN_KINDS = frozenset({CredentialKind.PASSWORD, CredentialKind.MFA})


def validate_member_credentials(value: object) -> frozenset[CredentialKind]:
    """The kinds ``credentials=`` asks for in member accounts (`validate_credentials`).

    MFA devices are removed only with the password: ``{"mfa"}`` alone would leave a root
    password without MFA, so it is refused (`InputError`).
    """
    kinds = validate_credentials(value)
    if CredentialKind.MFA in kinds and CredentialKind.PASSWORD not in kinds:
        raise InputError(
            'MFA devices are removed with the root password: ask for both ({"password", '
            '"mfa"}); removing MFA alone would leave a root password without MFA'
        )
    return kinds


def validate_account_credentials(value: object) -> frozenset[CredentialKind]:
    """The kinds ``credentials=`` asks for in one account: access keys and certificates.

    A root password and MFA devices are refused (`InputError`): they have no Inactive
    state to observe, and the root user of a standalone or management account signs in
    with them; member accounts' are removed through `Organization`.
    """
    kinds = validate_credentials(value)
    if kinds & SIGN_IN_KINDS:
        raise InputError(
            "a root password and MFA devices are removed in an organization's member "
            "accounts only (Organization.remove_all(credentials=...)): here they have no "
            "Inactive state to observe, and this account's root user signs in with them"
        )
    return kinds


def validate_account_id(value: object) -> str:
    """Return ``value`` if it is a 12-digit AWS account id, else raise `InputError`."""
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        return value
    return reject("AWS account id", value, "exactly 12 digits, as a string")


_OU = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")


def validate_account_ids(value: object) -> list[str] | None:
    """Account ids to select (each validated), or None for all; a lone string is refused."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError(
            "account_ids must be a list of 12-digit account ids (a single one in a list too), "
            f"not {_article(type(value).__name__)} {type(value).__name__}"
        )
    return [validate_account_id(a) for a in value]


def validate_ou(value: object) -> str | None:
    """An organizational unit id (``ou-...``) or a root id (``r-...``), or None."""
    if value is None or (isinstance(value, str) and _OU.fullmatch(value)):
        return value
    return reject("organizational unit id", value, "ou-xxxx-xxxxxxxx, or a root id r-xxxx")


def reject(what: str, value: object, expected: str) -> str:
    if isinstance(value, str):
        shown = repr(value[:8] + "…") if len(value) > 8 else repr(value)
    else:
        shown = f"{_article(type(value).__name__)} {type(value).__name__}"
    raise InputError(f"{shown} is not {_article(what)} {what}: expected {expected}")


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


rehome(globals())
