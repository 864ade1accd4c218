"""AWS Config's root-key rule in the sandbox: evaluated when asked, stale until then.

moto keeps Config rules (``PutConfigRule``, ``DescribeConfigRules``) but evaluates none.
The sandbox evaluates the managed rule ``IAM_ROOT_ACCESS_KEY_CHECK`` (what Security Hub's
IAM.4 reports) the way AWS does: once when the rule is added, then only when an
evaluation runs (periodically in AWS; here, when ``StartConfigRulesEvaluation`` asks). An
evaluation settles `SETTLE` after it was asked for, on the sandbox's clock; until then
``DescribeComplianceByConfigRule`` still gives the old verdict, which is the lag a team
sees in Security Hub after the keys are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rootkeys.testing import _http

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from rootkeys._clock import Clock

__all__ = ["OPERATIONS", "ROOT_KEY_RULE", "SETTLE", "ConfigRules"]

ROOT_KEY_RULE = "IAM_ROOT_ACCESS_KEY_CHECK"
"""The managed rule's source identifier (Security Hub IAM.4, CIS 1.4)."""
SETTLE = timedelta(seconds=30)
"""How long an asked-for evaluation takes, on the sandbox's clock."""
OPERATIONS = frozenset(
    {
        "StartConfigRulesEvaluation",
        "DescribeConfigRuleEvaluationStatus",
        "DescribeComplianceByConfigRule",
    }
)


@dataclass
class _Verdict:
    compliance: str
    evaluated_at: datetime
    asked_at: datetime | None = None


class ConfigRules:
    """Each account's root-key rule verdicts; answers the three evaluation calls."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._verdicts: dict[tuple[str, str, str], _Verdict] = {}
        self.settle = SETTLE
        """How long an asked-for evaluation takes here (tests on the real clock: 0)."""

    def add_root_key_rule(
        self, account_id: str, region: str, name: str, *, keys_present: bool
    ) -> None:
        """Add the managed root-key rule to an account, evaluated now (as AWS does)."""
        from moto.config.models import config_backends

        config_backends[account_id][region].put_config_rule(
            {
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": ROOT_KEY_RULE},
                "MaximumExecutionFrequency": "TwentyFour_Hours",
            },
            [],
        )
        self._verdicts[(account_id, region, name)] = _Verdict(
            _compliance(keys_present), self._clock.now()
        )

    def answer(
        self,
        request: AWSPreparedRequest,
        operation: str,
        account_id: str,
        region: str,
        keys_present: Callable[[], bool],
    ) -> AWSResponse | None:
        """One of `OPERATIONS` for the account's root-key rules; None: moto's to answer."""
        import json

        raw = request.body
        text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw or "")
        body: dict[str, Any] = json.loads(text or "{}")
        names = [str(n) for n in body.get("ConfigRuleNames", [])]
        ours = {n: v for (a, r, n), v in self._verdicts.items() if (a, r) == (account_id, region)}
        unknown = [n for n in names if n not in ours]
        if unknown:
            return _http.error(
                request, "config", "NoSuchConfigRuleException", f"no rule {unknown[0]}", 400
            )
        wanted = names or list(ours)
        now = self._clock.now()
        for name in wanted:
            self._settle(ours[name], now, keys_present)
        if operation == "StartConfigRulesEvaluation":
            for name in wanted:
                if ours[name].asked_at is None:
                    ours[name].asked_at = now
            return _http.json_answer(request, {})
        if operation == "DescribeConfigRuleEvaluationStatus":
            statuses = [
                {
                    "ConfigRuleName": name,
                    "LastSuccessfulEvaluationTime": ours[name].evaluated_at.timestamp(),
                    "FirstEvaluationStarted": True,
                }
                for name in wanted
            ]
            return _http.json_answer(request, {"ConfigRulesEvaluationStatus": statuses})
        verdicts = [
            {"ConfigRuleName": name, "Compliance": {"ComplianceType": ours[name].compliance}}
            for name in wanted
        ]
        return _http.json_answer(request, {"ComplianceByConfigRules": verdicts})

    def _settle(self, verdict: _Verdict, now: datetime, keys_present: Callable[[], bool]) -> None:
        if verdict.asked_at is not None and now >= verdict.asked_at + self.settle:
            verdict.compliance = _compliance(keys_present())
            verdict.evaluated_at = verdict.asked_at + self.settle
            verdict.asked_at = None


def _compliance(keys_present: bool) -> str:
    return "NON_COMPLIANT" if keys_present else "COMPLIANT"
