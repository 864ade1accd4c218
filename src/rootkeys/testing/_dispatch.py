"""The sandbox's dispatcher: every call of a sandbox session comes through here.

It answers the root user's calls, AssumeRoot and its sessions, quarantine refusals and
injected faults itself, passes the rest to moto (naming the account in moto's
``x-moto-account-id`` header), logs each call, and keeps the ledger of changes to root
keys and signing certificates.
`Dispatcher` is a mixin of `Sandbox`, which owns the state it reads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import botocore.exceptions

from rootkeys._models import KeyStatus, LastUsed
from rootkeys.testing import _cloudwatch, _configrules, _http, _org, _root
from rootkeys.testing._calls import SECRET_PARAMS, SandboxCall
from rootkeys.testing._faults import FaultInjection
from rootkeys.testing._policy import CallContext
from rootkeys.testing._root import RootKey, RootUser, random_id, random_secret

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from rootkeys._clock import Clock
    from rootkeys.testing._cloudtrail import Trail
    from rootkeys.testing._ledger import Ledger
    from rootkeys.testing._org import OrgState, TaskSession

__all__ = ["DEFAULT_ACCOUNT", "Dispatcher", "Principal"]

_DYNAMODB = threading.Lock()
"""DynamoDB answers one request at a time: moto checks a condition and writes in two
steps, which concurrent requests could interleave (AWS applies each atomically)."""

DEFAULT_ACCOUNT = "123456789012"  # moto's, for calls signed by credentials it made itself

_KEY_WRITES = frozenset(
    {
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreateAccessKey",
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
        "UploadSigningCertificate",
    }
)
"""Calls that change a root credential the ledger follows (keys and signing certificates)."""
_SCP_WRITES = frozenset({"AttachPolicy", "DetachPolicy"})
_FEATURE_WRITES = ("EnableOrganizationsRoot", "DisableOrganizationsRoot")
_AS_ROOT = frozenset({"root-key", "root-session", "assume-root"})
"""Principals that act as an account's root user, so its SCPs judge them as root."""


@dataclass(frozen=True)
class Principal:
    """Whose credentials signed a call: the account, and what kind of signer."""

    account_id: str
    kind: Literal["root-key", "root-session", "admin", "assume-root"]
    secret: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


class Dispatcher(FaultInjection):
    """Answers each call of a sandbox session (a mixin of `Sandbox`, which holds the state)."""

    clock: Clock
    region: str
    trail: Trail
    _accounts: dict[str, RootUser]
    _principals: dict[str, Principal]
    _calls: list[SandboxCall]
    _org: OrgState | None
    _task_sessions: dict[str, TaskSession]
    _ledger: Ledger
    _served: set[str]
    """The host:port of each endpoint `serve` runs (their requests are answered there)."""
    _denied_by: str | None = None
    """Which policy denied the call being dispatched (under the lock), if one did."""

    @property
    def config_rules(self) -> _configrules.ConfigRules:
        """AWS Config's root-key rule verdicts (made on first use)."""
        rules: _configrules.ConfigRules | None = self.__dict__.get("_config_rules")
        if rules is None:
            rules = self.__dict__["_config_rules"] = _configrules.ConfigRules(self.clock)
        return rules

    def add_root_key_rule(
        self, account_id: str, name: str = "securityhub-iam-root-access-key-check-a1b2c3"
    ) -> str:
        """Turn on AWS Config's root-key rule in an account; its name.

        What Security Hub's IAM.4 is, named as Security Hub names it; evaluated now, as AWS
        does when a rule is added.
        """
        with self._lock:
            present = bool(self._accounts[account_id].keys)
            self.config_rules.add_root_key_rule(account_id, self.region, name, keys_present=present)
        return name

    def _watch(self, account_id: str, by: str) -> None:
        """Bring the ledger up to date for one account (under the lock)."""
        user = self._accounts.get(account_id)
        if user is None:
            return
        # quarantined: an SCP denies the root user every action (outside AssumeRoot)
        quarantined = self._org is not None and _org.scp_denies(
            self._org, account_id, CallContext(user.arn, "*")
        )
        credentials = {k.key_id: k.status for k in user.keys.values()}
        credentials |= {c.certificate_id: KeyStatus(c.status) for c in user.certificates.values()}
        self._ledger.observe(
            account_id,
            credentials,
            quarantined=quarantined,
            at=self.clock.now(),
            by=by,
        )

    # -- the dispatcher ------------------------------------------------------------------------

    def _account(self, account_id: str) -> RootUser:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise ValueError(f"no account {account_id} in the sandbox") from None

    def _dispatch(
        self, request: AWSPreparedRequest, event_name: str, served: bool = False, **kwargs: Any
    ) -> AWSResponse | None:
        if not served and _http.netloc(request.url) in self._served:
            return None  # addressed to the sandbox's own endpoint: that server answers it
        _, service, operation = event_name.split(".", 2)
        key_id = _http.signing_key_of(request)
        params = _http.params_of(request)
        logged = {k: "***" if k in SECRET_PARAMS else v for k, v in params.items()}
        arrived = self.clock.now()
        region = _http.region_of(request)
        with self._lock:
            principal = self._principals.get(key_id or "")
            account_id = principal.account_id if principal else None
            kind = {
                "root-key": "root",
                "root-session": "root",
                "assume-root": "assumed-root",
                "admin": "admin",
            }.get(principal.kind if principal else "", "user" if key_id else "other")

            self._denied_by = None
            denied_by: str | None = None

            def log(status: int, fault: str | None = None) -> None:
                self._calls.append(
                    SandboxCall(
                        service,
                        operation,
                        account_id,
                        kind,
                        key_id,
                        logged,
                        status,
                        fault,
                        arrived,
                        region,
                        served,
                        denied_by if fault is None else None,
                    )
                )

            fault = self._next_fault(operation, account_id, region)
            if fault is not None and fault.kind == "connection":
                log(0, "connection")
                raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)
            if fault is not None:
                log(fault.status, fault.code)
                return _http.error(request, service, fault.code, fault.message, fault.status)

            response = self._organizations(request, service, operation, params, principal, key_id)
            denied_by = self._denied_by  # kept here: the lock is let go while moto answers
            if response is None:
                response = self._answer(request, service, operation, params, principal, key_id)
            if service == "iam" and account_id and response is None:
                user = self._accounts[account_id]
                if operation == "GenerateCredentialReport":
                    response = _root.generate_report(user, request, self.clock.now())
                elif operation == "GetCredentialReport":
                    response = _root.report_refusal(user, request, self.clock.now())
                    if response is None:  # ready: let moto build its rows of IAM users
                        from moto.iam.models import iam_backends

                        iam_backends[account_id][user.partition].generate_report()
            if service == "cloudtrail" and operation == "LookupEvents" and response is None:
                region = _http.region_of(request) or self.region
                response = self.trail.lookup(request, account_id or DEFAULT_ACCOUNT, region)
            if service == "config-service" and operation in _configrules.OPERATIONS:
                signer = self._accounts.get(account_id or "")
                response = self.config_rules.answer(
                    request,
                    operation,
                    account_id or DEFAULT_ACCOUNT,
                    _http.region_of(request) or self.region,
                    lambda: signer is not None and bool(signer.keys),
                )
            if service == "cloudwatch" and operation == "DescribeAlarmHistory":
                region = _http.region_of(request) or self.region
                response = _cloudwatch.alarm_history(request, account_id or DEFAULT_ACCOUNT, region)
        if response is None:
            if account_id is not None:
                request.headers["x-moto-account-id"] = account_id
            if service == "dynamodb":  # moto's conditional writes are not atomic: one at a time
                with _DYNAMODB:
                    response = self._moto(request, event_name)
            else:
                response = self._moto(request, event_name)
            ok = response is not None and response.status_code == 200
            if ok and operation == "GetCredentialReport" and account_id and response:
                with self._lock:
                    user = self._accounts[account_id]
                    response = _root.add_root_row(user, request, response)
            if response is not None and operation == "GetAccountSummary" and account_id:
                with self._lock:
                    user = self._accounts[account_id]
                    response = _root.correct_summary(user, request, response)
        with self._lock:
            log(response.status_code if response is not None else 0)
            if response is not None and response.status_code == 200:
                if operation in _KEY_WRITES and account_id is not None:
                    self._watch(account_id, kind)
                elif service == "organizations" and operation in _SCP_WRITES:
                    self._watch(params.get("TargetId", ""), kind)
            if response is not None and account_id is not None and key_id:
                agent = request.headers.get("User-Agent") or b"unknown"
                self.trail.record(
                    account_id,
                    key_id,
                    event_name=operation,
                    service=service,
                    region=_http.region_of(request) or self.region,
                    username="root" if kind == "root" else kind,
                    user_agent=(agent.decode() if isinstance(agent, bytes) else agent)[:120],
                )
        return response

    @staticmethod
    def _moto(request: AWSPreparedRequest, event_name: str) -> AWSResponse | None:
        from moto.core.models import botocore_stubber

        # moto takes a request's region, and so its partition, from the URL first. AWS
        # GovCloud's IAM endpoint (iam.us-gov.amazonaws.com) names no region, and moto
        # would file the call under ``aws``: name the region it is signed for instead.
        region = _http.region_of(request)
        if region and "://iam.us-gov.amazonaws.com" in request.url:
            request.url = request.url.replace("://iam.us-gov.", f"://iam.{region}.", 1)
        result: AWSResponse | None = botocore_stubber(event_name=event_name, request=request)
        return result

    def _answer(
        self,
        request: AWSPreparedRequest,
        service: str,
        operation: str,
        params: dict[str, str],
        principal: Principal | None,
        key_id: str | None,
    ) -> AWSResponse | None:
        """The root user's answer, an authentication refusal, or None to let moto answer."""
        if principal is None:
            return None
        user = self._accounts[principal.account_id]
        if principal.kind == "root-key":
            if _root.refused_key(user, key_id or ""):
                return _root.invalid_token(request, service)
            region = None if service == "iam" else self.region
            used = LastUsed(at=self.clock.now(), service=service, region=region)
            user.keys[key_id or ""].last_used = used
        return _root.answer(
            user,
            request,
            service,
            operation,
            params,
            as_root=principal.kind != "admin",
            assumed_root=principal.kind == "assume-root",
            now=self.clock.now(),
            on_new_key=lambda key: self._register_root_key(user.account_id, key),
        )

    def _organizations(
        self,
        request: AWSPreparedRequest,
        service: str,
        operation: str,
        params: dict[str, str],
        principal: Principal | None,
        key_id: str | None,
    ) -> AWSResponse | None:
        """AssumeRoot, its sessions' task policies, and the IAM organization features."""
        now = self.clock.now()
        caller = principal.account_id if principal else None
        if principal is not None and principal.kind == "assume-root":
            refusal = self._task_sessions[key_id or ""].refusal(request, service, operation, now)
            if refusal is not None:
                if refusal.status_code == 403:
                    self._denied_by = "task policy"
                return refusal
        if (
            principal is not None
            and principal.kind in _AS_ROOT
            and self._org is not None
            and (service, operation) != ("sts", "GetCallerIdentity")  # never denied in AWS
        ):
            context = CallContext(
                self._accounts[principal.account_id].arn,
                f"{service}:{operation}",
                assumed_root=principal.kind == "assume-root",
            )
            if _org.scp_denies(self._org, principal.account_id, context):
                self._denied_by = "scp"
                return _org.scp_refusal(request, service, operation)
        if service == "iam" and operation == "ListOrganizationsFeatures":
            return _org.list_features(request, self._org, caller)
        if service == "iam" and operation.startswith(_FEATURE_WRITES):
            return _org.enable_feature(request, self._org, caller, operation)
        if service == "organizations":
            return _org.service_access(request, self._org, caller, operation, params, now)
        if service == "sts" and operation == "AssumeRoot":
            is_root = principal is not None and principal.kind != "admin"
            refusal, target, task, duration = _org.check_assume_root(
                request, params, self._org, caller, is_root
            )
            if refusal is not None:
                return refusal
            key_id = random_id("ASIA")
            made = Principal(target, "assume-root", random_secret(), random_secret(356))
            self._principals[key_id] = made
            expires = now + duration
            self._task_sessions[key_id] = _org.TaskSession(target, task, expires)
            return _org.assume_root_answer(request, key_id, made.secret, made.token or "", expires)
        return None

    def _register_root_key(self, account_id: str, key: RootKey) -> None:
        self._principals[key.key_id] = Principal(account_id, "root-key", key.secret)
