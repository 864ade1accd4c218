"""The IAM credential report's root row: a cross-check of what IAM lists.

The report is a CSV that AWS makes at most every 4 hours. Where a column has no value
it writes ``N/A`` (not applicable: no key, never used), ``no_information`` (the root
password never used, or before IAM tracked it) or ``not_supported`` (the root user's
password columns); each reads as None here.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rootkeys._errors import AccessDeniedError, RootKeysError
from rootkeys._evidence import reason
from rootkeys._findings import CredentialReportRow, ReportKey

if TYPE_CHECKING:
    from rootkeys._clock import Clock
    from rootkeys._iam import IamGateway

__all__ = ["REPORT_POLL", "root_report_row", "root_row"]

log = logging.getLogger("rootkeys")

REPORT_POLL = timedelta(seconds=2)


def root_report_row(
    gateway: IamGateway, clock: Clock, budget: timedelta
) -> tuple[CredentialReportRow | None, str | None]:
    """The credential report's ``<root_account>`` row, or why there is none.

    Reads the current report; only when there is none, or it expired, asks AWS to make
    one (AWS makes one at most every 4 hours, so this never forces a new one early),
    then waits for it within ``budget``.
    """
    deadline = clock.now() + budget
    generated = False
    while True:
        try:
            made, text = gateway.credential_report()
            return root_row(made, text), None
        except AccessDeniedError as exc:
            return None, f"not allowed ({exc.code})"
        except RootKeysError as exc:
            code = getattr(exc, "code", "")
            if code in ("ReportNotPresent", "ReportExpired") and not generated:
                try:
                    gateway.generate_credential_report()
                except RootKeysError as failed:
                    return None, f"could not generate one: {reason(failed)}"
                generated = True
                continue
            if code in ("ReportInProgress", "ReportNotPresent") and clock.now() < deadline:
                clock.sleep(REPORT_POLL.total_seconds())
                continue
            return None, reason(exc)


def root_row(made: datetime, text: str) -> CredentialReportRow | None:
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("user") != "<root_account>":
            continue
        keys = []
        for slot in (1, 2):
            prefix = f"access_key_{slot}_"
            keys.append(
                ReportKey(
                    slot=slot,
                    active=row.get(prefix + "active") == "true",
                    last_rotated=_date(row.get(prefix + "last_rotated")),
                    last_used=_date(row.get(prefix + "last_used_date")),
                    last_used_region=_text(row.get(prefix + "last_used_region")),
                    last_used_service=_text(row.get(prefix + "last_used_service")),
                )
            )
        return CredentialReportRow(
            generated_at=made,
            mfa_active=row.get("mfa_active") == "true",
            keys=tuple(keys),
            password_last_used=_date(row.get("password_last_used")),
        )
    return None


_NO_VALUE = frozenset({"", "N/A", "no_information", "not_supported"})
"""What the credential report writes where there is no value: not applicable, no
information (never used, or before IAM tracked it), not supported (for the root user)."""


def _date(value: str | None) -> datetime | None:
    if value is None or value in _NO_VALUE:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        log.warning("the credential report has a date rootkeys cannot read: %.40r", value)
        return None


def _text(value: str | None) -> str | None:
    return None if value is None or value in _NO_VALUE else value
