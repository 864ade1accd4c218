"""Helpers for organization tests: an organization on the sandbox, an app that uses a
member's root key, SCP lookups."""

from __future__ import annotations

import botocore.exceptions

import rootkeys
from rootkeys import CheckResult, ObservedKey
from rootkeys.testing import FakeClock, Sandbox


class AppCheck:
    """A check standing in for an app that signs its calls with one member's root key."""

    name = "orders app"

    def __init__(self, sandbox: Sandbox, account_id: str, key_id: str) -> None:
        self.sandbox, self.account_id, self.key_id = sandbox, account_id, key_id

    def __call__(self, key: ObservedKey) -> CheckResult:
        if key.account_id != self.account_id:
            return CheckResult(ok=True)
        session = self.sandbox.root_session(self.account_id, key_id=self.key_id)
        try:
            session.client("iam", region_name="us-east-1").get_account_summary()
        except botocore.exceptions.ClientError as exc:
            return CheckResult(ok=False, reason=f"orders app failing: {exc.response['Error']}")
        return CheckResult(ok=True)


def quarantined(sandbox: Sandbox, account_id: str) -> bool:
    """Whether rootkeys' quarantine SCP is attached to the account."""
    client = sandbox.management_session().client("organizations")
    policies = client.list_policies_for_target(
        TargetId=account_id, Filter="SERVICE_CONTROL_POLICY"
    )["Policies"]
    return any(p["Name"] == "rootkeys-quarantine-root-user" for p in policies)


def organization(
    sandbox: Sandbox, clock: FakeClock, journal: rootkeys.Journal, **kwargs: object
) -> rootkeys.Organization:
    """An `Organization` on the sandbox's management account, its clock and journal."""
    return rootkeys.Organization(
        sandbox.management_session(),
        clock=clock,
        journal=journal,
        **kwargs,  # type: ignore[arg-type]
    )
