"""The exceptions rootkeys raises.

Every exception that crosses the public API derives from one base::

    RootKeysError
    ├── InputError                 bad input, raised before any AWS call (also a ValueError)
    │   └── ConfigError            a config file that cannot be used (names the file and line)
    ├── NotRootError               the caller is not the root user of the intended account
    │   └── AccountMismatchError   root, but of another account than the one named
    ├── IllegalTransitionError     the lifecycle refuses this step (e.g. delete an Active key)
    ├── ProtectedKeyError          the key signs the current session: never touched
    ├── KeyNotFoundError           no such root access key in this account
    ├── OrganizationSetupError     centralized root access is not set up (says how)
    │   └── NotManagementAccountError  only the management account may do this
    ├── QuarantineBlockedError     a member account has no room for the quarantine SCP
    ├── JournalError               the journal cannot be opened, read or written
    │   └── JournalLockedError     another process is acting on the account
    └── AWSError                   AWS answered with an error (code and request id kept)
        ├── AccessDeniedError      not allowed (never retried)
        ├── LimitExceededError     an IAM quota, not throttling (never retried)
        ├── ThrottledError         still throttled after every retry
        ├── ServiceError           AWS failed (5xx) after every retry
        ├── EndpointError          could not reach AWS after every retry
        └── InvalidCredentialsError  the credentials are expired, invalid or inactive

Messages never contain a secret access key or a session token: exceptions carry
key ids (which are not secret), account ids, ARNs, AWS error codes and request ids.
"""

from __future__ import annotations

from rootkeys._public import rehome

__all__ = [
    "AWSError",
    "AccessDeniedError",
    "AccountMismatchError",
    "ConfigError",
    "EndpointError",
    "IllegalTransitionError",
    "InputError",
    "InvalidCredentialsError",
    "JournalError",
    "JournalFencedError",
    "JournalLockedError",
    "KeyNotFoundError",
    "LimitExceededError",
    "NotManagementAccountError",
    "NotRootError",
    "OrganizationSetupError",
    "ProtectedKeyError",
    "QuarantineBlockedError",
    "RootKeysError",
    "ServiceError",
    "ThrottledError",
]


class RootKeysError(Exception):
    """Base class of every error rootkeys raises on purpose."""


class InputError(RootKeysError, ValueError):
    """Bad input: a malformed id, a negative window, an unknown profile.

    Always raised before any AWS call is made.
    """


class ConfigError(InputError):
    """A config file that cannot be used: missing, not TOML, or not what rootkeys expects.

    The message names the file and, when known, the line (``config.toml, line 7:
    checks.http[0].expected_status: ...``).

    Attributes:
        path: the file.
        line: the line the problem is on (1-based), or None (a missing file).
        detail: what is wrong, without the file and line.
    """

    def __init__(self, path: object, line: int | None, detail: str) -> None:
        self.path = str(path)
        self.line = line
        self.detail = detail
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {detail}")


class NotRootError(RootKeysError):
    """The credentials are not those of the account's root user.

    This matters: IAM's access-key calls without ``UserName`` act on the *caller*,
    so the same call signed by an IAM user would act on that user's keys.
    """

    def __init__(self, arn: str, message: str | None = None) -> None:
        self.arn = arn
        super().__init__(
            message
            or (
                f"the caller is {arn}, not an account's root user "
                "(arn:aws:iam::<account>:root); nothing was changed. Sign in as the root "
                "user (for instance in AWS CloudShell) or use an AssumeRoot session."
            )
        )


class AccountMismatchError(NotRootError):
    """The caller is a root user, but of another account than the one intended."""

    def __init__(self, arn: str, expected_account_id: str, actual_account_id: str) -> None:
        self.expected_account_id = expected_account_id
        self.actual_account_id = actual_account_id
        super().__init__(
            arn,
            f"the credentials belong to account {actual_account_id}, not to the intended "
            f"account {expected_account_id}; nothing was changed.",
        )


class IllegalTransitionError(RootKeysError):
    """The lifecycle does not allow this step for this key."""

    def __init__(self, key_id: str, current: str, target: str, reason: str = "") -> None:
        self.key_id = key_id
        self.current = current
        self.target = target
        text = f"key {key_id} cannot go from {current} to {target}"
        super().__init__(f"{text}: {reason}" if reason else text)


class ProtectedKeyError(RootKeysError):
    """The key signs the session in use; touching it would lock the caller out."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            f"key {key_id} signs the current session and is never deactivated or deleted "
            "by rootkeys. Run from AWS CloudShell signed in as root, from an AssumeRoot "
            "session, or sign with the other root key."
        )


class KeyNotFoundError(RootKeysError):
    """The account's root user has no access key with this id."""

    def __init__(self, key_id: str, account_id: str | None = None) -> None:
        self.key_id = key_id
        self.account_id = account_id
        where = f" in account {account_id}" if account_id else ""
        super().__init__(f"the root user has no access key {key_id}{where}")


class OrganizationSetupError(RootKeysError):
    """The organization cannot use centralized root access yet; the message says how."""


class NotManagementAccountError(OrganizationSetupError):
    """The session is not the organization's management account, which this needs.

    Enabling centralized root access is the management account's alone; the IAM
    delegated administrator may read the features and use AssumeRoot, not enable them.

    Attributes:
        account_id: the account the session belongs to.
        management_account_id: the organization's management account.
        role: what the session is: ``"IAM delegated administrator"`` or ``"member account"``.
    """

    def __init__(self, account_id: str, management_account_id: str, role: str, what: str) -> None:
        self.account_id = account_id
        self.management_account_id = management_account_id
        self.role = role
        super().__init__(
            f"{what} needs the management account {management_account_id}; this session is "
            f"account {account_id} ({role}). Nothing was changed: sign in to the management "
            "account and run it again."
        )


class QuarantineBlockedError(RootKeysError):
    """A member account already has AWS's maximum of 5 SCPs: no room for the quarantine."""

    def __init__(self, account_id: str, attached: int) -> None:
        self.account_id = account_id
        super().__init__(
            f"account {account_id} already has {attached} service control policies (AWS "
            "allows 5 per target), so it cannot be quarantined; detach one, or remove its "
            "root keys with a single-account run"
        )


class JournalError(RootKeysError):
    """The journal cannot be opened, read or written.

    Raised before any AWS call when opening (a corrupt file, not a rootkeys journal, a
    newer schema, a missing or read-only directory); when recording an intent fails,
    the change it announced is not made.
    """


class JournalLockedError(JournalError):
    """Another process holds the account's lock for longer than the lock timeout."""

    def __init__(self, account_id: str, waited: object, journal: object) -> None:
        self.account_id = account_id
        super().__init__(
            f"another rootkeys process is acting on account {account_id} (waited {waited}; "
            f"journal {journal}); try again when it has finished, or once its lease expires "
            "if it stopped without letting go"
        )


class JournalFencedError(JournalError):
    """The account's lease was taken over by another process; this one's write was refused.

    A process that paused (or lost its connection) past its lease's expiry finds another
    holder acting on the account: it must stop acting there. Nothing it refused to write
    was done.
    """

    def __init__(
        self, account_id: str, token: int, location: str, *, expired: bool = False
    ) -> None:
        self.account_id = account_id
        self.token = token
        why = (
            "expired before it could be renewed (the journal was out of reach, or this "
            "process paused); another may take the account over"
            if expired
            else "was taken over by another process"
        )
        super().__init__(
            f"the lease on account {account_id} in the journal {location} {why} (this "
            f"process held token {token}); stopped acting on it"
        )


class AWSError(RootKeysError):
    """AWS answered an API call with an error.

    Attributes:
        code: the AWS error code (``AccessDenied``, ``Throttling``, ...).
        operation: the API operation (``UpdateAccessKey``, ...).
        request_id: the AWS request id, for support cases; may be empty.
        status: the HTTP status code, when there was a response.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        request_id: str = "",
        status: int | None = None,
    ) -> None:
        self.code = code
        self.operation = operation
        self.request_id = request_id
        self.status = status
        detail = ", ".join(
            part
            for part in (
                f"code {code}" if code else "",
                f"request id {request_id}" if request_id else "",
            )
            if part
        )
        prefix = f"{operation}: " if operation else ""
        super().__init__(f"{prefix}{message}" + (f" ({detail})" if detail else ""))


class AccessDeniedError(AWSError):
    """The caller is not allowed to make this call. Never retried."""


class LimitExceededError(AWSError):
    """An IAM quota was hit (not throttling). Never retried."""


class ThrottledError(AWSError):
    """AWS kept throttling the call after every retry."""


class ServiceError(AWSError):
    """AWS kept failing (HTTP 5xx) after every retry."""


class EndpointError(AWSError):
    """The AWS endpoint could not be reached after every retry."""


class InvalidCredentialsError(AWSError):
    """The credentials are expired, invalid, or belong to an inactive key."""


rehome(globals())
