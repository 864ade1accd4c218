"""A latency-injected fake of the AWS calls an organization audit makes.

A botocore ``before-send`` handler (installed for every new session, as the sandbox's
is) that waits a fixed delay per call, then answers from canned data: Organizations
(``DescribeOrganization``, ``ListAccounts`` in pages of 20), IAM
(``ListOrganizationsFeatures``, ``ListAccessKeys``, ``GetAccessKeyLastUsed``,
``GetAccountSummary``) and STS (``AssumeRoot``, ``GetCallerIdentity``). No moto: at
10,000 accounts the fake must cost next to nothing, so what is measured is rootkeys.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from rootkeys.testing import _http

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

MANAGEMENT = "999988887777"
PAGE = 20
_TARGET = re.compile(r"TargetPrincipal=(\d{12})")


def account_id(n: int) -> str:
    """The n-th member's account id."""
    return f"{100000000000 + n:012d}"


class FakeAWS:
    """Answers an organization's audit calls after ``latency`` seconds each."""

    def __init__(self, accounts: int, *, latency: float) -> None:
        self.accounts = accounts
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # AssumeRoot key id -> member account

    def __enter__(self) -> FakeAWS:
        from botocore.handlers import BUILTIN_HANDLERS

        BUILTIN_HANDLERS.insert(0, ("before-send", self._handler))
        return self

    def __exit__(self, *exc: object) -> None:
        from botocore.handlers import BUILTIN_HANDLERS

        BUILTIN_HANDLERS.remove(("before-send", self._handler))

    def _handler(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls[operation] += 1
        if self.latency:
            time.sleep(self.latency)
        return self._answer(request, service, operation)

    def _answer(self, request: AWSPreparedRequest, service: str, operation: str) -> AWSResponse:
        if service == "organizations":
            return _json(request, self._organizations(request, operation))
        key = _http.signing_key_of(request) or ""
        member = self._sessions.get(key, MANAGEMENT)
        if operation == "AssumeRoot":
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
            found = _TARGET.search(body)
            target = found.group(1) if found else MANAGEMENT
            session_key = f"ASIA{len(self._sessions):016d}"
            with self._lock:
                self._sessions[session_key] = target
            return _http.answer(
                request,
                "sts",
                "AssumeRoot",
                f"<Credentials><AccessKeyId>{session_key}</AccessKeyId>"
                f"<SecretAccessKey>{'s' * 40}</SecretAccessKey><SessionToken>{'t' * 300}"
                "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>",
            )
        if operation == "GetCallerIdentity":
            return _http.answer(
                request,
                "sts",
                operation,
                f"<Arn>arn:aws:iam::{member}:root</Arn><UserId>{member}</UserId>"
                f"<Account>{member}</Account>",
            )
        if operation == "ListOrganizationsFeatures":
            return _http.answer(
                request,
                "iam",
                operation,
                "<OrganizationId>o-fake</OrganizationId><EnabledFeatures>"
                "<member>RootCredentialsManagement</member><member>RootSessions</member>"
                "</EnabledFeatures>",
            )
        if operation == "ListAccessKeys":
            key_id = f"AKIA{member}XXXX"
            return _http.answer(
                request,
                "iam",
                operation,
                "<AccessKeyMetadata><member><AccessKeyId>"
                f"{key_id}</AccessKeyId><Status>Active</Status>"
                "<CreateDate>2024-01-01T00:00:00Z</CreateDate></member></AccessKeyMetadata>"
                "<IsTruncated>false</IsTruncated>",
            )
        if operation == "GetAccessKeyLastUsed":
            return _http.answer(
                request,
                "iam",
                operation,
                "<AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region>"
                "</AccessKeyLastUsed>",
            )
        if operation == "GetAccountSummary":
            return _http.answer(
                request,
                "iam",
                operation,
                "<SummaryMap><entry><key>AccountAccessKeysPresent</key><value>1</value></entry>"
                "</SummaryMap>",
            )
        return _http.error(request, service, "InvalidAction", f"not faked: {operation}", 400)

    def _organizations(self, request: AWSPreparedRequest, operation: str) -> dict[str, Any]:
        if operation == "DescribeOrganization":
            return {
                "Organization": {
                    "Id": "o-fake",
                    "Arn": f"arn:aws:organizations::{MANAGEMENT}:organization/o-fake",
                    "FeatureSet": "ALL",
                    "MasterAccountId": MANAGEMENT,
                }
            }
        if operation == "ListAccounts":
            body = json.loads(request.body or b"{}")
            start = int(body.get("NextToken", "0"))
            end = min(start + PAGE, self.accounts)
            page: dict[str, Any] = {
                "Accounts": [
                    {"Id": account_id(n), "Name": f"member-{n}", "Status": "ACTIVE"}
                    for n in range(start, end)
                ]
            }
            if end < self.accounts:
                page["NextToken"] = str(end)
            return page
        raise ValueError(f"not faked: organizations {operation}")


def _json(request: AWSPreparedRequest, payload: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fake"}
    return _http.respond_bytes(request, 200, json.dumps(payload).encode(), headers)
