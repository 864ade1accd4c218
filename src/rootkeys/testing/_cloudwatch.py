"""CloudWatch alarms in the sandbox: moto's, on the sandbox's clock, with their history.

moto keeps alarms and the states they were in, but does not answer
``DescribeAlarmHistory``; `alarm_history` answers it from moto's record (every state
change, as AWS reports them: ``Alarm updated from OK to ALARM`` with the JSON
``HistoryData``). botocore speaks CloudWatch in CBOR (smithy RPC v2), so the answer is
encoded with botocore's own serializer for the operation's output shape.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import botocore.session
from botocore.serialize import RpcV2CBORSerializer

from rootkeys.testing import _http

if TYPE_CHECKING:
    import boto3
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from rootkeys._clock import Clock

__all__ = ["Alarms", "alarm_history", "restamp"]


def _alarms(account_id: str, region: str) -> dict[str, Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms: dict[str, Any] = cloudwatch_backends[account_id][region].alarms
    return alarms


def restamp(account_id: str, region: str, name: str, at: datetime) -> None:
    """Date an alarm's latest state change at ``at`` (the sandbox's clock, not moto's)."""
    _alarms(account_id, region)[name].state_updated_timestamp = at


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def alarm_history(request: AWSPreparedRequest, account_id: str, region: str) -> AWSResponse:
    """``DescribeAlarmHistory``: every state change of every alarm in the region.

    Filters in the request are not applied (callers filter by name and time as well).
    """
    items = []
    for alarm in _alarms(account_id, region).values():
        states = [(h[3], _aware(h[4])) for h in alarm.history if h[0] == "StateUpdate"]
        states.append((alarm.state_value, _aware(alarm.state_updated_timestamp)))
        for (old, _), (new, at) in itertools.pairwise(states):
            items.append(
                {
                    "AlarmName": alarm.name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": at,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": f"Alarm updated from {old} to {new}",
                    "HistoryData": json.dumps(
                        {
                            "version": "1.0",
                            "oldState": {"stateValue": old},
                            "newState": {"stateValue": new},
                        }
                    ),
                }
            )
    output = {"AlarmHistoryItems": items}
    if "smithy-protocol" in request.headers:  # botocore's CBOR (smithy RPC v2)
        shape = (
            botocore.session.get_session()
            .get_service_model("cloudwatch")
            .operation_model("DescribeAlarmHistory")
            .output_shape
        )
        body = bytearray()
        serializer: Any = RpcV2CBORSerializer()  # its encoder is not public: pinned by tests
        serializer._serialize_data_item(body, output, shape)
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
        return _http.respond_bytes(request, 200, bytes(body), headers)
    for item in items:  # the JSON protocol: timestamps as epoch seconds
        item["Timestamp"] = item["Timestamp"].timestamp()
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return _http.respond_bytes(request, 200, json.dumps(output).encode(), headers)


class Alarms:
    """CloudWatch alarms of the sandbox's accounts (a base of `Sandbox`)."""

    clock: Clock
    region: str

    if TYPE_CHECKING:

        def admin_session(self, account_id: str) -> boto3.Session: ...

    def create_alarm(self, account_id: str, name: str, *, region: str | None = None) -> None:
        """Create a metric alarm (in state OK) in the account, as an app's team would."""
        region = region or self.region
        self.admin_session(account_id).client("cloudwatch", region_name=region).put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="App",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        restamp(account_id, region, name, self.clock.now())

    def set_alarm_state(
        self,
        account_id: str,
        name: str,
        state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"],
        *,
        reason: str = "set by the sandbox",
        region: str | None = None,
    ) -> None:
        """Move an alarm to ``OK``, ``ALARM`` or ``INSUFFICIENT_DATA`` at the sandbox's now."""
        region = region or self.region
        client = self.admin_session(account_id).client("cloudwatch", region_name=region)
        client.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
        restamp(account_id, region, name, self.clock.now())
