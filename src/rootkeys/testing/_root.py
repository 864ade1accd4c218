"""The root user moto does not have: its keys, and its answers to IAM and STS.

`RootUser` holds one account's root credentials and IAM's eventual consistency about
them (`Staleness`: stale reads after writes, kind by kind). `answer` gives the root
user's answer to a call, or None when moto should answer it.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import string
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rootkeys._models import AccessKey, CredentialKind, KeyStatus, LastUsed
from rootkeys.testing import _http
from rootkeys.testing._credentials import (
    CREDENTIAL_CALLS,
    RootCertificate,
    RootMfaDevice,
    RootPassword,
    answer_credentials,
)
from rootkeys.testing._staleness import Staleness

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

__all__ = [
    "MAX_ROOT_KEYS",
    "RootKey",
    "RootUser",
    "answer",
    "correct_summary",
    "invalid_token",
    "random_id",
    "random_secret",
    "refused_key",
    "seed_administrator_access",
]

MAX_ROOT_KEYS = 2
"""The root user can have at most two access keys (IAM User Guide)."""

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def random_id(prefix: str) -> str:
    """An access key id: ``prefix`` and 16 upper-case letters or digits."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def random_secret(length: int = 40) -> str:
    """A secret shaped like AWS's (40 base64 characters by default)."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))


@dataclass
class RootKey:
    """One root access key, secret included (the sandbox signs with it)."""

    key_id: str
    secret: str = field(repr=False)
    status: KeyStatus
    created_at: datetime
    last_used: LastUsed | None = None

    def model(self) -> AccessKey:
        """The key as rootkeys' model (no secret)."""
        return AccessKey(
            key_id=self.key_id,
            status=self.status,
            created_at=self.created_at,
            last_used=self.last_used,
        )


@dataclass
class RootUser:
    """One account's root user: its credentials, and how stale IAM's reads of them are."""

    account_id: str
    partition: str = "aws"
    keys: dict[str, RootKey] = field(default_factory=dict)
    certificates: dict[str, RootCertificate] = field(default_factory=dict)
    password: RootPassword | None = None
    mfa_devices: dict[str, RootMfaDevice] = field(default_factory=dict)
    report_generated_at: datetime | None = None
    report_in_progress: int = 0
    report_snapshot: RootUser | None = None
    staleness: dict[CredentialKind, Staleness[RootUser]] = field(default_factory=dict)
    """Stale reads injected, by kind of credential (none: every read is the truth)."""

    @property
    def arn(self) -> str:
        """The root user's ARN, ``arn:<partition>:iam::<account>:root``."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def mfa_enabled(self) -> bool:
        """Whether an MFA device is assigned to the root user (``AccountMFAEnabled``)."""
        return any(d.assigned for d in self.mfa_devices.values())

    def add_key(self, status: KeyStatus, now: datetime) -> RootKey:
        """A new key (ValueError past the quota)."""
        if len(self.keys) >= MAX_ROOT_KEYS:
            raise ValueError(f"the root user of {self.account_id} already has {MAX_ROOT_KEYS} keys")
        key = RootKey(random_id("AKIA"), random_secret(), status, now)
        self.keys[key.key_id] = key
        return key

    def snapshot(self) -> RootUser:
        """A deep copy of the root user's credentials as they are now (no report, no staleness)."""
        return copy.deepcopy(replace(self, report_snapshot=None, staleness={}))

    def view(self, kind: CredentialKind) -> RootUser:
        """What one read of ``kind`` sees: the truth, or the root user before the last write."""
        stale = self.staleness.get(kind)
        return self if stale is None else stale.read(self)

    def visible_keys(self) -> dict[str, RootKey]:
        """What one read of the access keys sees (`view`)."""
        return self.view(CredentialKind.KEYS).keys

    def before_write(self, kind: CredentialKind) -> None:
        """Take the state stale reads of ``kind`` will see, if they are injected for it."""
        stale = self.staleness.get(kind)
        if stale is not None:
            stale.write(self.snapshot)

    def clear_staleness(self) -> None:
        """No more stale reads."""
        self.staleness.clear()


def answer(
    user: RootUser,
    request: AWSPreparedRequest,
    service: str,
    operation: str,
    params: Mapping[str, str],
    *,
    as_root: bool,
    now: datetime,
    on_new_key: Callable[[RootKey], object],
    assumed_root: bool = False,
) -> AWSResponse | None:
    """The root user's answer to a call made in its account, or None to let moto answer.

    ``as_root`` says the call is signed by root credentials (a root key or a root
    session). Access-key calls without ``UserName`` then act on the root user, as in
    AWS. ``GetAccessKeyLastUsed`` on a root key is answered for any caller in the account.
    ``on_new_key`` hears of each key ``CreateAccessKey`` makes. The root user's other
    credentials (certificates, password, MFA) are answered the same way, without
    ``UserName`` (`rootkeys.testing._credentials`); ``assumed_root`` says the call comes
    from an AssumeRoot session.
    """
    account = user.account_id
    if service == "sts" and operation == "GetCallerIdentity" and as_root:
        return _http.answer(
            request,
            "sts",
            operation,
            f"<Arn>{user.arn}</Arn><UserId>{account}</UserId><Account>{account}</Account>",
        )
    if service != "iam":
        return None
    if operation == "GetAccessKeyLastUsed" and params.get("AccessKeyId") in user.keys:
        return _last_used(request, user.keys[params["AccessKeyId"]])
    if not as_root or "UserName" in params:
        return None
    if operation == "ListAccessKeys":
        return _list(request, user)
    if operation == "UpdateAccessKey":
        return _update(request, user, params)
    if operation == "DeleteAccessKey":
        return _delete(request, user, params)
    if operation == "CreateAccessKey":
        return _create(request, user, now, on_new_key)
    if operation in CREDENTIAL_CALLS:
        return answer_credentials(
            user, request, operation, params, now=now, assumed_root=assumed_root
        )
    return None


def refused_key(user: RootUser, key_id: str) -> bool:
    """Whether a call signed with this root key must be refused (Inactive or deleted)."""
    key = user.keys.get(key_id)
    return key is None or key.status is not KeyStatus.ACTIVE


def invalid_token(request: AWSPreparedRequest, service: str) -> AWSResponse:
    """What AWS answers a call signed with an inactive or deleted key."""
    message = "The security token included in the request is invalid."
    return _http.error(request, service, "InvalidClientTokenId", message, 403)


def _list(request: AWSPreparedRequest, user: RootUser) -> AWSResponse:
    body = _http.members(
        [
            {
                "AccessKeyId": k.key_id,
                "Status": k.status.value,
                "CreateDate": _http.timestamp(k.created_at),
            }
            for k in user.visible_keys().values()
        ]
    )
    return _http.answer(
        request,
        "iam",
        "ListAccessKeys",
        f"<AccessKeyMetadata>{body}</AccessKeyMetadata><IsTruncated>false</IsTruncated>",
    )


def _update(request: AWSPreparedRequest, user: RootUser, params: Mapping[str, str]) -> AWSResponse:
    key = user.keys.get(params.get("AccessKeyId", ""))
    if key is None:
        return _no_such_key(request, params)
    status = params.get("Status")
    if status not in (KeyStatus.ACTIVE.value, KeyStatus.INACTIVE.value):
        message = f"Value '{status}' at 'status' failed to satisfy constraint"
        return _http.error(request, "iam", "ValidationError", message, 400)
    user.before_write(CredentialKind.KEYS)
    key.status = KeyStatus(status)
    return _http.answer(request, "iam", "UpdateAccessKey")


def _delete(request: AWSPreparedRequest, user: RootUser, params: Mapping[str, str]) -> AWSResponse:
    if params.get("AccessKeyId") not in user.keys:
        return _no_such_key(request, params)
    user.before_write(CredentialKind.KEYS)
    del user.keys[params["AccessKeyId"]]
    return _http.answer(request, "iam", "DeleteAccessKey")


def _create(
    request: AWSPreparedRequest,
    user: RootUser,
    now: datetime,
    on_new_key: Callable[[RootKey], object],
) -> AWSResponse:
    if len(user.keys) >= MAX_ROOT_KEYS:
        message = f"Cannot exceed quota for AccessKeysPerUser: {MAX_ROOT_KEYS}"
        return _http.error(request, "iam", "LimitExceeded", message, 409)
    user.before_write(CredentialKind.KEYS)
    key = user.add_key(KeyStatus.ACTIVE, now)
    on_new_key(key)
    return _http.answer(
        request,
        "iam",
        "CreateAccessKey",
        f"<AccessKey><UserName>{user.account_id}</UserName>"
        f"<AccessKeyId>{key.key_id}</AccessKeyId><Status>Active</Status>"
        f"<SecretAccessKey>{key.secret}</SecretAccessKey>"
        f"<CreateDate>{_http.timestamp(key.created_at)}</CreateDate></AccessKey>",
    )


def _last_used(request: AWSPreparedRequest, key: RootKey) -> AWSResponse:
    used = key.last_used
    inner = (
        "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
        if used is None
        else f"<LastUsedDate>{_http.timestamp(used.at)}</LastUsedDate>"
        f"<ServiceName>{used.service}</ServiceName><Region>{used.region or 'N/A'}</Region>"
    )
    return _http.answer(
        request, "iam", "GetAccessKeyLastUsed", f"<AccessKeyLastUsed>{inner}</AccessKeyLastUsed>"
    )


_PRESENT = re.compile(r"(<key>AccountAccessKeysPresent</key>\s*<value>)\d+(</value>)")
_MFA = re.compile(r"(<key>AccountMFAEnabled</key>\s*<value>)\d+(</value>)")
_CERTS = re.compile(r"(<key>AccountSigningCertificatesPresent</key>\s*<value>)\d+(</value>)")


def correct_summary(
    user: RootUser, request: AWSPreparedRequest, response: AWSResponse
) -> AWSResponse:
    """Moto's account summary, with the root user's ``Account...Present`` and MFA flags.

    Each flag is a read of its kind (stale ones answer the state before the last write).
    """
    present = int(bool(user.visible_keys()))
    mfa = int(user.view(CredentialKind.MFA).mfa_enabled)
    certificates = int(bool(user.view(CredentialKind.CERTIFICATES).certificates))
    body = _PRESENT.sub(rf"\g<1>{present}\g<2>", response.content.decode())
    body = _MFA.sub(rf"\g<1>{mfa}\g<2>", body)
    body = _CERTS.sub(rf"\g<1>{certificates}\g<2>", body)
    return _http.respond(request, response.status_code, body)


def _no_such_key(request: AWSPreparedRequest, params: Mapping[str, str]) -> AWSResponse:
    message = f"The Access Key with id {params.get('AccessKeyId', '')} cannot be found"
    return _http.error(request, "iam", "NoSuchEntity", message, 404)


REPORT_LIFETIME = timedelta(hours=4)
"""AWS makes a new credential report at most every 4 hours; older ones are expired."""
_CONTENT = re.compile(r"<Content>([^<]*)</Content>")
_GENERATED = re.compile(r"<GeneratedTime>[^<]*</GeneratedTime>")


def generate_report(user: RootUser, request: AWSPreparedRequest, now: datetime) -> AWSResponse:
    """``GenerateCredentialReport``: a new report unless one is under 4 hours old."""
    fresh = user.report_generated_at and now - user.report_generated_at < REPORT_LIFETIME
    if fresh:
        return _http.answer(
            request,
            "iam",
            "GenerateCredentialReport",
            "<State>COMPLETE</State><Description>Report exists</Description>",
        )
    user.report_generated_at = now
    user.report_in_progress = 1  # the next read answers ReportInProgress, as AWS may
    # a report shows the account as it was when made
    user.report_snapshot = user.snapshot()
    return _http.answer(
        request,
        "iam",
        "GenerateCredentialReport",
        "<State>STARTED</State><Description>Started</Description>",
    )


def report_refusal(
    user: RootUser, request: AWSPreparedRequest, now: datetime
) -> AWSResponse | None:
    """The error ``GetCredentialReport`` answers now, if any."""
    if user.report_generated_at is None:
        return _http.error(request, "iam", "ReportNotPresent", "Credential report not present", 410)
    if now - user.report_generated_at >= REPORT_LIFETIME:
        return _http.error(request, "iam", "ReportExpired", "Credential report expired", 410)
    if user.report_in_progress:
        user.report_in_progress -= 1
        return _http.error(request, "iam", "ReportInProgress", "Report is being generated", 404)
    return None


def add_root_row(user: RootUser, request: AWSPreparedRequest, response: AWSResponse) -> AWSResponse:
    """Moto's report, dated on the sandbox's clock, with the ``<root_account>`` row in."""
    text = response.content.decode()
    match = _CONTENT.search(text)
    if match is None or user.report_generated_at is None or user.report_snapshot is None:
        return response
    made = user.report_snapshot  # a report shows the account as it was when made
    lines = base64.b64decode(match.group(1)).decode().splitlines()
    header = lines[0].split(",")
    row = dict.fromkeys(header, "N/A")  # AWS's "not applicable" (no key, never used, ...)
    used = made.password.last_used_at if made.password else None
    row.update(
        {
            "user": "<root_account>",
            "arn": user.arn,
            "user_creation_time": "2015-01-01T00:00:00+00:00",
            # The root user's password columns, as the IAM User Guide ("Generate
            # credential reports") describes them: password_enabled is true or false (false
            # for member accounts without root credentials); its use is a date or
            # no_information (never N/A, which Prowler's iam_avoid_root_usage cannot read);
            # the rotation columns are not supported for root.
            "password_enabled": str(made.password is not None).lower(),
            "password_last_used": "no_information" if used is None else used.isoformat(),
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "mfa_active": str(made.mfa_enabled).lower(),
        }
    )
    keys = sorted(made.keys.values(), key=lambda k: k.created_at)
    certificates = sorted(made.certificates.values(), key=lambda c: c.uploaded_at)
    for slot in (1, 2):
        prefix = f"access_key_{slot}_"
        row[prefix + "active"] = "false"
        if slot <= len(keys):
            key = keys[slot - 1]
            row[prefix + "active"] = str(key.status is KeyStatus.ACTIVE).lower()
            row[prefix + "last_rotated"] = key.created_at.isoformat()
            if key.last_used:
                row[prefix + "last_used_date"] = key.last_used.at.isoformat()
                row[prefix + "last_used_region"] = key.last_used.region or "N/A"
                row[prefix + "last_used_service"] = key.last_used.service
        row[f"cert_{slot}_active"] = "false"
        if slot <= len(certificates):
            cert = certificates[slot - 1]
            row[f"cert_{slot}_active"] = str(cert.status == "Active").lower()
            row[f"cert_{slot}_last_rotated"] = cert.uploaded_at.isoformat()
    lines.insert(1, ",".join(row[column] for column in header))
    content = base64.b64encode(("\n".join(lines) + "\n").encode()).decode()
    text = text.replace(match.group(0), f"<Content>{content}</Content>")
    text = _GENERATED.sub(
        f"<GeneratedTime>{_http.timestamp(user.report_generated_at)}</GeneratedTime>", text
    )
    return _http.respond(request, response.status_code, text)


def seed_administrator_access(account_id: str, region: str) -> None:
    """Give moto's account the AWS managed policy AdministratorAccess, and only that one.

    moto can load every AWS managed policy, but that costs about half a second per
    account; rootkeys' preflight needs just this one to be attachable. It is made in the
    region's partition (``arn:<partition>:iam::aws:policy/AdministratorAccess``).
    """
    from moto.iam.models import AWSManagedPolicy, iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region)]
    policy = AWSManagedPolicy.from_data(
        "AdministratorAccess",
        account_id,
        region,
        {
            "DefaultVersionId": "v1",
            "Path": "/",
            "Document": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            },
            "CreateDate": "2015-02-06T18:39:46+00:00",
            "UpdateDate": "2015-02-06T18:39:46+00:00",
        },
    )
    backend.managed_policies.setdefault(policy.arn, policy)
