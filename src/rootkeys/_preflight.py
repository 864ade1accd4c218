"""The seed's prerequisites, checked rather than assumed, before anything changes.

- Another way to administer the account exists: an IAM user or role with
  ``AdministratorAccess``, or another attached policy that allows every action on every
  resource. Without one, the root user may be the only administrator.
- The root user has MFA (``AccountMFAEnabled``): without it, once the keys are gone the
  root password is the account's only protection.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from typing import TYPE_CHECKING, Any

from rootkeys._errors import RootKeysError
from rootkeys._findings import Preflight

if TYPE_CHECKING:
    from rootkeys._iam import IamGateway

__all__ = ["ADMINISTRATOR_ACCESS", "check_preflight"]

log = logging.getLogger("rootkeys")

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
NO_ADMIN = (
    "no other administrator found: no IAM user or role has AdministratorAccess or another "
    "policy allowing every action. Create one (or confirm IAM Identity Center access) "
    "before removing the root keys."
)
NO_MFA = (
    "the root user has no MFA: once its keys are gone, its password is the account's only "
    "protection. Enable root MFA."
)


def check_preflight(gateway: IamGateway, partition: str = "aws") -> Preflight:
    """Look for another administrator and for root MFA; never raises for AWS errors."""
    admins: list[str] = []
    unavailable: list[str] = []
    admin_policy = ADMINISTRATOR_ACCESS.replace("arn:aws:", f"arn:{partition}:")
    try:
        admins += gateway.principals_with_policy(admin_policy)
        for arn, document in gateway.attached_local_policies():
            if _allows_everything(document):
                name = arn.rsplit("/", 1)[-1]
                admins += [f"{who} (policy {name})" for who in gateway.principals_with_policy(arn)]
    except RootKeysError as exc:
        unavailable.append(f"administrators: {exc}")
    mfa: bool | None
    try:
        mfa = bool(gateway.account_summary().get("AccountMFAEnabled", 0))
    except RootKeysError as exc:
        unavailable.append(f"root MFA: {exc}")
        mfa = None
    warnings = []
    if not admins and not unavailable:
        warnings.append(NO_ADMIN)
    if mfa is False:
        warnings.append(NO_MFA)
    for warning in warnings:
        log.warning("preflight: %s", warning)
    return Preflight(
        administrators=tuple(dict.fromkeys(admins)),
        root_mfa=mfa,
        warnings=tuple(warnings),
        unavailable=tuple(unavailable),
    )


def _allows_everything(document: Any) -> bool:
    """Whether a policy document has ``Allow`` of action ``*`` on resource ``*``."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow" or "Condition" in statement:
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if "*" in actions and "*" in resources:
            return True
    return False
