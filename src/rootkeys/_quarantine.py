"""The quarantine SCP: how an organization makes a member's root user unusable.

AssumeRoot's task policies cannot deactivate a key, so for a member account the
reversible "unusable" stage is this service control policy, attached to the account
itself: it denies every action to the root user except in AssumeRoot sessions. Reads only find
it by name; the first attach creates it. It is attached and detached idempotently, and
refused at AWS's limit of 5 SCPs per target.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from rootkeys._errors import QuarantineBlockedError, RootKeysError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["MAX_SCPS_PER_TARGET", "QUARANTINE_NAME", "QUARANTINE_POLICY", "QuarantineScp"]

MAX_SCPS_PER_TARGET = 5
QUARANTINE_NAME = "rootkeys-quarantine-root-user"
QUARANTINE_DESCRIPTION = (
    "rootkeys: makes the member account's root user credentials unusable while its root "
    "access keys are observed; detached to roll back"
)
QUARANTINE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "QuarantineRootUser",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"},
                "Null": {"aws:AssumedRoot": "true"},
            },
        }
    ],
}
"""Denies every action to the root user, except in AssumeRoot sessions (AWS's pattern).

The root ARN pattern leaves the partition open (``ArnLike`` takes wildcards in every
part of an ARN): AWS's example, ``arn:aws:iam::*:root``, matches nobody in
``aws-us-gov`` or ``aws-cn``, and an SCP that matches nobody quarantines nothing.
"""


class QuarantineScp:
    """The quarantine SCP of one organization, through its Organizations client.

    Args:
        orgs: the management account's Organizations client.
        call: runs one AWS call under the retry policy (``call(operation, fn)``).
        pages: every item of a paginated listing (``pages(operation, key, **params)``).
    """

    def __init__(
        self,
        orgs: Any,
        call: Callable[[str, Callable[[], Any]], Any],
        pages: Callable[..., Iterator[dict[str, Any]]],
    ) -> None:
        self._orgs = orgs
        self._call = call
        self._pages = pages
        self._policy_id: str | None = None
        self._lock = threading.Lock()

    def find(self) -> str | None:
        """The quarantine SCP's id, found by name; None while it does not exist.

        A read: it never creates the SCP (only `attach` does). A found id is kept; a
        miss is not, so an SCP made since (by another run) is found next time.
        """
        with self._lock:
            if self._policy_id is None:
                self._policy_id = self._lookup()
            return self._policy_id

    def find_or_create(self) -> str:
        """The quarantine SCP's id: found by name, or created (once) to be attached."""
        with self._lock:
            if self._policy_id is None:
                self._policy_id = self._lookup()
            if self._policy_id is None:
                made = self._call(
                    "CreatePolicy",
                    lambda: self._orgs.create_policy(
                        Content=json.dumps(QUARANTINE_POLICY),
                        Description=QUARANTINE_DESCRIPTION,
                        Name=QUARANTINE_NAME,
                        Type="SERVICE_CONTROL_POLICY",
                    ),
                )
                self._policy_id = str(made["Policy"]["PolicySummary"]["Id"])
            return self._policy_id

    def _lookup(self) -> str | None:
        for policy in self._pages("ListPolicies", "Policies", Filter="SERVICE_CONTROL_POLICY"):
            if policy.get("Name") == QUARANTINE_NAME:
                return str(policy["Id"])
        return None

    def attached(self, account_id: str) -> list[str]:
        """Ids of the SCPs attached to the account itself."""
        return [
            str(p["Id"])
            for p in self._pages(
                "ListPoliciesForTarget",
                "Policies",
                TargetId=account_id,
                Filter="SERVICE_CONTROL_POLICY",
            )
        ]

    def is_attached(self, account_id: str) -> bool:
        """Whether the quarantine SCP is attached to the account (a read: creates nothing)."""
        policy_id = self.find()
        return policy_id is not None and policy_id in self.attached(account_id)

    def attach(self, account_id: str) -> bool:
        """Attach the quarantine SCP, creating it on first use; False if it already was.

        Raises:
            QuarantineBlockedError: the account already has AWS's maximum of 5 SCPs.
        """
        policy_id = self.find_or_create()
        attached = self.attached(account_id)
        if policy_id in attached:
            return False
        if len(attached) >= MAX_SCPS_PER_TARGET:
            raise QuarantineBlockedError(account_id, len(attached))
        return self._change(
            "AttachPolicy",
            lambda: self._orgs.attach_policy(PolicyId=policy_id, TargetId=account_id),
            already="DuplicatePolicyAttachmentException",
        )

    def detach(self, account_id: str) -> bool:
        """Detach the quarantine SCP; False if it was not attached (or does not exist)."""
        policy_id = self.find()
        if policy_id is None or policy_id not in self.attached(account_id):
            return False
        return self._change(
            "DetachPolicy",
            lambda: self._orgs.detach_policy(PolicyId=policy_id, TargetId=account_id),
            already="PolicyNotAttachedException",
        )

    def _change(self, operation: str, change: Callable[[], object], *, already: str) -> bool:
        """Attach or detach; False when AWS answers that it already was so (a race)."""
        try:
            self._call(operation, change)
        except RootKeysError as exc:
            if getattr(exc, "code", "") == already:
                return False
            raise
        return True
