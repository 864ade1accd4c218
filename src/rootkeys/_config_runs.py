"""The config file's sections for a run nobody starts by hand (docs/config.md, docs/lambda.md).

``[organization]``: which member accounts an organization run covers and how (what the
command line's ``--accounts``, ``--ou``, ``--credentials``, ``--keep-quarantine`` and
``--workers`` say for a person); ``[lambda]``: how the scheduled run inside AWS
(`rootkeys.aws_lambda`) spends its time. Strict and frozen like every section, so a
misspelt key is a `ConfigError` with its line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

from rootkeys._config_sections import STRICT, Duration
from rootkeys._kinds import (
    DEFAULT_KINDS,
    CredentialKind,
    validate_account_id,
    validate_member_credentials,
    validate_ou,
)
from rootkeys._public import rehome

__all__ = ["LambdaConfig", "OrganizationConfig"]


def _ou(value: str) -> str:
    checked = validate_ou(value)
    assert checked is not None
    return checked


class OrganizationConfig(BaseModel):
    """The ``[organization]`` table: what an organization run covers (`Organization`).

    Attributes:
        account_ids: only these member accounts (default: every one).
        ou: only the accounts under this organizational unit (or root), nested ones too.
        credentials: the kinds of root credential removed (``keys``, ``certificates``,
            ``password``, ``mfa``); keys and certificates by default.
        keep_quarantine: keep the quarantine SCP once an account's keys are gone.
        workers: how many accounts are worked on at once (1 to 256).
        region: the region of the STS endpoint for AssumeRoot (default: the session's).
    """

    model_config = STRICT

    account_ids: list[Annotated[str, AfterValidator(validate_account_id)]] | None = None
    ou: Annotated[str, AfterValidator(_ou)] | None = None
    credentials: list[str] = Field(default_factory=lambda: sorted(k.value for k in DEFAULT_KINDS))
    keep_quarantine: bool = False
    workers: int = Field(default=16, ge=1, le=256)
    region: str | None = None

    @field_validator("credentials")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        validate_member_credentials(value)
        return value

    @field_validator("account_ids")
    @classmethod
    def _some(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("name at least one account, or leave account_ids out for all")
        return value

    def kinds(self) -> frozenset[CredentialKind]:
        """The kinds of credential removed, as `Organization.removals` takes them."""
        return validate_member_credentials(self.credentials)


class LambdaConfig(BaseModel):
    """The ``[lambda]`` table: the scheduled run's time budget (`rootkeys.aws_lambda`).

    Attributes:
        time_reserve: no account's pass starts with less time than this left before the
            function's timeout (passes running then finish inside it). Default ``2m``.
        max_continuations: how many times one scheduled run may invoke the function again
            to go on where it stopped (default 10; 0: never).
    """

    model_config = STRICT

    time_reserve: Duration = timedelta(minutes=2)
    max_continuations: int = Field(default=10, ge=0, le=1000)


rehome(globals())
