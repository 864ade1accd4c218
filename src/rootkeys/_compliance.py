"""AWS Config's verdict on root access keys: the control a security team is measured on.

Security Hub's IAM.4 ("IAM root user access key should not exist") and CIS 1.4 are AWS
Config's managed rule ``IAM_ROOT_ACCESS_KEY_CHECK``, evaluated periodically (within 24
hours). After a removal, `confirm_root_key_rule` asks Config to evaluate the rule now
(``StartConfigRulesEvaluation``: a write to AWS Config, never to a credential), waits for
the evaluation to settle, and reports the rule's compliance, so "confirm none remain" can
end with the control turning green.

Calls: ``config:DescribeConfigRules``, ``config:StartConfigRulesEvaluation``,
``config:DescribeConfigRuleEvaluationStatus``, ``config:DescribeComplianceByConfigRule``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from pydantic import BaseModel, ConfigDict, computed_field

from rootkeys._errors import AWSError, InputError
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular, stamp
from rootkeys._retry import RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable

    from rootkeys._clock import Clock

__all__ = [
    "ROOT_KEY_RULE",
    "ControlConfirmation",
    "RuleVerdict",
    "confirm_root_key_rule",
    "validate_waits",
]

ROOT_KEY_RULE = "IAM_ROOT_ACCESS_KEY_CHECK"
_BUSY = frozenset({"LimitExceededException", "ResourceInUseException"})


class RuleVerdict(BaseModel):
    """One AWS Config rule's compliance, as Config reports it."""

    model_config = ConfigDict(frozen=True)

    rule_name: str
    compliance: str
    """``COMPLIANT``, ``NON_COMPLIANT``, ``INSUFFICIENT_DATA`` or ``NOT_APPLICABLE``."""
    evaluated_at: datetime | None = None
    """When its latest evaluation succeeded."""


class ControlConfirmation(Tabular, BaseModel):
    """AWS Config's verdict on the root-key rule after an evaluation asked for now."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    region: str
    asked_at: datetime
    settled: bool
    """Whether every rule's evaluation finished after it was asked for (else: timed out)."""
    rules: tuple[RuleVerdict, ...] = ()
    note: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def compliant(self) -> bool:
        """Whether Config now says no root access key exists (settled, every rule)."""
        return (
            self.settled
            and bool(self.rules)
            and all(r.compliance == "COMPLIANT" for r in self.rules)
        )

    def _table(self, wide: bool = False) -> Table:
        rows = [
            (r.rule_name, r.compliance, stamp(r.evaluated_at) if r.evaluated_at else "-")
            for r in self.rules
        ]
        if not self.rules:
            verdict = "no root-key rule to ask"
        else:
            verdict = "compliant" if self.compliant else "not compliant yet"
        title = f"AWS Config in account {self.account_id}, {self.region}: {verdict}"
        after: list[str] = []  # a note comes only with no rule: it is the empty table's text
        if self.rules and not self.settled:
            after.append("the evaluation had not finished: run again later for its verdict")
        return Table(title, ("rule", "compliance", "evaluated"), rows, after=after, empty=self.note)


def validate_waits(timeout: object, poll: object) -> None:
    """``timeout`` and ``poll`` of a confirmation: positive timedeltas, else `InputError`."""
    for name, value in (("timeout", timeout), ("poll", poll)):
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise InputError(f"{name} must be a positive timedelta, got {value!r}")


def confirm_root_key_rule(
    client: Any,
    *,
    account_id: str,
    region: str,
    clock: Clock,
    timeout: timedelta,
    poll: timedelta,
    policy: RetryPolicy,
) -> ControlConfirmation:
    """Ask Config to evaluate the account's root-key rules now; their verdict once settled.

    No such rule in the region: a confirmation with no rules and a note saying so (Config
    or Security Hub is not on there). ``timeout``: how long to wait for the evaluation.
    """

    def call(operation: str, fn: Callable[[], Any]) -> Any:
        return call_with_retries(operation, fn, policy=policy, sleep=clock.sleep)

    names = [
        r["ConfigRuleName"]
        for r in _listed(client, call, "DescribeConfigRules", "ConfigRules")
        if r.get("Source", {}).get("SourceIdentifier") == ROOT_KEY_RULE
    ]
    asked = clock.now()
    if not names:
        note = (
            f"no AWS Config rule {ROOT_KEY_RULE} in {region}: Security Hub's IAM.4 is not "
            "evaluated there (ask in the region where Config records global resources)"
        )
        return ControlConfirmation(
            account_id=account_id, region=region, asked_at=asked, settled=False, note=note
        )

    def evaluated() -> dict[str, datetime | None]:
        statuses = _listed(
            client,
            call,
            "DescribeConfigRuleEvaluationStatus",
            "ConfigRulesEvaluationStatus",
            ConfigRuleNames=names,
        )
        return {s["ConfigRuleName"]: s.get("LastSuccessfulEvaluationTime") for s in statuses}

    before = evaluated()  # AWS's own times: settled means a newer one, whatever our clock
    try:
        call(
            "StartConfigRulesEvaluation",
            lambda: client.start_config_rules_evaluation(ConfigRuleNames=names),
        )
    except AWSError as exc:  # already evaluating: wait for that evaluation
        if exc.code not in _BUSY:
            raise
    deadline = asked + timeout
    while True:
        after = evaluated()
        settled = all(_newer(after.get(name), before.get(name)) for name in names)
        if settled or clock.now() >= deadline:
            break
        clock.sleep(poll.total_seconds())
    verdicts = _listed(
        client,
        call,
        "DescribeComplianceByConfigRule",
        "ComplianceByConfigRules",
        ConfigRuleNames=names,
    )
    rules = tuple(
        RuleVerdict(
            rule_name=v["ConfigRuleName"],
            compliance=v.get("Compliance", {}).get("ComplianceType", "INSUFFICIENT_DATA"),
            evaluated_at=after.get(v["ConfigRuleName"]),
        )
        for v in verdicts
    )
    return ControlConfirmation(
        account_id=account_id, region=region, asked_at=asked, settled=settled, rules=rules
    )


def _listed(
    client: Any,
    call: Callable[[str, Callable[[], Any]], Any],
    operation: str,
    key: str,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every item of a Config listing, every page (botocore's paginator).

    The whole listing is one call of the retry policy: a retried listing is read again
    from its first page, as the other paginated reads are (`IamGateway.key_statuses`).
    """
    paginator = client.get_paginator(xform_name(operation))

    def read() -> list[dict[str, Any]]:
        return [item for page in paginator.paginate(**params) for item in page.get(key, [])]

    listed: list[dict[str, Any]] = call(operation, read)
    return listed


def _newer(now: datetime | None, before: datetime | None) -> bool:
    return now is not None and (before is None or now > before)


rehome(globals())
