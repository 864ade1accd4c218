"""Where the scheduled run's settings come from, and how it starts the next invocation.

The config file's TOML from S3, a file or the environment (`read_config`); the journal
``ROOTKEYS_JOURNAL`` names (`journal_spec`); Lambda ``InvokeFunction`` for a
continuation (`invoker`). Used by `rootkeys.aws_lambda` (docs/lambda.md).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from rootkeys._errors import ConfigError, RootKeysError
from rootkeys._public import rehome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import boto3

    from rootkeys._config import Config

__all__ = [
    "CONFIG_S3_VARIABLE",
    "CONFIG_TOML_VARIABLE",
    "CONFIG_VARIABLE",
    "JOURNAL_VARIABLE",
    "invoker",
    "journal_spec",
    "read_config",
]

CONFIG_S3_VARIABLE = "ROOTKEYS_CONFIG_S3"
"""Where the config file is, as an S3 object: ``s3://bucket/key``."""
CONFIG_VARIABLE = "ROOTKEYS_CONFIG"
"""The config file, as a path (say, packaged with the function)."""
CONFIG_TOML_VARIABLE = "ROOTKEYS_CONFIG_TOML"
"""The config file's TOML itself."""
JOURNAL_VARIABLE = "ROOTKEYS_JOURNAL"
"""The journal: ``dynamodb://TABLE?region=REGION``, or a path on lasting storage."""


def read_config(environ: Mapping[str, str], session: boto3.Session) -> tuple[Config, str]:
    """The configuration the environment names, and where it came from.

    Exactly one of ``ROOTKEYS_CONFIG_S3`` (an S3 object), ``ROOTKEYS_CONFIG`` (a file) and
    ``ROOTKEYS_CONFIG_TOML`` (the TOML itself).

    Raises:
        ConfigError: none or several named, unreadable, not TOML, or not valid.
    """
    from rootkeys._config import load_config, parse_config

    named = {
        name: value
        for name in (CONFIG_S3_VARIABLE, CONFIG_VARIABLE, CONFIG_TOML_VARIABLE)
        if (value := environ.get(name, "").strip())
    }
    if len(named) != 1:
        given = ", ".join(named) or "none is set"
        raise ConfigError(
            "environment",
            None,
            f"set exactly one of {CONFIG_S3_VARIABLE} (s3://bucket/key), {CONFIG_VARIABLE} "
            f"(a file) or {CONFIG_TOML_VARIABLE} (the TOML); {given}",
        )
    (name, value), *_ = named.items()
    if name == CONFIG_VARIABLE:
        config = load_config(value)
        return config, str(config.source)
    if name == CONFIG_TOML_VARIABLE:
        return parse_config(value.encode(), name), name
    return parse_config(_s3_object(value, session), value), value


def _s3_object(url: str, session: boto3.Session) -> bytes:
    """The bytes of ``s3://bucket/key`` (S3 ``GetObject``)."""
    from rootkeys._clock import SystemClock
    from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries

    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket or not key:
        raise ConfigError(CONFIG_S3_VARIABLE, None, f"must be s3://bucket/key, got {url!r}")
    s3 = session.client("s3", config=BOTO_CONFIG)
    try:
        answer = call_with_retries(
            "GetObject",
            lambda: s3.get_object(Bucket=bucket, Key=key),
            policy=RetryPolicy(),
            sleep=SystemClock().sleep,
        )
        body: bytes = answer["Body"].read()
    except RootKeysError as exc:
        raise ConfigError(url, None, f"cannot be read from S3: {exc}") from None
    return body


def journal_spec(environ: Mapping[str, str], config: Config) -> str:
    """The journal's URL or path: ``ROOTKEYS_JOURNAL`` (or the config file's ``journal``).

    Raises:
        ConfigError: none named, or a file under ``/tmp`` inside Lambda (lost with the
            execution environment).
    """
    spec = environ.get(JOURNAL_VARIABLE, "").strip() or (config.journal or "")
    if not spec:
        raise ConfigError(
            "environment",
            None,
            f"{JOURNAL_VARIABLE} must name the journal, e.g. dynamodb://TABLE?region=REGION: "
            "a run inside AWS keeps no local file between invocations",
        )
    path = spec.removeprefix("sqlite://")
    if "://" not in path and environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        where = os.path.realpath(path)
        if where == "/tmp" or where.startswith("/tmp/"):  # noqa: S108 - refusing it
            raise ConfigError(
                JOURNAL_VARIABLE,
                None,
                f"{spec!r} is in /tmp, lost when Lambda ends the execution environment: use "
                "dynamodb://TABLE?region=REGION (or a file on lasting storage, such as EFS)",
            )
    return spec


def invoker(session: boto3.Session) -> Callable[[str, dict[str, Any]], None]:
    """Lambda ``InvokeFunction`` with ``InvocationType=Event``: the next invocation."""
    from rootkeys._clock import SystemClock
    from rootkeys._retry import BOTO_CONFIG, RetryPolicy, call_with_retries

    def invoke(function_arn: str, payload: dict[str, Any]) -> None:
        region = function_arn.split(":")[3] if function_arn.count(":") >= 6 else None
        client = session.client("lambda", region_name=region or None, config=BOTO_CONFIG)
        call_with_retries(
            "Invoke",
            lambda: client.invoke(
                FunctionName=function_arn,
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            ),
            policy=RetryPolicy(),
            sleep=SystemClock().sleep,
        )

    return invoke


rehome(globals())
