"""Typed, frozen descriptions of root access keys and of what rootkeys does to them.

No model here has a field for a secret: access key *ids* are identifiers, not secrets,
and are the only credential material rootkeys ever keeps.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rootkeys._errors import InputError
from rootkeys._render import Table, Tabular

__all__ = [
    "AccessKey",
    "AccessKeyId",
    "AccountId",
    "Action",
    "CallerIdentity",
    "CheckFailure",
    "CloudTrailEvidence",
    "Count",
    "CredentialReportRow",
    "KeyEvidence",
    "KeyOutcome",
    "KeyReport",
    "KeyState",
    "KeyStatus",
    "LastUsed",
    "ObservedKey",
    "Plan",
    "PlannedAction",
    "PlannedKey",
    "Preflight",
    "RemovalPolicy",
    "RemovalReport",
    "ReportKey",
    "Risk",
    "RunOutcome",
    "Step",
    "StepResult",
    "StepStatus",
    "validate_account_id",
    "validate_key_id",
]

_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def validate_key_id(value: object) -> str:
    """Return ``value`` if it is a long-term AWS access key id, else raise `InputError`.

    Root access keys are long-term keys: ``AKIA`` followed by 16 upper-case letters or
    digits. The message never repeats more than the first characters of the value, in
    case a secret was pasted by mistake.
    """
    if isinstance(value, str) and _KEY_ID.fullmatch(value):
        return value
    return _reject("access key id", value, "AKIA followed by 16 upper-case letters or digits")


def validate_account_id(value: object) -> str:
    """Return ``value`` if it is a 12-digit AWS account id, else raise `InputError`."""
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        return value
    return _reject("AWS account id", value, "exactly 12 digits, as a string")


def _reject(what: str, value: object, expected: str) -> str:
    if isinstance(value, str):
        shown = repr(value[:8] + "…") if len(value) > 8 else repr(value)
    else:
        shown = f"a {type(value).__name__}"
    raise InputError(f"{shown} is not an {what}: expected {expected}")


AccessKeyId = Annotated[str, AfterValidator(validate_key_id)]
"""A long-term AWS access key id (``AKIA`` + 16 characters), validated."""

AccountId = Annotated[str, AfterValidator(validate_account_id)]
"""A 12-digit AWS account id, validated."""

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class KeyStatus(StrEnum):
    """An access key's status as IAM reports it (botocore 1.43+ knows all three)."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"
    EXPIRED = "Expired"


class KeyState(StrEnum):
    """A key's place in the lifecycle: IAM's statuses, Quarantined, and the end, Deleted."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"
    EXPIRED = "Expired"
    QUARANTINED = "Quarantined"
    """Active in IAM, but unusable: the account's quarantine SCP denies the root user
    (organizations, where AssumeRoot cannot deactivate a key)."""
    DELETED = "Deleted"

    @property
    def usable(self) -> bool:
        """Whether a key in this state can sign requests."""
        return self is KeyState.ACTIVE

    @property
    def iam_status(self) -> KeyStatus:
        """The status IAM shows for a key in this state (not defined for Deleted)."""
        if self is KeyState.DELETED:
            raise ValueError("a deleted key has no IAM status")
        return KeyStatus.ACTIVE if self is KeyState.QUARANTINED else KeyStatus(self.value)


class Action(StrEnum):
    """The changes rootkeys can make to a key."""

    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"
    QUARANTINE = "quarantine"
    """Attach the quarantine SCP to the key's account (organizations' deactivate)."""
    RELEASE = "release"
    """Detach the quarantine SCP (organizations' reactivate: the rollback)."""


class LastUsed(BaseModel):
    """When and where a key was last used (IAM records the first use per 15 minutes)."""

    model_config = _FROZEN

    at: datetime
    service: str
    region: str | None = Field(
        default=None, description="None for global services such as IAM or S3."
    )


class AccessKey(BaseModel):
    """One access key of the root user, as IAM describes it."""

    model_config = _FROZEN

    key_id: AccessKeyId
    status: KeyStatus
    created_at: datetime
    last_used: LastUsed | None = Field(default=None, description="None if never used.")
    quarantined: bool = Field(
        default=False,
        description="Whether the account's quarantine SCP makes the root user's "
        "credentials unusable (organizations only).",
    )

    @property
    def state(self) -> KeyState:
        """The key's lifecycle state (never `KeyState.DELETED` for a listed key)."""
        if self.quarantined and self.status is KeyStatus.ACTIVE:
            return KeyState.QUARANTINED
        return KeyState(self.status.value)


class ObservedKey(AccessKey):
    """A key under observation, as checks receive it: an `AccessKey`, plus its window.

    ``window_started_at`` is when the key became unusable for this removal (from the
    journal across staged runs), so a check can look back over the whole window.
    """

    account_id: AccountId
    window_started_at: datetime


class CallerIdentity(BaseModel):
    """Who signs the requests: the answer of ``sts:GetCallerIdentity``."""

    model_config = _FROZEN

    account_id: AccountId
    arn: str
    signing_key_id: str | None = Field(
        default=None, description="The access key id that signs requests, if known."
    )

    @property
    def is_root(self) -> bool:
        """Whether the caller is this account's root user (or an AssumeRoot session)."""
        return is_root_arn(self.arn, self.account_id)


# The root user (also signed in through CloudShell) is arn:<partition>:iam::<account>:root.
# What GetCallerIdentity answers inside an sts:AssumeRoot session is not documented
# where we could read it: :root, or an sts "assumed-root" ARN. Both are accepted, which
# is safe either way: only AssumeRoot can make an assumed-root ARN (no role can).
_ROOT_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:(?:iam::(?P<account>[0-9]{12}):root"
    r"|sts::(?P<session_account>[0-9]{12}):assumed-root/[^\s]+)"
)


def is_root_arn(arn: str, account_id: str) -> bool:
    """Whether ``arn`` is the root user of ``account_id`` (or an AssumeRoot session in it)."""
    match = _ROOT_ARN.fullmatch(arn)
    return match is not None and account_id in (match["account"], match["session_account"])


class Count(BaseModel):
    """How often one value was seen."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    value: str
    count: int


class CloudTrailEvidence(BaseModel):
    """A summary of a key's CloudTrail management events (90 days at most)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    regions: tuple[str, ...]
    since: datetime
    events: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_names: tuple[Count, ...] = ()
    event_sources: tuple[Count, ...] = ()
    source_ips: tuple[Count, ...] = ()
    user_agents: tuple[Count, ...] = ()
    complete: bool = Field(
        default=True, description="False when the time budget ran out before every page."
    )
    unavailable_regions: tuple[str, ...] = Field(
        default=(), description="Regions that could not be searched, each with its reason."
    )


class KeyEvidence(Tabular, BaseModel):
    """What is known of a key's use, from IAM and CloudTrail."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key_id: AccessKeyId
    last_used: LastUsed | None
    cloudtrail: CloudTrailEvidence | None = None
    unavailable: str | None = Field(default=None, description="Why there is no CloudTrail part.")

    def _table(self) -> Table:
        trail = self.cloudtrail
        rows: list[tuple[str, str]] = [("IAM last used", self.summary().split(";")[0])]
        if trail is None:
            rows.append(("CloudTrail", f"unavailable: {self.unavailable}"))
        else:
            rows.append(("CloudTrail events", f"{trail.events}" + ("" if trail.complete else "+")))
            if trail.first_seen and trail.last_seen:
                rows.append(("seen", f"{_when(trail.first_seen)} to {_when(trail.last_seen)}"))
            for label, counts in (
                ("event names", trail.event_names),
                ("event sources", trail.event_sources),
                ("source IPs", trail.source_ips),
                ("user agents", trail.user_agents),
            ):
                if counts:
                    rows.append((label, ", ".join(f"{c.value} ({c.count})" for c in counts)))
            rows.append(("regions searched", ", ".join(trail.regions)))
            rows += [("not searched", r) for r in trail.unavailable_regions]
        return Table(f"Evidence for {self.key_id}", ("", ""), rows)

    def summary(self) -> str:
        """One line: the use that matters most for deciding."""
        used = (
            f"last used {self.last_used.at:%Y-%m-%d} ({self.last_used.service})"
            if self.last_used
            else "never used"
        )
        if self.cloudtrail is None:
            return f"{used}; CloudTrail evidence unavailable: {self.unavailable}"
        trail = self.cloudtrail
        if not trail.events:
            return f"{used}; no CloudTrail events in {len(trail.regions)} region(s)"
        top = [c.value for c in (trail.source_ips[:1] + trail.user_agents[:1])]
        more = "" if trail.complete else "+"
        return f"{used}; {trail.events}{more} CloudTrail events, from {', '.join(top)}"


class Preflight(BaseModel):
    """The prerequisites for removing root keys, checked: another admin, root MFA."""

    model_config = _FROZEN

    administrators: tuple[str, ...] = Field(
        description="IAM users and roles that can administer the account without root."
    )
    root_mfa: bool | None = Field(description="AccountMFAEnabled; None if it could not be read.")
    warnings: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = Field(default=(), description="What could not be checked.")


class Risk(StrEnum):
    """How likely removing a key is to break something, from the evidence of its use."""

    RECENT = "used in the last day"
    ACTIVE = "used in the last 90 days"
    DORMANT = "not used in 90 days"
    NEVER = "never used"


class RemovalPolicy(BaseModel):
    """Maps each key's risk to its observation window. Every value can be overridden.

    The defaults follow the seed's advice: the more recently a key was used, the longer
    whatever uses it gets to break while the key is unusable. A weekly job needs more
    than a week; a key never used needs little.
    """

    model_config = _FROZEN

    recent: timedelta = timedelta(days=14)
    """Window for a key used in the last ``recent_within`` (default: a day)."""
    active: timedelta = timedelta(days=8)
    """Window for a key used in the last 90 days: a weekly job gets the chance to break."""
    dormant: timedelta = timedelta(days=1)
    """Window for a key not used in 90 days (or since IAM began tracking in 2015)."""
    never: timedelta = timedelta(hours=1)
    """Window for a key IAM and CloudTrail have never seen used."""
    recent_within: timedelta = timedelta(days=1)

    def window(self, risk: Risk) -> timedelta:
        """The window this policy gives a key of ``risk``."""
        return {
            Risk.RECENT: self.recent,
            Risk.ACTIVE: self.active,
            Risk.DORMANT: self.dormant,
            Risk.NEVER: self.never,
        }[risk]

    def classify(
        self, key: AccessKey, evidence: KeyEvidence | None, now: datetime
    ) -> tuple[Risk, str]:
        """The key's risk, and why, from IAM's last use and CloudTrail's last event."""
        seen = [key.last_used.at] if key.last_used else []
        trail = evidence.cloudtrail if evidence else None
        if trail and trail.last_seen:
            seen.append(trail.last_seen)
        if not seen:
            return Risk.NEVER, "IAM and CloudTrail show no use"
        last = max(seen)
        ago = now - last
        source = "CloudTrail" if trail and trail.last_seen == last else "IAM"
        if ago <= self.recent_within:
            return Risk.RECENT, f"last used {_when(last)} ({source}), within {self.recent_within}"
        if ago <= timedelta(days=90):
            return Risk.ACTIVE, f"last used {_when(last)} ({source}), within 90 days"
        return Risk.DORMANT, f"last used {_when(last)} ({source}), over 90 days ago"


class ReportKey(BaseModel):
    """One access-key slot of the root user's row in the IAM credential report."""

    model_config = _FROZEN

    slot: int
    active: bool
    last_rotated: datetime | None = None
    last_used: datetime | None = None
    last_used_region: str | None = None
    last_used_service: str | None = None


class CredentialReportRow(BaseModel):
    """The credential report's ``<root_account>`` row: a cross-check of IAM's list."""

    model_config = _FROZEN

    generated_at: datetime
    mfa_active: bool
    keys: tuple[ReportKey, ...]

    @property
    def active_keys(self) -> int:
        """How many root keys the report shows active."""
        return sum(k.active for k in self.keys)


class PlannedAction(StrEnum):
    """What `RootKeyManager.remove_all` will do with a key."""

    DEACTIVATE_OBSERVE_DELETE = "deactivate, observe, delete"
    QUARANTINE_OBSERVE_DELETE = "quarantine, observe, delete"
    """An Active key in an organization's member account: made unusable by SCP."""
    OBSERVE_DELETE = "observe, delete"
    BLOCKED = "blocked"


class PlannedKey(BaseModel):
    """One key in a plan: what will happen to it, and why."""

    model_config = _FROZEN

    key: AccessKey
    action: PlannedAction
    reason: str
    evidence: KeyEvidence | None = Field(default=None, description="Who has used the key.")
    risk: Risk | None = Field(default=None, description="From the evidence, with a policy.")
    window: timedelta | None = Field(default=None, description="The window the key will get.")
    window_reason: str = ""


class Plan(Tabular, BaseModel):
    """What a removal run will do in one account, computed before any change."""

    model_config = _FROZEN

    account_id: AccountId
    caller_arn: str
    created_at: datetime
    observe_for: timedelta | None = Field(
        default=None, description="The observation window, when one was given."
    )
    keys: tuple[PlannedKey, ...]
    preflight: Preflight | None = None
    credential_report: CredentialReportRow | None = None
    credential_report_unavailable: str | None = None
    policy: RemovalPolicy | None = Field(
        default=None, description="The policy that chose each key's window, if one did."
    )

    @property
    def removable(self) -> tuple[PlannedKey, ...]:
        """The keys the run will take through the lifecycle."""
        return tuple(k for k in self.keys if k.action is not PlannedAction.BLOCKED)

    @property
    def blocked(self) -> tuple[PlannedKey, ...]:
        """The keys the run will not touch, each with its reason."""
        return tuple(k for k in self.keys if k.action is PlannedAction.BLOCKED)

    def _table(self) -> Table:
        rows = [
            (
                k.key.key_id,
                k.key.status.value,
                _when(k.key.last_used.at) if k.key.last_used else "never",
                k.risk.value if k.risk else "",
                str(k.window) if k.window is not None else "",
                k.action.value,
                k.reason,
            )
            for k in self.keys
        ]
        title = f"Plan for account {self.account_id} (caller {self.caller_arn})"
        if self.observe_for is not None:
            title += f", observation window {self.observe_for}"
        before = []
        if self.preflight:
            before += [f"WARNING: {w}" for w in self.preflight.warnings]
            before += [f"(not checked: {u})" for u in self.preflight.unavailable]
        after = [
            f"evidence {k.key.key_id}: {k.evidence.summary()}" for k in self.keys if k.evidence
        ]
        after += [f"window {k.key.key_id}: {k.window_reason}" for k in self.keys if k.window_reason]
        if self.credential_report is not None:
            report = self.credential_report
            active = sum(k.key.status is KeyStatus.ACTIVE for k in self.keys)
            note = (
                "agrees"
                if report.active_keys == active
                else f"shows {report.active_keys} active key(s), IAM lists {active} (the report "
                "may predate recent changes)"
            )
            after.append(f"credential report of {_when(report.generated_at)}: {note}")
        elif self.credential_report_unavailable:
            after.append(f"credential report unavailable: {self.credential_report_unavailable}")
        return Table(
            title,
            ("key", "status", "last used", "risk", "window", "action", "why"),
            rows,
            before,
            after,
            "the root user has no access keys: nothing to do",
        )


class StepStatus(StrEnum):
    """How one intended change ended."""

    DONE = "done"
    ALREADY_DONE = "already done"
    UNVERIFIED = "unverified"
    FAILED = "failed"


class Step(BaseModel):
    """One intended change to a key and its outcome, recorded in that order."""

    model_config = _FROZEN

    action: Action
    intended_at: datetime
    finished_at: datetime | None = None
    status: StepStatus | None = Field(default=None, description="None while in flight.")
    error_code: str | None = None
    detail: str = ""


class StepResult(BaseModel):
    """The result of an explicit step method (`RootKeyManager.deactivate` and friends)."""

    model_config = _FROZEN

    account_id: AccountId
    key_id: AccessKeyId
    action: Action
    from_state: KeyState
    to_state: KeyState
    step: Step

    @property
    def changed(self) -> bool:
        """Whether this call changed anything in AWS."""
        return self.step.status in (StepStatus.DONE, StepStatus.UNVERIFIED)

    @property
    def verified(self) -> bool:
        """Whether IAM was seen to hold the target state afterwards."""
        return self.step.status in (StepStatus.DONE, StepStatus.ALREADY_DONE)


class KeyOutcome(StrEnum):
    """How a removal run ended for one key."""

    DELETED = "deleted"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    KEPT = "kept"
    BLOCKED = "blocked"
    UNVERIFIED = "unverified"
    FAILED = "failed"


class CheckFailure(BaseModel):
    """The observation check that failed, and why."""

    model_config = _FROZEN

    check: str
    key_id: AccessKeyId
    reason: str
    at: datetime


class KeyReport(BaseModel):
    """What a removal run did to one key."""

    model_config = _FROZEN

    key_id: AccessKeyId
    initial_status: KeyStatus
    final_state: KeyState | None = Field(description="None when it could not be confirmed.")
    outcome: KeyOutcome
    reason: str
    steps: tuple[Step, ...] = ()
    observing_until: datetime | None = Field(
        default=None, description="For a key still observing: when its window ends."
    )
    window: timedelta | None = Field(default=None, description="The key's observation window.")


class RunOutcome(StrEnum):
    """How a removal run ended for the account as a whole."""

    DONE = "done"
    NOTHING_TO_DO = "nothing to do"
    OBSERVING = "observing"
    ROLLED_BACK = "rolled back"
    BLOCKED = "blocked"
    INCOMPLETE = "incomplete"


class RemovalReport(Tabular, BaseModel):
    """What `RootKeyManager.remove_all` did, key by key, and how it ended."""

    model_config = _FROZEN

    run_id: str
    account_id: AccountId
    started_at: datetime
    finished_at: datetime
    observe_for: timedelta
    outcome: RunOutcome
    keys: tuple[KeyReport, ...]
    check_failure: CheckFailure | None = None
    checks_run: int = 0
    keys_present: bool | None = Field(
        default=None,
        description="AccountAccessKeysPresent after the run; None if it was not read.",
    )
    hook_errors: tuple[str, ...] = ()

    def _with(self, outcome: KeyOutcome) -> tuple[str, ...]:
        return tuple(k.key_id for k in self.keys if k.outcome is outcome)

    @property
    def deleted(self) -> tuple[str, ...]:
        """Ids of the keys this run deleted."""
        return self._with(KeyOutcome.DELETED)

    @property
    def rolled_back(self) -> tuple[str, ...]:
        """Ids of the keys this run deactivated and then reactivated."""
        return self._with(KeyOutcome.ROLLED_BACK)

    @property
    def blocked(self) -> tuple[str, ...]:
        """Ids of the keys this run would not touch."""
        return self._with(KeyOutcome.BLOCKED)

    def _table(self) -> Table:
        title = (
            f"Run {self.run_id} in account {self.account_id}: {self.outcome.value} "
            f"({self.checks_run} checks run, window {self.observe_for})"
        )
        before = []
        if self.check_failure:
            f = self.check_failure
            before.append(f"check {f.check!r} failed for {f.key_id}: {f.reason}")
        rows = [
            (
                k.key_id,
                k.initial_status.value,
                k.final_state.value if k.final_state else "unknown",
                k.outcome.value,
                k.reason,
            )
            for k in self.keys
        ]
        after = []
        if self.keys_present is not None:
            present = "1 (root keys remain)" if self.keys_present else "0"
            after.append(f"AccountAccessKeysPresent: {present}")
        after += [f"hook error: {e}" for e in self.hook_errors]
        return Table(
            title,
            ("key", "was", "now", "outcome", "why"),
            rows,
            before,
            after,
            "no root access keys",
        )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
