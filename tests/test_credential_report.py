"""The credential report's root row: the sandbox writes it as AWS does, rootkeys reads it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import botocore.exceptions
import pytest
from dateutil import parser

from rootkeys._credential_report import root_row
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
MADE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _root_row_of(sandbox: Sandbox, account_id: str) -> dict[str, str]:
    """The raw ``<root_account>`` row of the account's report, as an AWS tool reads it."""
    iam = sandbox.root_session(account_id).client("iam")
    iam.generate_credential_report()
    with pytest.raises(botocore.exceptions.ClientError, match="ReportInProgress"):
        iam.get_credential_report()  # AWS may answer "in progress" first; the sandbox does once
    content = iam.get_credential_report()["Content"]
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    (root,) = [r for r in rows if r["user"] == "<root_account>"]
    return root


def test_the_root_row_is_written_as_aws_writes_it(
    sandbox: Sandbox, account: SandboxAccount
) -> None:
    """The root user's password columns: enabled false without a password (the IAM User
    Guide's current wording), its last use no_information (never N/A), rotation
    not_supported; an unused key's dates are N/A."""
    sandbox.use_root_key(account.account_id, account.root_key_ids[0], service="ec2")
    root = _root_row_of(sandbox, account.account_id)
    assert root["password_last_used"] == "no_information"
    assert root["password_enabled"] == "false"
    assert root["password_last_changed"] == "not_supported"
    assert root["password_next_rotation"] == "not_supported"
    assert root["arn"] == "arn:aws:iam::111122223333:root"
    assert parser.parse(root["access_key_1_last_used_date"]).tzinfo is not None
    assert root["access_key_1_last_used_service"] == "ec2"
    assert root["access_key_2_last_used_date"] == "N/A"
    assert root["access_key_2_last_used_region"] == "N/A"
    assert root["cert_1_last_rotated"] == "N/A"


def test_prowler_avoid_root_usage_reads_the_root_row(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock
) -> None:
    """Prowler's iam_avoid_root_usage logic (its comparisons and dateutil parsing) runs on
    the sandbox's root row and finds the key used today; with `N/A` it raised."""
    sandbox.use_root_key(account.account_id, account.root_key_ids[0])
    user = _root_row_of(sandbox, account.account_id)
    # prowler/providers/aws/services/iam/iam_avoid_root_usage: the same tests, in order
    # (its "now" is the sandbox's clock here)
    if (
        user["password_last_used"] != "no_information"
        or user["access_key_1_last_used_date"] != "N/A"
        or user["access_key_2_last_used_date"] != "N/A"
    ):
        if user["password_last_used"] != "no_information":
            last = parser.parse(user["password_last_used"])
        elif user["access_key_1_last_used_date"] != "N/A":
            last = parser.parse(user["access_key_1_last_used_date"])
        else:
            last = parser.parse(user["access_key_2_last_used_date"])
        days = (clock.now() - last).days
    else:
        days = 10_000
    assert days <= 1  # FAIL: root was used in the last day, as the sandbox says


def _report(row: str) -> str:
    return f"{HEADER}\n{row}\n"


@pytest.mark.parametrize(
    ("password_last_used", "expected"),
    [
        ("no_information", None),
        ("N/A", None),
        ("2026-11-20T08:15:00+00:00", datetime(2026, 11, 20, 8, 15, tzinfo=UTC)),
    ],
    ids=["no-information", "not-applicable", "a-date"],
)
def test_rootkeys_reads_the_root_row_as_aws_writes_it(
    password_last_used: str, expected: datetime | None
) -> None:
    """AWS's placeholders (N/A, no_information, not_supported) read as "no value"; dates
    as dates, the root password's last use included."""
    row = (
        f"<root_account>,arn:aws:iam::111122223333:root,2015-01-01T00:00:00+00:00,"
        f"not_supported,{password_last_used},not_supported,not_supported,true,"
        "true,2020-03-01T10:00:00+00:00,2026-11-26T09:00:00+00:00,N/A,s3,"
        "false,2021-05-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
    )
    found = root_row(MADE, _report(row))
    assert found is not None
    assert found.password_last_used == expected
    assert found.mfa_active is True
    first, second = found.keys
    assert first.active is True
    assert first.last_used == datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert first.last_used_region is None  # N/A: a global service
    assert first.last_used_service == "s3"
    assert second.active is False
    assert second.last_rotated == datetime(2021, 5, 1, 10, tzinfo=UTC)
    assert second.last_used is None
    assert second.last_used_service is None
    assert found.active_keys == 1


def test_an_unreadable_date_is_no_value_not_a_crash() -> None:
    """A date rootkeys cannot parse reads as unknown (and is logged), not an exception."""
    row = (
        "<root_account>,arn:aws:iam::111122223333:root,2015-01-01T00:00:00+00:00,"
        "not_supported,yesterday-ish,not_supported,not_supported,false,"
        "true,2020-03-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
    found = root_row(MADE - timedelta(hours=1), _report(row))
    assert found is not None
    assert found.password_last_used is None
