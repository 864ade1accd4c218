"""What rootkeys finds out about a key before it acts: evidence, risk and prerequisites.

CloudTrail and IAM evidence of a key's use, the credential report's root row, the
preflight of prerequisites, and the `RemovalPolicy` that turns a key's risk into the
length of its observation window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rootkeys._errors import InputError
from rootkeys._models import AccessKey, AccessKeyId, CredentialKind, LastUsed
from rootkeys._public import rehome
from rootkeys._render import Table, Tabular, span, stamp

__all__ = [
    "CloudTrailEvidence",
    "Count",
    "CredentialReportRow",
    "KeyEvidence",
    "Preflight",
    "RemovalPolicy",
    "ReportKey",
    "Risk",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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

    def _table(self, wide: bool = False) -> Table:
        trail = self.cloudtrail
        rows: list[tuple[str, str]] = [("IAM last used", self.summary().split(";")[0])]
        if trail is None:
            rows.append(("CloudTrail", f"unavailable: {self.unavailable}"))
        else:
            rows.append(("CloudTrail events", f"{trail.events}" + ("" if trail.complete else "+")))
            if trail.first_seen and trail.last_seen:
                rows.append(("seen", f"{when(trail.first_seen)} to {when(trail.last_seen)}"))
            for label, counts in (
                ("event names", trail.event_names),
                ("event sources", trail.event_sources),
                ("source IPs", trail.source_ips),
                ("user agents", trail.user_agents),
            ):
                if counts:
                    rows.append((label, ", ".join(f"{c.value} ({c.count})" for c in counts)))
            rows.append(("regions searched", ", ".join(trail.regions)))
            rows += [("not searched", r) for r in _not_searched(trail.unavailable_regions, wide)]
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
        noun = "event" if trail.events == 1 and trail.complete else "events"
        return f"{used}; {trail.events}{more} CloudTrail {noun}, from {', '.join(top)}"


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
    """Gives each key its observation window: by its risk, or as set for it.

    Every value can be overridden. The defaults follow the seed's advice: the more
    recently a key was used, the longer whatever uses it gets to break while the key is
    unusable. A weekly job needs more than a week; a key never used needs little.

    A window set for a key (``keys``), else for its account (``accounts``), else for
    every key (``fixed``) needs no evidence, and, like one ``observe_for`` window,
    lengthens a shorter window the key already has (never shortens it). A window chosen
    by risk is set once, when the key's window starts. Account and key ids are checked
    when the policy is used (`InputError` before any AWS call); a value of the wrong
    type (a number or a string for a window) is an `InputError` when the policy is made.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True, strict=True)

    def __init__(self, **values: Any) -> None:
        """A policy from keyword values (`InputError` for a wrong type or an unknown name)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_where(e['loc'])}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise InputError(f"RemovalPolicy: {problems}") from None

    recent: timedelta = timedelta(days=14)
    """Window for a key used in the last ``recent_within`` (default: a day)."""
    active: timedelta = timedelta(days=8)
    """Window for a key used in the last 90 days: a weekly job gets the chance to break."""
    dormant: timedelta = timedelta(days=1)
    """Window for a key not used in 90 days (or since IAM began tracking in 2015)."""
    never: timedelta = timedelta(hours=1)
    """Window for a key IAM and CloudTrail have never seen used."""
    recent_within: timedelta = timedelta(days=1)
    fixed: timedelta | None = None
    """One window for every key not set otherwise, whatever its risk (no evidence is
    gathered); None: by risk."""
    accounts: Mapping[str, timedelta] = Field(default_factory=dict)
    """A window for every key of these accounts (12-digit account id: window)."""
    keys: Mapping[str, timedelta] = Field(default_factory=dict)
    """A window for these keys (access key id: window); wins over ``accounts``."""
    sign_in_blocks: timedelta | None = None
    """A member account whose root user signed in with its password this recently is
    blocked: nothing in it is quarantined (which would lock the console out too, whatever
    the run removes); a person decides. None: a recent sign-in only gives the password
    (and its MFA devices) the ``recent`` window when they are removed."""

    def blocked_by_sign_in(
        self,
        keys: Sequence[AccessKey],
        now: datetime,
        last_sign_in: Callable[[], datetime | None] = lambda: None,
    ) -> str | None:
        """Why ``sign_in_blocks`` blocks the account of ``keys`` now, or None.

        The root password's last use, from ``keys`` when the password is among them, else
        from ``last_sign_in`` (read only when the policy blocks at all): the quarantine
        locks the root user's console out too, whichever credentials a run removes.
        """
        if self.sign_in_blocks is None:
            return None
        passwords = [k for k in keys if k.kind is CredentialKind.PASSWORD]
        if passwords:
            seen = [k.last_used.at for k in passwords if k.last_used is not None]
        else:
            seen = [at] if (at := last_sign_in()) is not None else []
        for used in seen:
            if now - used <= self.sign_in_blocks:
                return (
                    f"its root user signed in with the password {when(used)}, within "
                    f"{span(self.sign_in_blocks)} (RemovalPolicy.sign_in_blocks): ask who "
                    "did, then remove the account's root credentials by hand or without "
                    "sign_in_blocks"
                )
        return None

    def window(self, risk: Risk) -> timedelta:
        """The window this policy gives a key of ``risk``."""
        return {
            Risk.RECENT: self.recent,
            Risk.ACTIVE: self.active,
            Risk.DORMANT: self.dormant,
            Risk.NEVER: self.never,
        }[risk]

    def chosen(self, key_id: str, account_id: str) -> tuple[timedelta, str] | None:
        """The window set for this key whatever its risk, and why; None: by its risk."""
        if key_id in self.keys:
            return self.keys[key_id], "set for this key"
        if account_id in self.accounts:
            return self.accounts[account_id], f"set for account {account_id}"
        if self.fixed is not None:
            return self.fixed, ""
        return None

    @property
    def by_risk(self) -> bool:
        """Whether some key may get its window from its risk (and so needs evidence)."""
        return self.fixed is None

    @property
    def windows(self) -> tuple[timedelta, ...]:
        """Every window this policy may give a key."""
        base = (self.fixed,) if self.fixed is not None else tuple(self.window(r) for r in Risk)
        return (*base, *self.accounts.values(), *self.keys.values())

    def classify(
        self, key: AccessKey, evidence: KeyEvidence | None, now: datetime
    ) -> tuple[Risk, str]:
        """The key's risk, and why, from IAM's last use and CloudTrail's last event.

        A signing certificate's use is recorded nowhere (IAM keeps no last use for it, and
        CloudTrail no lookup by certificate): never having seen it used proves nothing, so
        it is classed as used in the last 90 days and gets the ``active`` window, never
        the ``never`` one. A password is classed by ``PasswordLastUsed``, and an MFA device
        by its password's (it is used when the root user signs in), so the two share a
        window.
        """
        if key.kind is CredentialKind.CERTIFICATES:
            return Risk.ACTIVE, "a signing certificate's use cannot be seen: treated as in use"
        seen = [key.last_used.at] if key.last_used else []
        trail = evidence.cloudtrail if evidence else None
        if trail and trail.last_seen:
            seen.append(trail.last_seen)
        if not seen:
            if key.kind is CredentialKind.KEYS and evidence is None:
                return Risk.NEVER, "IAM shows no use (CloudTrail was not searched)"
            return Risk.NEVER, _NEVER[key.kind]
        last = max(seen)
        ago = now - last
        source = "CloudTrail" if trail and trail.last_seen == last else _SOURCE[key.kind]
        if ago <= self.recent_within:
            within = span(self.recent_within)
            return Risk.RECENT, f"last used {when(last)} ({source}), within {within}"
        if ago <= timedelta(days=90):
            return Risk.ACTIVE, f"last used {when(last)} ({source}), within 90 days"
        return Risk.DORMANT, f"last used {when(last)} ({source}), over 90 days ago"


_NEVER = {
    CredentialKind.KEYS: "IAM and CloudTrail show no use",
    CredentialKind.PASSWORD: "IAM shows no sign-in with it (PasswordLastUsed)",
    CredentialKind.MFA: "IAM shows no sign-in with the root password it guards",
}
_SOURCE = {
    CredentialKind.KEYS: "IAM",
    CredentialKind.PASSWORD: "PasswordLastUsed",
    CredentialKind.MFA: "the root password's sign-in, PasswordLastUsed",
}


def _where(loc: tuple[int | str, ...]) -> str:
    """Where a policy error is: the field, then at most 12 characters of a key in it.

    An id given as a key may be a secret pasted by mistake.
    """
    if not loc:
        return "policy"
    keys = [str(p) if len(str(p)) <= 12 else str(p)[:12] + "…" for p in loc[1:]]
    return ".".join([str(loc[0]), *keys])


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
    password_last_used: datetime | None = Field(
        default=None,
        description="When the root user last signed in with its password; None when the "
        "report says no_information (never, or before IAM tracked it).",
    )

    @property
    def active_keys(self) -> int:
        """How many root keys the report shows active."""
        return sum(k.active for k in self.keys)


_SHORT = 160


def _not_searched(unavailable: tuple[str, ...], wide: bool) -> list[str]:
    """Each region not searched, with why; compact: regions with one reason share a row.

    A region's entry is ``"<region>: <reason>"``; compact rows cut a reason at 160
    characters (an endpoint may answer with a whole page).
    """
    if wide:
        return list(unavailable)
    by_reason: dict[str, list[str]] = {}
    for entry in unavailable:
        region, _, reason = entry.partition(": ")
        by_reason.setdefault(" ".join(reason.split()), []).append(region)
    return [
        ", ".join(regions)
        + (f": {reason[:_SHORT]}…" if len(reason) > _SHORT else f": {reason}" if reason else "")
        for reason, regions in by_reason.items()
    ]


def when(at: datetime) -> str:
    return stamp(at)


rehome(globals())
