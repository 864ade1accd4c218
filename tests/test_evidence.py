"""Evidence: who has been using each key, from IAM and CloudTrail, paced and bounded."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import botocore.config
import botocore.exceptions
import pytest

import rootkeys
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager

THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def _evidence(plan: rootkeys.Plan, key_id: str) -> rootkeys.reports.KeyEvidence:
    found = {pk.key.key_id: pk.evidence for pk in plan.keys}[key_id]
    assert found is not None
    return found


def test_app_using_a_key_shows_in_the_plan(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """The plan names the app's calls, source IP and user agent, and when it was last seen."""
    used, unused = account.root_key_ids
    sandbox.use_root_key(
        account.account_id,
        used,
        service="s3",
        event_name="GetObject",
        source_ip="203.0.113.9",
        user_agent="orders-service/2.3",
        times=30,
    )
    plan = make_manager().plan(regions=THREE)
    found = _evidence(plan, used)
    assert found.cloudtrail is not None
    trail = found.cloudtrail
    assert trail.events == 30
    assert trail.source_ips[0] == rootkeys.reports.Count(value="203.0.113.9", count=30)
    assert trail.user_agents[0].value == "orders-service/2.3"
    assert trail.event_names[0].value == "GetObject"
    assert trail.event_sources[0].value == "s3.amazonaws.com"
    assert trail.last_seen is not None
    assert trail.first_seen is not None
    assert trail.last_seen - trail.first_seen == timedelta(hours=29)
    assert found.last_used is not None
    assert "203.0.113.9" in found.summary()
    quiet = _evidence(plan, unused)
    assert quiet.cloudtrail is not None
    assert quiet.cloudtrail.events == 0
    assert quiet.last_used is None
    assert "203.0.113.9" in plan.table()


def test_calls_signed_with_a_key_become_its_events(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A real call signed with a root key is found by that key's evidence."""
    key = account.root_key_ids[0]
    sandbox.root_session(account.account_id, key_id=key).client("sts").get_caller_identity()
    trail = _evidence(make_manager().plan(regions=["us-east-1"]), key).cloudtrail
    assert trail is not None
    assert [c.value for c in trail.event_names] == ["GetCallerIdentity"]


def test_three_regions_of_500_events_stay_under_the_rate_limit() -> None:
    """3 regions x 500 events: every region's lookups stay at 2 per second, none throttled.

    On the real clock: a rate is a claim about real time. (With one fake clock shared by
    three threads, each thread's sleep moves time for the others too.) About 5 seconds.
    """
    with Sandbox() as sandbox:
        account = sandbox.create_account(root_keys=1)
        key = account.root_key_ids[0]
        for region in THREE:
            sandbox.use_root_key(
                account.account_id,
                key,
                service="ec2",
                event_name="DescribeInstances",
                region=region,
                times=500,
                every=timedelta(minutes=10),
            )
        manager = rootkeys.RootKeyManager(sandbox.root_session(account.account_id), journal=False)
        trail = _evidence(manager.plan(regions=THREE), key).cloudtrail
        lookups = [c for c in sandbox.calls if c.operation == "LookupEvents"]
    assert trail is not None
    assert trail.events == 1500
    assert trail.complete
    bad = [
        [
            (c.region, c.at.strftime("%S.%f") if c.at else "", c.status, c.fault)
            for c in lookups
            if c.region == b.region
        ]
        for b in lookups
        if b.status != 200
    ]
    assert not bad, bad[0]
    by_region: dict[str | None, list[datetime]] = defaultdict(list)
    for call in lookups:
        assert call.at is not None
        by_region[call.region].append(call.at)
    assert set(by_region) == set(THREE)
    for times in by_region.values():
        assert len(times) == 10
        times.sort()
        for i, start in enumerate(times):
            assert len([t for t in times[i:] if t - start < timedelta(seconds=1)]) <= 2


def test_throttling_anyway_is_retried(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """If CloudTrail throttles regardless (another tool, say), the lookup is retried."""
    key = account.root_key_ids[0]
    sandbox.use_root_key(account.account_id, key, times=3)
    sandbox.inject_error("ThrottlingException", operation="LookupEvents", times=2)
    trail = _evidence(make_manager().plan(regions=["us-east-1"]), key).cloudtrail
    assert trail is not None
    assert trail.events == 3


def test_missing_cloudtrail_permission_degrades(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """Without cloudtrail:LookupEvents the plan still comes, saying why evidence is missing."""
    sandbox.deny("LookupEvents")
    plan = make_manager().plan(regions=THREE)
    for planned in plan.keys:
        assert planned.evidence is not None
        assert planned.evidence.cloudtrail is None
        assert planned.evidence.unavailable is not None
        assert "not allowed (AccessDenied)" in planned.evidence.unavailable
    assert "evidence unavailable" in plan.table()


def test_one_region_denied_is_named_and_the_rest_searched(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A region where lookups are refused is listed; the other regions still count."""
    key = account.root_key_ids[0]
    sandbox.use_root_key(account.account_id, key, times=4, region="us-east-1")
    sandbox.deny("LookupEvents", region="eu-west-1")
    trail = _evidence(make_manager().plan(regions=["us-east-1", "eu-west-1"]), key).cloudtrail
    assert trail is not None
    assert trail.events == 4
    assert trail.unavailable_regions == ("eu-west-1: not allowed (AccessDenied)",)


def test_time_budget_bounds_the_search(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A budget shorter than the pages need: partial evidence, marked incomplete."""
    key = account.root_key_ids[0]
    sandbox.use_root_key(account.account_id, key, times=500, every=timedelta(minutes=1))
    plan = make_manager().plan(regions=["us-east-1"], evidence_budget=timedelta(seconds=2))
    trail = _evidence(plan, key).cloudtrail
    assert trail is not None
    assert not trail.complete
    assert 0 < trail.events < 500


def test_default_regions_are_the_accounts_enabled_ones(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """With no regions given, evidence covers every region EC2 DescribeRegions lists in
    the account's partition."""
    ec2 = sandbox.admin_session(account.account_id).client("ec2")
    listed = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    enabled = sorted(r for r in listed if not r.startswith(("cn-", "us-gov-")))
    trail = _evidence(make_manager().plan(), account.root_key_ids[0]).cloudtrail
    assert trail is not None
    assert list(trail.regions) == enabled


def test_a_commercial_account_is_never_searched_in_other_partitions(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """An endpoint listing China and GovCloud regions too (moto does) does not make a
    commercial account's plan search, or list, a cn-* or us-gov-* region."""
    ec2 = sandbox.admin_session(account.account_id).client("ec2")
    listed = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
    assert {"cn-north-1", "us-gov-west-1"} <= listed  # what the endpoint offers
    manager = make_manager()
    plan = manager.plan()
    trail = _evidence(plan, account.root_key_ids[0]).cloudtrail
    assert trail is not None
    assert "us-east-1" in trail.regions
    foreign = [r for r in trail.regions if r.startswith(("cn-", "us-gov-"))]
    assert foreign == []
    assert not [c for c in sandbox.calls if (c.region or "").startswith(("cn-", "us-gov-"))]
    assert set(manager.enabled_regions()) == set(trail.regions)


def test_a_govcloud_account_is_searched_in_govcloud_only() -> None:
    """In aws-us-gov the default regions are GovCloud's, none of the commercial ones."""
    clock = FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    with Sandbox(clock=clock, region="us-gov-west-1") as sandbox:
        account = sandbox.create_account(root_keys=1)
        manager = rootkeys.RootKeyManager(
            sandbox.root_session(account.account_id), clock=clock, journal=False
        )
        trail = _evidence(manager.plan(preflight=False), account.root_key_ids[0]).cloudtrail
    assert trail is not None
    assert trail.regions
    assert all(r.startswith("us-gov-") for r in trail.regions)


_ERROR_PAGE = (
    "<!DOCTYPE HTML><html><head><title>Error response</title></head><body>"
    + "<p>Error code: 400</p>" * 100
    + "</body></html>"
)


def test_a_region_error_is_summarised_not_pasted(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """An endpoint answering a whole HTML page in every region: the evidence says why in
    one short line (its code and first words, the regions grouped), never the page."""
    sandbox.inject_error("BadRequest", operation="LookupEvents", times=None, message=_ERROR_PAGE)
    plan = make_manager().plan(regions=THREE)
    for planned in plan.keys:
        assert planned.evidence is not None
        why = planned.evidence.unavailable
        assert why is not None
        assert len(why) < 200
        assert "<" not in why
        assert "BadRequest" in why
        assert "in 3 regions" in why
    assert "<p>" not in plan.table()


def test_one_region_error_is_bounded_too(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A page from one region only: that region is named with a short reason."""
    key = account.root_key_ids[0]
    sandbox.inject_error(
        "BadRequest", operation="LookupEvents", times=None, message=_ERROR_PAGE, region="eu-west-1"
    )
    trail = _evidence(make_manager().plan(regions=["us-east-1", "eu-west-1"]), key).cloudtrail
    assert trail is not None
    (missing,) = trail.unavailable_regions
    assert missing.startswith("eu-west-1: BadRequest")
    assert len(missing) < 150
    assert "<" not in missing


@pytest.mark.parametrize(
    "regions",
    [["us-east-1", "mars-north-1x"], "us-east-1", [], [1]],
    ids=["bad-name", "a-string", "empty", "not-a-string"],
)
def test_bad_regions_are_input_errors(
    sandbox: Sandbox,
    make_manager: MakeManager,
    regions: object,
) -> None:
    """Region lists are checked before any AWS call."""
    manager = make_manager()
    with pytest.raises(rootkeys.InputError):
        manager.plan(regions=regions)  # type: ignore[arg-type]
    assert sandbox.calls == ()


def test_plan_without_evidence_makes_no_cloudtrail_call(
    sandbox: Sandbox,
    make_manager: MakeManager,
) -> None:
    """evidence=False skips CloudTrail (and remove_all never gathers it)."""
    manager = make_manager()
    plan = manager.plan(evidence=False)
    assert all(pk.evidence is None for pk in plan.keys)
    manager.remove_all(observe_for=timedelta(0))
    assert not any(c.service == "cloudtrail" for c in sandbox.calls)


def test_sandbox_throttles_lookups_past_two_per_second(
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """The sandbox emulates CloudTrail's limit: the third lookup in a second is throttled."""
    client = sandbox.admin_session(account.account_id).client(
        "cloudtrail", config=botocore.config.Config(retries={"total_max_attempts": 1})
    )
    client.lookup_events()
    client.lookup_events()
    with pytest.raises(botocore.exceptions.ClientError, match="ThrottlingException"):
        client.lookup_events()


def test_pacer_never_lets_three_calls_land_within_a_second(clock: FakeClock) -> None:
    """Each call starts a paced second after the call two before it completed."""
    from rootkeys._evidence import Pacer

    pacer = Pacer(2, timedelta(seconds=1), clock)
    start = clock.now()
    starts = []
    for latency in (0.1, 0.3, 0.0, 0.2, 0.05):
        with pacer.slot():
            starts.append((clock.now() - start).total_seconds())
            clock.sleep(latency)  # the call's round trip
    assert starts == pytest.approx([0.0, 0.1, 1.1, 1.4, 2.1])
    for i in range(2, len(starts)):
        assert starts[i] - starts[i - 2] >= 1.0


def test_plan_with_evidence_writes_nothing_to_the_journal(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """A plan gathers evidence but journals nothing: a read is a read."""
    key = account.root_key_ids[0]
    sandbox.use_root_key(account.account_id, key, source_ip="203.0.113.9", times=3)
    manager = make_manager()
    assert _evidence(manager.plan(regions=["us-east-1"]), key).cloudtrail is not None
    assert manager.history(key).records == ()


def test_evidence_renders_for_people(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """KeyEvidence has a text table and an HTML one with the counts."""
    key = account.root_key_ids[0]
    sandbox.use_root_key(
        account.account_id, key, source_ip="203.0.113.9", user_agent="orders/<2>", times=3
    )
    found = _evidence(make_manager().plan(regions=["us-east-1"]), key)
    assert "203.0.113.9 (3)" in found.table()
    html = found._repr_html_()
    assert "203.0.113.9 (3)" in html
    assert "orders/&lt;2&gt; (3)" in html


def test_credential_report_row_is_read_and_cross_checked(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
) -> None:
    """No report yet: one is generated, waited for, and its root row agrees with IAM."""
    sandbox.use_root_key(account.account_id, account.root_key_ids[0], service="s3")
    plan = make_manager().plan(regions=["us-east-1"])
    row = plan.credential_report
    assert row is not None
    assert row.active_keys == 2
    assert row.keys[0].last_used_service == "s3"
    assert row.mfa_active is False
    assert "credential report of" in plan.table()
    assert "agrees" in plan.table()
    ops = [c.operation for c in sandbox.calls if "CredentialReport" in c.operation]
    assert ops == [
        "GetCredentialReport",
        "GenerateCredentialReport",
        "GetCredentialReport",
        "GetCredentialReport",
    ]  # not present, generate, in progress, ready


def test_fresh_report_is_reused_and_an_expired_one_regenerated(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    clock: FakeClock,
) -> None:
    """Within 4 hours the report is read as it is; after 4 hours a new one is made."""
    manager = make_manager()
    first = manager.plan(regions=["us-east-1"]).credential_report
    manager.deactivate(account.root_key_ids[0])
    clock.advance(timedelta(hours=1))
    plan = manager.plan(regions=["us-east-1"])
    assert plan.credential_report == first
    assert "shows 2 active key(s), IAM lists 1" in plan.table()
    generates = [c for c in sandbox.calls if c.operation == "GenerateCredentialReport"]
    assert len(generates) == 1
    clock.advance(timedelta(hours=4))
    later = manager.plan(regions=["us-east-1"]).credential_report
    assert later is not None
    assert first is not None
    assert later.generated_at > first.generated_at
    assert later.active_keys == 1


def test_credential_report_denied_degrades(
    sandbox: Sandbox,
    make_manager: MakeManager,
) -> None:
    """Without permission for the report, the plan says so and goes on."""
    sandbox.deny("GetCredentialReport")
    plan = make_manager().plan(regions=["us-east-1"])
    assert plan.credential_report is None
    assert plan.credential_report_unavailable == "not allowed (AccessDenied)"
    assert "credential report unavailable" in plan.table()
