"""What the sandbox saw: one record per call, without secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["MUTATING_PREFIXES", "SECRET_PARAMS", "SandboxCall"]

SECRET_PARAMS = frozenset({"Password", "NewPassword", "OldPassword", "PrivateKey"})
"""Request parameters the call log never keeps (shown as ``***``)."""

MUTATING_PREFIXES = (
    "Create",
    "Update",
    "Delete",
    "Put",
    "Attach",
    "Detach",
    "Enable",
    "Disable",
    "Tag",
    "Untag",
    "Add",
    "Remove",
    "Set",
    "Upload",
)


@dataclass(frozen=True, slots=True)
class SandboxCall:
    """One call the sandbox saw. Holds no secret.

    Attributes:
        service: ``iam``, ``sts``, ...
        operation: the API operation name.
        account_id: the account whose credentials signed it, when known.
        principal: ``root`` (a root key or root session), ``assumed-root`` (an AssumeRoot
            session, acting as the root user of ``account_id`` under a task policy),
            ``user``, ``admin`` or ``other``.
        signing_key_id: the access key id that signed it.
        params: the request parameters (never secret for the calls rootkeys makes).
        status: the HTTP status answered, or 0 for a connection fault.
        fault: the injected fault, if one answered.
        at: when it arrived, on the sandbox's clock.
        region: the region the call was signed for.
        served: whether it came over HTTP, to `Sandbox.serve`'s endpoint (from another
            process, or a client given the endpoint's URL), rather than from a session
            the sandbox intercepts in process.
        denied_by: ``task policy`` when an AssumeRoot session's task policy denied the
            call, ``scp`` when a service control policy did; None otherwise.
    """

    service: str
    operation: str
    account_id: str | None
    principal: str
    signing_key_id: str | None
    params: Mapping[str, str]
    status: int
    fault: str | None = None
    at: datetime | None = None
    region: str | None = None
    served: bool = False
    denied_by: str | None = None

    @property
    def mutating(self) -> bool:
        """Whether the operation changes state."""
        return self.operation.startswith(MUTATING_PREFIXES)
