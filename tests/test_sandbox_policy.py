"""The sandbox's SCP evaluation: a statement denies only the calls its conditions match."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rootkeys.testing._policy import CallContext, arn_like, denies, string_like

ROOT = "arn:aws:iam::111122223333:root"
CALL = CallContext(ROOT, "iam:ListAccessKeys")


def _deny(condition: dict[str, Any] | None = None, **statement: Any) -> str:
    body: dict[str, Any] = {"Effect": "Deny", "Action": "*", "Resource": "*", **statement}
    if condition is not None:
        body["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("arn:*:iam::*:root", "arn:aws-us-gov:iam::111122223333:root", True),
        ("arn:aws:iam::*:root", "arn:aws-us-gov:iam::111122223333:root", False),
        ("arn:aws:iam::*:root", ROOT, True),
        ("arn:aws:iam::*:root", "arn:aws:iam::111122223333:user/root", False),
        ("arn:aws:iam::*", ROOT, False),  # five parts: not an ARN pattern
        ("arn:aws:iam::?????????????:root", ROOT, False),  # one ? per character
        ("arn:aws:iam::????????????:root", ROOT, True),
        ("arn:aws:iam::*:ROOT", ROOT, False),  # case-sensitive
        ("arn:aws:iam::[0-9]*:root", ROOT, False),  # [...] is literal, not a class
    ],
    ids=[
        "any-partition-matches-gov",
        "aws-only-misses-gov",
        "aws-matches-aws",
        "user-named-root-is-not-root",
        "too-few-parts",
        "question-marks-count",
        "twelve-question-marks",
        "case-sensitive",
        "no-character-classes",
    ],
)
def test_arn_like_matches_part_by_part(pattern: str, arn: str, matches: bool) -> None:
    """ArnLike matches each of the six ARN parts on its own, with * and ? only."""
    assert arn_like(pattern, arn) is matches


def test_string_like_star_crosses_colons() -> None:
    """StringLike matches the whole string: its * may span the ARN's colons."""
    assert string_like("arn:*:root", ROOT)
    assert not arn_like("arn:*:root", ROOT)


@pytest.mark.parametrize(
    ("operator", "pattern", "denied"),
    [
        ("ArnLike", "arn:*:iam::*:root", True),
        ("StringLike", "arn:aws*:iam::*:root", True),
        ("ArnEquals", "arn:aws:iam::111122223333:root", True),
        ("StringEquals", "arn:aws:iam::*:root", False),  # no wildcards in StringEquals
        ("ArnLike", "arn:aws-cn:iam::*:root", False),
        ("ArnLikeIfExists", "arn:*:iam::*:root", False),  # not evaluated: never holds
    ],
    ids=[
        "arn-like",
        "string-like",
        "arn-equals",
        "string-equals-literal",
        "other-partition",
        "unknown-operator",
    ],
)
def test_principal_arn_condition_decides(operator: str, pattern: str, denied: bool) -> None:
    """A deny conditioned on aws:PrincipalArn applies only when the pattern matches."""
    assert denies(_deny({operator: {"aws:PrincipalArn": pattern}}), CALL) is denied


def test_null_assumed_root_exempts_assume_root_sessions() -> None:
    """ "Null": {"aws:AssumedRoot": "true"} holds for a root key, not in AssumeRoot."""
    policy = _deny({"ArnLike": {"aws:PrincipalArn": ROOT}, "Null": {"aws:AssumedRoot": "true"}})
    assert denies(policy, CALL)
    assert not denies(policy, CallContext(ROOT, "iam:ListAccessKeys", assumed_root=True))


def test_without_the_null_condition_assume_root_is_denied_too() -> None:
    """The exemption comes from the condition: without it, AssumeRoot sessions are denied."""
    policy = _deny({"ArnLike": {"aws:PrincipalArn": ROOT}})
    assert denies(policy, CallContext(ROOT, "iam:ListAccessKeys", assumed_root=True))


def test_any_listed_value_matches() -> None:
    """A key's values are alternatives: one matching pattern is enough."""
    policy = _deny(
        {"ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:user/*", "arn:*:iam::*:root"]}}
    )
    assert denies(policy, CALL)


@pytest.mark.parametrize(
    ("statement", "action", "denied"),
    [
        ({"Action": "iam:*"}, "iam:ListAccessKeys", True),
        ({"Action": "IAM:list*"}, "iam:ListAccessKeys", True),  # actions ignore case
        ({"Action": "s3:*"}, "iam:ListAccessKeys", False),
        ({"Action": "iam:*"}, "*", False),  # not every action
        ({"Action": "*"}, "*", True),
        ({"Effect": "Allow"}, "iam:ListAccessKeys", False),
        ({"Resource": "arn:aws:s3:::bucket"}, "iam:ListAccessKeys", False),
        ({"NotAction": "s3:*", "Action": "*"}, "iam:ListAccessKeys", False),
    ],
    ids=[
        "service-wildcard",
        "case-insensitive-action",
        "other-service",
        "partial-is-not-every-action",
        "star-is-every-action",
        "allow-never-denies",
        "specific-resource",
        "not-action-unevaluated",
    ],
)
def test_statement_scope(statement: dict[str, Any], action: str, denied: bool) -> None:
    """Only Deny statements on the action (and on every resource) apply."""
    assert denies(_deny(None, **statement), CallContext(ROOT, action)) is denied


@pytest.mark.parametrize("document", [None, "", "not json", "[]", '{"Statement": "x"}'])
def test_unreadable_documents_deny_nothing(document: str | None) -> None:
    """A document the evaluator cannot read denies nothing."""
    assert not denies(document, CALL)
