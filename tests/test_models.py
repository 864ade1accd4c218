"""Models: validation at the edge, frozen values, no secrets, renderings."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from rootkeys import AccessKey, InputError, KeyState
from rootkeys._models import validate_account_id, validate_key_id
from rootkeys.lifecycle import CallerIdentity, KeyStatus

NOW = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AKIA",
        "akiaaaaaaaaaaaaaaaaa",
        "AKIAAAAAAAAAAAAAAAA",
        "AKIAAAAAAAAAAAAAAAAAA",
        "ASIAAAAAAAAAAAAAAAAA",
        "AKIA-AAAAAAAAAAAAAAA",
        " AKIAAAAAAAAAAAAAAAAA",
        None,
        12,
        b"AKIA",
    ],
    ids=[
        "empty",
        "prefix",
        "lowercase",
        "19",
        "21",
        "temporary",
        "dash",
        "space",
        "none",
        "int",
        "bytes",
    ],
)
def test_malformed_key_ids_are_input_errors(value: object) -> None:
    """Anything but AKIA + 16 upper-case letters or digits is refused."""
    with pytest.raises(InputError, match="is not an access key id"):
        validate_key_id(value)


def test_key_id_error_does_not_echo_a_pasted_secret() -> None:
    """A secret pasted where a key id belongs is not repeated in the error."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(InputError) as caught:
        validate_key_id(secret)
    assert secret not in str(caught.value)


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a", 123456789012])
def test_malformed_account_ids_are_input_errors(value: object) -> None:
    """Account ids are exactly 12 digits, as a string."""
    with pytest.raises(InputError, match="is not an AWS account id"):
        validate_account_id(value)


@pytest.mark.parametrize("status", list(KeyStatus), ids=lambda s: s.value)
def test_access_key_accepts_every_status_botocore_returns(status: KeyStatus) -> None:
    """Active, Inactive and Expired all parse, and map to the same lifecycle state."""
    key = AccessKey.model_validate(
        {"key_id": "AKIAAAAAAAAAAAAAAAAA", "status": status.value, "created_at": NOW}
    )
    assert key.state is KeyState(status.value)


def test_access_key_model_rejects_bad_ids_and_is_frozen() -> None:
    """Models validate their ids and cannot be changed after creation."""
    with pytest.raises(pydantic.ValidationError):
        AccessKey(key_id="nope", status=KeyStatus.ACTIVE, created_at=NOW)
    key = AccessKey(key_id="AKIAAAAAAAAAAAAAAAAA", status=KeyStatus.ACTIVE, created_at=NOW)
    with pytest.raises(pydantic.ValidationError):
        key.status = KeyStatus.INACTIVE  # type: ignore[misc]


def test_access_key_has_no_place_for_a_secret() -> None:
    """Extra fields (such as a secret) are refused outright."""
    with pytest.raises(pydantic.ValidationError):
        AccessKey.model_validate(
            {
                "key_id": "AKIAAAAAAAAAAAAAAAAA",
                "status": "Active",
                "created_at": NOW,
                "secret_access_key": "x" * 40,
            }
        )


@pytest.mark.parametrize(
    ("arn", "root"),
    [
        ("arn:aws:iam::111122223333:root", True),
        ("arn:aws-us-gov:iam::111122223333:root", True),
        ("arn:aws-cn:iam::111122223333:root", True),
        ("arn:aws:iam::444455556666:root", False),
        ("arn:aws:iam::111122223333:user/root", False),
        ("arn:aws:sts::111122223333:assumed-role/Admin/root", False),
        ("arn:aws:iam::111122223333:rootx", False),
        ("arn:aws:sts::111122223333:assumed-root/AKIA/session", True),
        ("arn:aws:sts::444455556666:assumed-root/AKIA/session", False),
        ("arn:aws:sts::111122223333:assumed-role/assumed-root/x", False),
        ("arn:aws:sts::111122223333:assumed-root/", False),
    ],
    ids=[
        "aws",
        "govcloud",
        "china",
        "other-account",
        "user-named-root",
        "role",
        "suffix",
        "assume-root-session",
        "assume-root-other-account",
        "role-named-assumed-root",
        "assume-root-empty",
    ],
)
def test_is_root_only_for_this_accounts_root_arn(arn: str, root: bool) -> None:
    """Only arn:<partition>:iam::<same account>:root counts as root."""
    assert CallerIdentity(account_id="111122223333", arn=arn).is_root is root
