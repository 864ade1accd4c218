"""AWS Config's verdict on root keys (Security Hub IAM.4): asked for now, waited for.

The sandbox evaluates the managed rule IAM_ROOT_ACCESS_KEY_CHECK as AWS does: when it is
added, then only when an evaluation runs, which settles 30 s (sandbox clock) after it was
asked for. Until then Config still reports the old verdict: the lag a team sees.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

import rootkeys
from rootkeys.cli import main
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

WEEK = timedelta(days=7)


def _config_calls(sandbox: Sandbox) -> list[str]:
    return [c.operation for c in sandbox.calls if c.service == "config-service"]


def test_after_removal_config_is_asked_and_turns_compliant(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    rule = sandbox.add_root_key_rule(account.account_id)
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    manager.remove_all(timedelta(0))
    assert manager.verify()
    started = clock.now()
    confirmation = manager.confirm_control(poll=timedelta(seconds=5))
    assert confirmation.settled
    assert confirmation.compliant
    assert [(r.rule_name, r.compliance) for r in confirmation.rules] == [(rule, "COMPLIANT")]
    assert clock.now() - started >= timedelta(seconds=30)  # it waited for the evaluation
    assert "StartConfigRulesEvaluation" in _config_calls(sandbox)
    assert ": compliant" in confirmation.table()
    assert "not compliant yet" not in confirmation.table()


def test_the_sandboxs_config_keeps_its_old_verdict_until_asked(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """The lag: the rule's last verdict stands until an evaluation runs."""
    sandbox.add_root_key_rule(account.account_id)
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    manager.remove_all(timedelta(0))
    client = sandbox.root_session(account.account_id).client("config", region_name="us-east-1")
    verdicts = client.describe_compliance_by_config_rule()["ComplianceByConfigRules"]
    assert {v["Compliance"]["ComplianceType"] for v in verdicts} == {"NON_COMPLIANT"}


def test_a_verdict_not_settled_in_time_is_not_compliant(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    sandbox.add_root_key_rule(account.account_id)
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    manager.remove_all(timedelta(0))
    confirmation = manager.confirm_control(timeout=timedelta(seconds=10), poll=timedelta(seconds=5))
    assert not confirmation.settled
    assert not confirmation.compliant
    assert "had not finished" in confirmation.table()


def test_no_rule_in_the_region_says_so(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    confirmation = manager.confirm_control()
    assert confirmation.rules == ()
    assert not confirmation.compliant
    assert "no AWS Config rule IAM_ROOT_ACCESS_KEY_CHECK in us-east-1" in confirmation.note
    assert "StartConfigRulesEvaluation" not in _config_calls(sandbox)


def test_the_rule_is_found_on_a_later_page_through_a_throttle(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """Thirty other rules put the root-key rule on DescribeConfigRules' second page; a
    throttled first page is retried (the retry policy), and every page is read."""
    client = sandbox.root_session(account.account_id).client("config", region_name="us-east-1")
    for n in range(30):  # sorted before "securityhub-...": the first page is theirs
        client.put_config_rule(
            ConfigRule={
                "ConfigRuleName": f"another-rule-{n:02}",
                "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
            }
        )
    rule = sandbox.add_root_key_rule(account.account_id)
    sandbox.inject_throttling(operation="DescribeConfigRules", times=1)
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    confirmation = manager.confirm_control(poll=timedelta(seconds=5))
    assert [r.rule_name for r in confirmation.rules] == [rule]
    described = [c for c in sandbox.calls if c.operation == "DescribeConfigRules"]
    assert [c.fault for c in described] == ["Throttling", None, None]
    assert "NextToken" in described[-1].params


def test_an_iam_user_is_refused_before_config_is_asked(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    sandbox.add_root_key_rule(account.account_id)
    user = sandbox.iam_user_session(account.account_id, "alice")
    with pytest.raises(rootkeys.NotRootError):
        rootkeys.RootKeyManager(user, journal=False, clock=clock).confirm_control()
    assert _config_calls(sandbox) == []


@pytest.mark.parametrize("bad", [{"timeout": timedelta(0)}, {"poll": -timedelta(seconds=1)}])
def test_bad_waits_are_refused_before_any_call(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, bad: dict[str, timedelta]
) -> None:
    manager = rootkeys.RootKeyManager(
        sandbox.root_session(account.account_id), journal=False, clock=clock
    )
    before = len(sandbox.calls)
    with pytest.raises(rootkeys.InputError):
        manager.confirm_control(**bad)  # type: ignore[arg-type]
    assert len(sandbox.calls) == before


def test_cli_verify_reevaluate_exits_0_once_config_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the real clock (as the command runs), with evaluations that settle at once."""
    with Sandbox() as sandbox:
        sandbox.config_rules.settle = timedelta(0)
        account = sandbox.create_account(root_keys=2)
        sandbox.add_root_key_rule(account.account_id)
        for name, value in sandbox.root_credentials(account.account_id).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        out, err = io.StringIO(), io.StringIO()
        assert main(["remove", "--observe", "0", "--yes", "--quiet"], out=out, err=err) == 0
        out = io.StringIO()
        argv = ["verify", "--reevaluate", "--timeout", "20s", "--output", "json"]
        code = main(argv, out=out, err=err)
    assert code == 0, err.getvalue()
    result = json.loads(out.getvalue())["result"]
    assert result["no_root_key_remains"] is True
    assert result["config"]["settled"] is True
    assert {r["compliance"] for r in result["config"]["rules"]} == {"COMPLIANT"}


def test_no_rule_is_said_once_and_not_called_not_compliant_yet(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    session = sandbox.root_session(account.account_id)
    text = rootkeys.RootKeyManager(session, journal=False, clock=clock).confirm_control().table()
    assert text.count("no AWS Config rule") == 1
    assert "no root-key rule to ask" in text
    assert "not compliant yet" not in text


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["verify", "--reevaluate", "--timeout", "0"], "--timeout must be positive"),
        (["verify", "--timeout", "1m"], "--timeout is for --reevaluate"),
    ],
)
def test_cli_timeout_is_checked_before_any_call(
    sandbox: Sandbox, signed_in: SandboxAccount, argv: list[str], said: str
) -> None:
    before = len(sandbox.calls)
    err = io.StringIO()
    assert main(argv, out=io.StringIO(), err=err) == 2
    assert said in err.getvalue()
    assert len(sandbox.calls) == before
