"""Reading member accounts as `RootKeyManager` reads one (a base of `Organization`).

`plan`, `status`, `history` and `verify`, per member account, streamed as each account is
read (at most ``workers`` at once). They change nothing in AWS and write nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from rootkeys._decide import Settings
from rootkeys._driver import fan_out
from rootkeys._errors import InputError
from rootkeys._management import MANAGEMENT_HOW
from rootkeys._member_runs import out_of_reach
from rootkeys._models import (
    validate_account_id,
    validate_account_ids,
    validate_credential_id,
    validate_credentials,
    validate_member_credentials,
    validate_ou,
)
from rootkeys._org_credentials import OrganizationCredentials
from rootkeys._orgreports import AuditStatus
from rootkeys._public import rehome
from rootkeys._records import KeyHistory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import timedelta

    from rootkeys._findings import RemovalPolicy
    from rootkeys._journal import Journal
    from rootkeys._member_runs import MemberRunner
    from rootkeys._models import CredentialKind
    from rootkeys._orgreports import AccountAudit
    from rootkeys._reports import Plan, RemovalStatus

__all__ = ["OrganizationReads"]

R = TypeVar("R")


class OrganizationReads(OrganizationCredentials):
    """Each member account's plan, status, history and verification (a base of `Organization`)."""

    _runner: MemberRunner
    _journal: Journal

    if TYPE_CHECKING:

        def audit(
            self, account_ids: Iterable[str] | None = None, *, ou: str | None = None
        ) -> Iterator[AccountAudit]: ...

    def plan(
        self,
        observe_for: timedelta | RemovalPolicy | None = None,
        *,
        account_ids: Iterable[str] | None = None,
        ou: str | None = None,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> Iterator[Plan]:
        """What the next `remove_all` does to each member account's keys, changing nothing.

        One `Plan` per selected member account, as they come (at most ``workers`` at
        once): each key's decision is the one a removal pass makes (quarantine, observe
        until, delete, finish a rollback, on hold with its resume call, blocked by the
        SCP limit). An account that cannot be read (out of reach, suspended, an AWS
        error) gets a plan with no keys and a ``note`` saying why. Nothing is written.
        ``credentials``: the kinds planned for, as `remove_all` takes them.
        """
        settings = None if observe_for is None else Settings.of(observe_for)
        wanted, ou = validate_account_ids(account_ids), validate_ou(ou)
        kinds = validate_member_credentials(credentials)
        return self._reads(wanted, ou, lambda a: self._runner.plan(a, settings, kinds))

    def status(
        self,
        observe_for: timedelta | RemovalPolicy | None = None,
        *,
        account_ids: Iterable[str] | None = None,
        ou: str | None = None,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> Iterator[RemovalStatus]:
        """Where each member account's keys stand (`RootKeyManager.status`, per account).

        Streamed like `plan`; reads AWS and the journal, changes neither. ``credentials``:
        the kinds shown (default: keys and certificates).
        """
        settings = None if observe_for is None else Settings.of(observe_for)
        wanted, ou = validate_account_ids(account_ids), validate_ou(ou)
        kinds = validate_credentials(credentials)
        return self._reads(wanted, ou, lambda a: self._runner.status(a, settings, kinds))

    def history(self, account_id: str, key_id: str) -> KeyHistory:
        """The journal's records for one root credential of a member account, oldest first."""
        account_id, key_id = validate_account_id(account_id), validate_credential_id(key_id)
        if self._journal.in_memory:
            raise InputError("this Organization has no journal (journal=False): no history")
        records = tuple(self._journal.records(account_id, key_id))
        return KeyHistory(account_id=account_id, key_id=key_id, records=records)

    def verify(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        ou: str | None = None,
        credentials: Iterable[CredentialKind | str] | None = None,
    ) -> bool:
        """Whether no selected member account has a root access key or certificate left.

        Every member account's root credentials are read (`credentials`: the listings,
        and ``AccountAccessKeysPresent``); an account that cannot be read makes the
        answer False. ``credentials``: the kinds that must be gone (default: keys and
        certificates; add ``"password"`` and ``"mfa"`` to confirm no root password or
        MFA device remains). The management account is out of AssumeRoot's reach, so
        it is not among the accounts verified: verify it with a single-account
        `RootKeyManager` signed in as its root user.

        Raises:
            InputError: ``account_ids`` names the management account (it cannot be
                verified from here, and a True would be a false "done").
        """
        wanted = validate_account_ids(account_ids)
        kinds = validate_credentials(credentials)
        if wanted is not None and self._management.account_id in wanted:
            raise InputError(
                f"{self._management.account_id} is the management account, which AssumeRoot "
                f"cannot reach, so it cannot be verified here: {MANAGEMENT_HOW}"
            )
        for found in self.credentials(wanted, ou=ou):
            if found.status is AuditStatus.FAILED:
                return False
            if found.status is AuditStatus.AUDITED and found.remaining(kinds):
                return False
        return True

    def _reads(
        self,
        wanted: list[str] | None,
        ou: str | None,
        work: Callable[[dict[str, str]], R],
    ) -> Iterator[R]:
        management = self._management.account_id
        noted: Callable[[dict[str, str]], R | None] = lambda account: (  # noqa: E731
            None
            if (audit := out_of_reach(account, management)) is None
            else work({**account, "Note": audit.reason})
        )
        yield from fan_out(self._management.accounts(wanted, ou=ou), work, noted, self._workers)


rehome(globals())
