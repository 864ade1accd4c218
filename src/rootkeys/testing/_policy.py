"""How the sandbox evaluates a service control policy: whether it denies a call.

A small, strict subset of IAM's policy evaluation, enough to judge quarantine SCPs for
real rather than by their look:

- only ``Deny`` statements count (an SCP's allows are not modelled: nothing is denied
  for want of an allow); a statement applies when one of its ``Action`` patterns
  matches the action and its ``Resource`` includes ``*`` (the sandbox does not know
  which resource a call is on); ``NotAction`` and ``NotResource`` statements never apply;
- every condition operator of a statement must hold, every key within it, any value of
  a key: ``ArnLike``/``ArnEquals`` match each of an ARN's six ``:``-separated parts on
  its own, ``StringLike`` the whole string, with ``*`` (any run of characters) and
  ``?`` (one character), case-sensitively, as IAM does; ``StringEquals`` is exact;
  ``Null`` tests whether the key is absent;
- the context keys are ``aws:PrincipalArn`` and ``aws:AssumedRoot`` (present, ``true``,
  only in an AssumeRoot session); any other key is absent;
- an operator the sandbox does not know (``...IfExists``, ``ForAnyValue:...``, the
  negated ones) makes its statement not apply. So a policy only denies here when it
  would in AWS: a condition that matches nothing (say ``arn:aws:...`` for a principal of
  ``aws-us-gov``) denies nothing, and tests see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CallContext", "arn_like", "denies", "string_like"]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a policy's statements see of one call.

    Attributes:
        principal_arn: ``aws:PrincipalArn``; the root user's is
            ``arn:<partition>:iam::<account>:root``, in an AssumeRoot session too.
        action: ``service:Operation``, such as ``iam:ListAccessKeys``; ``*`` asks
            whether *every* action is denied (only an ``Action`` of ``*`` covers it).
        assumed_root: whether the call is made in an ``sts:AssumeRoot`` session (then
            ``aws:AssumedRoot`` is present, with the value ``true``).
    """

    principal_arn: str
    action: str
    assumed_root: bool = False

    def value(self, key: str) -> str | None:
        """The context key's value, or None when the call does not have it."""
        known = {
            "aws:principalarn": self.principal_arn,
            "aws:assumedroot": "true" if self.assumed_root else None,
        }
        return known.get(key.lower())


def denies(document: str | Mapping[str, Any] | None, context: CallContext) -> bool:
    """Whether the policy document has a ``Deny`` statement that applies to the call."""
    if document is None or isinstance(document, str):
        try:
            document = json.loads(document or "{}")
        except ValueError:
            return False
    if not isinstance(document, Mapping):
        return False
    statements = document.get("Statement", [])
    for statement in [statements] if isinstance(statements, Mapping) else statements:
        if isinstance(statement, Mapping) and _applies(statement, context):
            return True
    return False


def _applies(statement: Mapping[str, Any], context: CallContext) -> bool:
    if statement.get("Effect") != "Deny" or "NotAction" in statement or "NotResource" in statement:
        return False
    if not any(_action_matches(p, context.action) for p in _listed(statement.get("Action"))):
        return False
    if "*" not in _listed(statement.get("Resource", "*")):
        return False
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        return False
    return all(_holds(op, block, context) for op, block in condition.items())


def _action_matches(pattern: str, action: str) -> bool:
    if action == "*":
        return pattern == "*"
    return _wildcard(pattern.lower()).fullmatch(action.lower()) is not None


def _holds(operator: str, block: object, context: CallContext) -> bool:
    """One condition operator's block: every key in it holds (for any of its values)."""
    if not isinstance(block, Mapping):
        return False
    for key, values in block.items():
        actual = context.value(key)
        wanted = _listed(values)
        if operator == "Null":
            if not any((actual is None) == (w.lower() == "true") for w in wanted):
                return False
        elif operator in ("ArnLike", "ArnEquals"):
            if actual is None or not any(arn_like(w, actual) for w in wanted):
                return False
        elif operator == "StringLike":
            if actual is None or not any(string_like(w, actual) for w in wanted):
                return False
        elif operator == "StringEquals":
            if actual is None or actual not in wanted:
                return False
        else:
            return False  # an operator the sandbox does not evaluate never holds
    return True


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ``ArnLike``: each of the six ``:``-separated parts matched on its own.

    ``arn:*:iam::*:root`` matches a root user in every partition; ``arn:aws:iam::*:root``
    matches only in ``aws``.
    """
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(string_like(w, a) for w, a in zip(wanted, actual, strict=True))


def string_like(pattern: str, value: str) -> bool:
    """IAM's ``StringLike``: ``*`` is any run of characters, ``?`` one; case-sensitive."""
    return _wildcard(pattern).fullmatch(value) is not None


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` as IAM reads them; every other character literal (no ``[...]``)."""
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _listed(value: object) -> list[str]:
    """A policy element's one value or list of values, as strings (JSON ``true`` as "true")."""
    values = value if isinstance(value, list | tuple) else [] if value is None else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
