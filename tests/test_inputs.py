"""The bad-input catalogue: every public entry point, library and CLI, fed what it must refuse.

Each case gets its typed error and message. Input errors are refused before any AWS
call; a wrong caller (an IAM user, another account, an expired session) is refused
before any change. In every case the sandbox proves that no AWS state changed: no
mutating call was answered and no root key changed.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

import rootkeys
from rootkeys import cli
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount, SandboxOrganization

HOUR = timedelta(hours=1)
KEY = "AKIAAAAAAAAAAAAAAAAA"


class CliExit(Exception):
    """The CLI's exit, as an exception, so CLI cases share the library's table."""

    def __init__(self, code: int, err: str) -> None:
        super().__init__(f"exit {code}: {err.strip()}")
        self.code = code


@dataclass
class Env:
    """What a case may use: a sandbox account with two root keys, an organization."""

    sandbox: Sandbox
    account: SandboxAccount
    org: SandboxOrganization
    clock: FakeClock
    tmp: Path
    monkeypatch: pytest.MonkeyPatch

    def manager(self, session: boto3.Session | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("journal", self.tmp / "journal.sqlite3")
        return rootkeys.RootKeyManager(
            session or self.sandbox.root_session(self.account.account_id), **kwargs
        )

    def organization(self, **kwargs: Any) -> Any:
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("journal", self.tmp / "journal.sqlite3")
        return rootkeys.Organization(self.sandbox.management_session(), **kwargs)

    def alice(self) -> boto3.Session:
        """An IAM user with access keys of her own (the same calls would act on hers)."""
        session = self.sandbox.iam_user_session(self.account.account_id, "alice")
        iam = self.sandbox.admin_session(self.account.account_id).client("iam")
        iam.create_access_key(UserName="alice")
        return session

    def expired(self) -> boto3.Session:
        """A member's AssumeRoot session that has expired."""
        session = self.organization().root_session(self.org.member_account_ids[0])
        self.sandbox.expire_root_sessions()
        return session

    def corrupt(self) -> Path:
        path = self.tmp / "corrupt.sqlite3"
        path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
        return path

    def cli(self, *argv: str, as_root: bool = True) -> int:
        if as_root:
            for name, value in self.sandbox.root_credentials(self.account.account_id).items():
                self.monkeypatch.setenv(name, value)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO())
        err = io.StringIO()
        code = cli.main(list(argv), out=io.StringIO(), err=err)
        if code:
            raise CliExit(code, err.getvalue())
        return code

    def use(self, session: boto3.Session) -> None:
        """The environment's credentials become ``session``'s (for the CLI)."""
        credentials = session.get_credentials()
        assert credentials is not None
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)

    def no_credentials(self) -> Any:
        self.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no metadata lookups
        names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        saved = {n: os.environ.pop(n) for n in names if n in os.environ}  # moto's fake ones
        try:
            return rootkeys.RootKeyManager(boto3.Session(region_name="us-east-1"))
        finally:
            os.environ.update(saved)

    def config(self, text: str) -> Any:
        """Load ``text`` as a config file."""
        return rootkeys.load_config(self.write_config(text))

    def write_config(self, text: str) -> Path:
        """``text`` as a config file, written."""
        path = self.tmp / "config.toml"
        path.write_text(text)
        return path

    def mixed(self) -> Any:
        session = self.sandbox.root_session(self.account.account_id)
        return rootkeys.RootKeyManager(session, iam_client=session.client("iam"))


# name, call, error, message, AWS calls allowed (a caller must be identified first)
Case = tuple[str, Callable[[Env], object], type[BaseException], str, bool]
IN = rootkeys.InputError

CASES: list[Case] = [
    # -- AWS Config's verdict, password recovery ----------------------------------------------
    (
        "confirm control zero timeout",
        lambda e: e.manager().confirm_control(timeout=timedelta(0)),
        IN,
        "timeout must be a positive",
        False,
    ),
    (
        "confirm control bad region",
        lambda e: e.manager().confirm_control(region="mars-central-9"),
        IN,
        "region",
        False,
    ),
    (
        "password recovery bad account id",
        lambda e: e.organization().allow_password_recovery("12345"),
        IN,
        "account id",
        False,
    ),
    # -- RootKeyManager: ids, types, windows -------------------------------------------------
    ("manager account id short", lambda e: e.manager(account_id="1234"), IN, "account id", False),
    (
        "manager account id int",
        lambda e: e.manager(account_id=111122223333),
        IN,
        "account id",
        False,
    ),
    (
        "deactivate malformed key",
        lambda e: e.manager().deactivate("AKIA123"),
        IN,
        "access key id",
        False,
    ),
    (
        "delete temporary key id",
        lambda e: e.manager().delete("ASIAAAAAAAAAAAAAAAAA"),
        IN,
        "access key id",
        False,
    ),
    ("reactivate None", lambda e: e.manager().reactivate(None), IN, "access key id", False),
    ("history bad key", lambda e: e.manager().history("nope"), IN, "access key id", False),
    (
        "delete certificate id too short",
        lambda e: e.manager().delete("A" * 23),
        IN,
        "signing certificate id",
        False,
    ),
    (
        "rollback certificate id too long",
        lambda e: e.manager().rollback("A" * 129),
        IN,
        "signing certificate id",
        False,
    ),
    (
        "resume certificate id with a dash",
        lambda e: e.manager().resume("ABCDEFGHIJKL-MNOPQRSTUVWXYZ"),
        IN,
        "signing certificate id",
        False,
    ),
    (
        "history certificate id not ascii",
        lambda e: e.manager().history("É" * 24),
        IN,
        "signing certificate id",
        False,
    ),
    (
        "remove credentials as a string",
        lambda e: e.manager().remove_all(HOUR, credentials="keys"),
        IN,
        "set of kinds",
        False,
    ),
    (
        "remove unknown credential kind",
        lambda e: e.manager().remove_all(HOUR, credentials={"keys", "passwords"}),
        IN,
        "not a kind of root credential",
        False,
    ),
    (
        "plan no credential kind",
        lambda e: e.manager().plan(HOUR, credentials=set()),
        IN,
        "at least one kind",
        False,
    ),
    (
        "status credentials as an int",
        lambda e: e.manager().status(credentials=1),
        IN,
        "set of kinds",
        False,
    ),
    (
        "verify credential kind not a string",
        lambda e: e.manager().verify(credentials=[None]),
        IN,
        "not a kind of root credential",
        False,
    ),
    (
        "policy window for a bad certificate id",
        lambda e: e.manager().remove_all(rootkeys.RemovalPolicy(keys={"A" * 23: HOUR})),
        IN,
        "signing certificate id",
        False,
    ),
    ("remove negative window", lambda e: e.manager().remove_all(-HOUR), IN, "negative", False),
    (
        "remove huge window",
        lambda e: e.manager().remove_all(timedelta(days=4000)),
        IN,
        "at most 366",
        False,
    ),
    ("remove window as int", lambda e: e.manager().remove_all(3600), IN, "timedelta", False),
    ("remove window as str", lambda e: e.manager().remove_all("7d"), IN, "timedelta", False),
    (
        "remove zero interval",
        lambda e: e.manager().remove_all(HOUR, timedelta(0)),
        IN,
        "positive",
        False,
    ),
    ("remove wait not bool", lambda e: e.manager().remove_all(HOUR, wait="no"), IN, "wait", False),
    (
        "remove staged no journal",
        lambda e: e.manager(journal=False).remove_all(HOUR, wait=False),
        IN,
        "journal",
        False,
    ),
    (
        "plan negative window",
        lambda e: e.manager().plan(timedelta(seconds=-1)),
        IN,
        "negative",
        False,
    ),
    ("plan no regions", lambda e: e.manager().plan(HOUR, regions=[]), IN, "empty list", False),
    ("plan bad region", lambda e: e.manager().plan(HOUR, regions=["mars-1a"]), IN, "region", False),
    (
        "plan regions a string",
        lambda e: e.manager().plan(HOUR, regions="us-east-1"),
        IN,
        "list of region",
        False,
    ),
    (
        "plan zero budget",
        lambda e: e.manager().plan(HOUR, evidence_budget=timedelta(0)),
        IN,
        "positive",
        False,
    ),
    ("status negative window", lambda e: e.manager().status(-HOUR), IN, "negative", False),
    ("hooks not callables", lambda e: e.manager(hooks=["print"]), IN, "callables", False),
    ("checks a string", lambda e: e.manager(checks="healthy"), IN, "list", False),
    (
        "consistency negative",
        lambda e: e.manager(consistency_timeout=-HOUR),
        IN,
        "must not be negative, got -1h",
        False,
    ),
    ("retry a dict", lambda e: e.manager(retry={"attempts": 3}), IN, "RetryPolicy", False),
    ("clock an object", lambda e: e.manager(clock=object()), IN, "clock", False),
    (
        "session a string",
        lambda e: rootkeys.RootKeyManager("prod-root"),
        IN,
        "boto3.Session",
        False,
    ),
    ("journal a number", lambda e: e.manager(journal=3), IN, "journal must be", False),
    (
        "unknown profile",
        lambda e: rootkeys.RootKeyManager.from_profile("nope"),
        IN,
        "no AWS profile",
        False,
    ),
    ("session and clients mixed", lambda e: e.mixed(), IN, "either a session", False),
    (
        "no credentials",
        lambda e: e.no_credentials(),
        rootkeys.errors.InvalidCredentialsError,
        "no AWS credentials",
        False,
    ),
    ("retry attempts zero", lambda e: rootkeys.RetryPolicy(attempts=0), IN, "attempts", False),
    # -- windows per account and key, the config file, command checks ---------------------------
    (
        "policy bad account id",
        lambda e: e.manager().plan(rootkeys.RemovalPolicy(fixed=HOUR, accounts={"12": HOUR})),
        IN,
        "'12' is not an AWS account id",
        False,
    ),
    (
        "policy bad key id",
        lambda e: e.manager().remove_all(rootkeys.RemovalPolicy(keys={"AKIA1": HOUR})),
        IN,
        "access key id",
        False,
    ),
    (
        "org policy huge account window",
        lambda e: e.organization().remove_all(
            rootkeys.RemovalPolicy(accounts={e.org.member_account_ids[0]: timedelta(days=400)})
        ),
        IN,
        "at most 366",
        False,
    ),
    (
        "config missing",
        lambda e: rootkeys.load_config(e.tmp / "nope.toml"),
        rootkeys.errors.ConfigError,
        "nope.toml: no such file",
        False,
    ),
    (
        "config not toml",
        lambda e: e.config('observe = "1d"\nobserve 2d\n'),
        rootkeys.errors.ConfigError,
        "config.toml, line 2: not valid TOML",
        False,
    ),
    (
        "config unknown key",
        lambda e: e.config('observe = "1d"\n[[checks.http]]\nurl = "https://a"\ncode = 200\n'),
        rootkeys.errors.ConfigError,
        r"config.toml, line 4: checks.http\[0\].code: unknown key",
        False,
    ),
    (
        "config bad window",
        lambda e: e.config('observe = "-1d"\n'),
        rootkeys.errors.ConfigError,
        "line 1: observe: '-1d' is not a duration",
        False,
    ),
    (
        "config organization workers zero",
        lambda e: e.config('observe = "1d"\n[organization]\nworkers = 0\n'),
        rootkeys.errors.ConfigError,
        "line 3: organization.workers: Input should be greater than or equal to 1",
        False,
    ),
    (
        "config organization unknown key",
        lambda e: e.config('observe = "1d"\n[organization]\nkeep_quarentine = true\n'),
        rootkeys.errors.ConfigError,
        "line 3: organization.keep_quarentine: unknown key; did you mean keep_quarantine",
        False,
    ),
    (
        "config organization bad credential kind",
        lambda e: e.config('observe = "1d"\n[organization]\ncredentials = ["keys", "pw"]\n'),
        rootkeys.errors.ConfigError,
        "line 3: organization.credentials: .*pw",
        False,
    ),
    (
        "config organization bad ou",
        lambda e: e.config('[organization]\nworkers = 2\nou = "engineering"\n'),
        rootkeys.errors.ConfigError,
        "line 3: organization.ou: .*is not an organizational unit id",
        False,
    ),
    (
        "config organization bad account id",
        lambda e: e.config('[organization]\naccount_ids = ["1234"]\n'),
        rootkeys.errors.ConfigError,
        r"line 2: organization.account_ids\[0\]: .*is not an AWS account id",
        False,
    ),
    (
        "config organization no account ids",
        lambda e: e.config("[organization]\naccount_ids = []\n"),
        rootkeys.errors.ConfigError,
        "line 2: organization.account_ids: name at least one account",
        False,
    ),
    (
        "config lambda reserve a number",
        lambda e: e.config("[lambda]\ntime_reserve = 120\n"),
        rootkeys.errors.ConfigError,
        "line 2: lambda.time_reserve: write a duration as a string",
        False,
    ),
    (
        "config lambda continuations negative",
        lambda e: e.config("[lambda]\nmax_continuations = -1\n"),
        rootkeys.errors.ConfigError,
        "line 2: lambda.max_continuations: Input should be greater than or equal to 0",
        False,
    ),
    (
        "config flag bad url",
        lambda e: rootkeys.config.Config().extended(http=["app.example.com"]),
        IN,
        "must start with http",
        False,
    ),
    # -- notifications: the config file, the notifiers, the CLI ---------------------------------
    (
        "config notify sns not a topic ARN",
        lambda e: e.config('[[notify.sns]]\ntopic_arn = "arn:aws:sqs:us-east-1:111122223333:q"\n'),
        rootkeys.errors.ConfigError,
        r"line 2: notify.sns\[0\].topic_arn: .* is not an SNS topic ARN",
        False,
    ),
    (
        "config notify webhook not http",
        lambda e: e.config(
            '[[notify.webhook]]\ntimeout = "2s"\nurl = "ftp://example.com/T0/B0/secret123"\n'
        ),
        rootkeys.errors.ConfigError,
        r"line 3: notify.webhook\[0\].url: a webhook URL must be an http:// or https:// URL with a "
        "host$",
        False,
    ),
    (
        "config notify unknown outcome",
        lambda e: e.config(
            '[[notify.webhook]]\nurl = "https://example.com/x"\non = ["rolled back", "exploded"]\n'
        ),
        rootkeys.errors.ConfigError,
        r"line 3: notify.webhook\[0\].on: on: 'exploded' is not an account outcome told",
        False,
    ),
    (
        "config notify outcome never told",
        lambda e: e.config(
            '[[notify.sns]]\ntopic_arn = "arn:aws:sns:us-east-1:111122223333:t"\non = ["skipped"]\n'
        ),
        rootkeys.errors.ConfigError,
        r"line 3: .*'skipped' is not an account outcome told",
        False,
    ),
    (
        "config notify unknown key",
        lambda e: e.config('[[notify.sns]]\ntopic = "arn:aws:sns:us-east-1:111122223333:t"\n'),
        rootkeys.errors.ConfigError,
        r"line 2: notify.sns\[0\].topic: unknown key; did you mean topic_arn\?",
        False,
    ),
    (
        "config notify webhook zero timeout",
        lambda e: e.config('[[notify.webhook]]\nurl = "https://example.com/x"\ntimeout = "0s"\n'),
        rootkeys.errors.ConfigError,
        r"line 3: notify.webhook\[0\].timeout: must be longer than 0",
        False,
    ),
    (
        "sns notifier not a topic ARN",
        lambda e: rootkeys.notify.SnsNotifier("my-topic"),
        IN,
        "'my-topic' is not an SNS topic ARN",
        False,
    ),
    (
        "webhook notifier file URL",
        lambda e: rootkeys.notify.WebhookNotifier("file:///etc/passwd"),
        IN,
        "a webhook URL must be an http:// or https:// URL with a host",
        False,
    ),
    (
        "webhook notifier on one string",
        lambda e: rootkeys.notify.WebhookNotifier("https://example.com/x", on="rolled back"),
        IN,
        "on must be a list of account outcomes",
        False,
    ),
    (
        "webhook notifier headers not strings",
        lambda e: rootkeys.notify.WebhookNotifier("https://example.com/x", headers={"X-N": 1}),
        IN,
        "headers must map strings to strings",
        False,
    ),
    (
        "webhook notifier negative timeout",
        lambda e: rootkeys.notify.WebhookNotifier("https://example.com/x", timeout=-1),
        IN,
        "timeout must be positive",
        False,
    ),
    (
        "cli remove org bad notify config",
        lambda e: e.cli(
            "remove",
            "--org",
            "--observe",
            "1h",
            "--yes",
            "--config",
            str(e.write_config('[[notify.sns]]\ntopic_arn = "nope"\n')),
        ),
        CliExit,
        r"line 2: notify.sns\[0\].topic_arn: 'nope' is not an SNS topic ARN",
        False,
    ),
    (
        "command check no program",
        lambda e: rootkeys.checks.CommandCheck([]),
        IN,
        "must name a program",
        False,
    ),
    # -- the journal ---------------------------------------------------------------------------
    (
        "journal corrupt",
        lambda e: e.manager(journal=e.corrupt()),
        rootkeys.errors.JournalError,
        "not a database|corrupt|rootkeys journal",
        False,
    ),
    (
        "journal directory missing",
        lambda e: rootkeys.Journal(e.tmp / "no" / "j.sqlite3"),
        rootkeys.errors.JournalError,
        "does not exist",
        False,
    ),
    (
        "journal negative lock wait",
        lambda e: rootkeys.Journal(e.tmp / "j.sqlite3", lock_timeout=-HOUR),
        rootkeys.errors.JournalError,
        "lock_timeout",
        False,
    ),
    (
        "journal location not a table name",
        lambda e: e.manager(journal="dynamodb://x"),
        IN,
        "not a DynamoDB table name",
        False,
    ),
    (
        "journal location unknown parameter",
        lambda e: rootkeys.Journal.open("dynamodb://rootkeys-journal?regoin=us-east-1"),
        IN,
        "unknown parameter 'regoin'",
        False,
    ),
    (
        "journal table missing",
        lambda e: e.organization(journal="dynamodb://no-such-table?region=us-east-1"),
        rootkeys.errors.JournalError,
        "does not exist.*journal create",
        True,
    ),
    (
        "journal zero lease",
        lambda e: rootkeys.Journal(e.tmp / "j.sqlite3", lease=timedelta(0)),
        rootkeys.errors.JournalError,
        "lease must be longer than 0",
        False,
    ),
    # -- the wrong caller ------------------------------------------------------------------------
    (
        "IAM user caller with own keys",
        lambda e: e.manager(e.alice()).remove_all(HOUR),
        rootkeys.NotRootError,
        "user/alice",
        True,
    ),
    (
        "IAM user deactivate",
        lambda e: e.manager(e.alice()).deactivate(e.account.root_key_ids[0]),
        rootkeys.NotRootError,
        "not an account's root user",
        True,
    ),
    (
        "IAM user list",
        lambda e: e.manager(e.alice()).list_keys(),
        rootkeys.NotRootError,
        "root user",
        True,
    ),
    (
        "another account",
        lambda e: e.manager(account_id="999999999999").remove_all(HOUR),
        rootkeys.errors.AccountMismatchError,
        "999999999999",
        True,
    ),
    (
        "expired session",
        lambda e: e.manager(e.expired()).remove_all(HOUR),
        rootkeys.errors.InvalidCredentialsError,
        "ExpiredToken",
        True,
    ),
    (
        "signing key delete",
        lambda e: e.manager(
            e.sandbox.root_session(e.account.account_id, key_id=e.account.root_key_ids[0])
        ).delete(e.account.root_key_ids[0]),
        rootkeys.errors.ProtectedKeyError,
        "signs",
        True,
    ),
    (
        "delete an Active key",
        lambda e: e.manager().delete(e.account.root_key_ids[0]),
        rootkeys.errors.IllegalTransitionError,
        "never deleted",
        True,
    ),
    (
        "delete an Active signing certificate",
        lambda e: e.manager().delete(e.sandbox.add_root_signing_certificate(e.account.account_id)),
        rootkeys.errors.IllegalTransitionError,
        "never deleted",
        True,
    ),
    (
        "deactivate unknown signing certificate",
        lambda e: e.manager().deactivate("C" * 24),
        rootkeys.errors.KeyNotFoundError,
        "C" * 24,
        True,
    ),
    (
        "deactivate unknown key",
        lambda e: e.manager().deactivate(KEY),
        rootkeys.errors.KeyNotFoundError,
        KEY,
        True,
    ),
    # -- Organization ------------------------------------------------------------------------------
    ("org workers zero", lambda e: e.organization(workers=0), IN, "workers", False),
    ("org workers a float", lambda e: e.organization(workers=2.5), IN, "workers", False),
    (
        "org consistency negative",
        lambda e: e.organization(consistency_timeout=-HOUR),
        IN,
        "must not be negative, got -1h",
        False,
    ),
    ("org retry a dict", lambda e: e.organization(retry={"attempts": 3}), IN, "RetryPolicy", False),
    ("org clock without sleep", lambda e: e.organization(clock=object()), IN, "sleep", False),
    ("org checks not callables", lambda e: e.organization(checks=[1]), IN, "callables", False),
    ("org remove negative", lambda e: e.organization().remove_all(-HOUR), IN, "negative", False),
    (
        "org remove bad account",
        lambda e: e.organization().remove_all(HOUR, account_ids=["12"]),
        IN,
        "account id",
        False,
    ),
    (
        "org remove keep not bool",
        lambda e: e.organization().remove_all(HOUR, keep_quarantine=1),
        IN,
        "keep_quarantine",
        False,
    ),
    (
        "org remove no journal",
        lambda e: e.organization(journal=False).remove_all(HOUR),
        IN,
        "journal",
        False,
    ),
    (
        "org remove stop_when not callable",
        lambda e: e.organization().remove_all(HOUR, stop_when=True),
        IN,
        "stop_when must be a callable",
        False,
    ),
    (
        "org removals start_after not an account id",
        lambda e: e.organization().removals(HOUR, start_after="12"),
        IN,
        "account id",
        False,
    ),
    ("org audit bad account", lambda e: e.organization().audit(["abc"]), IN, "account id", False),
    (
        "org credentials bad account",
        lambda e: e.organization().credentials(["abc"]),
        IN,
        "account id",
        False,
    ),
    (
        "org credentials lone string",
        lambda e: e.organization().credentials("123456789012"),
        IN,
        "list of 12-digit",
        False,
    ),
    (
        "org credentials bad ou",
        lambda e: e.organization().credentials(ou="ou-?"),
        IN,
        "organizational unit",
        False,
    ),
    (
        "credentials by an IAM user",
        lambda e: e.manager(e.alice()).credentials(),
        rootkeys.NotRootError,
        "user/alice",
        True,
    ),
    (
        "org quarantine bad id",
        lambda e: e.organization().quarantine("abc"),
        IN,
        "account id",
        False,
    ),
    (
        "org management as target",
        lambda e: e.organization().quarantine(e.org.management_account_id),
        IN,
        "management account",
        True,
    ),
    (
        "org release management",
        lambda e: e.organization().release(e.org.management_account_id),
        IN,
        "management account",
        True,
    ),
    (
        "org verify management",
        lambda e: e.organization().verify([e.org.management_account_id]),
        IN,
        "management account.*cannot be verified here",
        True,
    ),
    (
        "org account ids as one string",
        lambda e: list(e.organization().status(account_ids=e.org.member_account_ids[0])),
        IN,
        "account_ids must be a list",
        False,
    ),
    (
        "org bad ou",
        lambda e: list(e.organization().plan(ou="bogus")),
        IN,
        "'bogus' is not an organizational unit id",
        False,
    ),
    (
        "org enable root_sessions not bool",
        lambda e: e.organization().enable_root_access(root_sessions="no"),
        IN,
        "root_sessions must be True or False",
        False,
    ),
    (
        "org root_access root_sessions not bool",
        lambda e: e.organization().root_access(root_sessions=None),
        IN,
        "root_sessions must be True or False",
        False,
    ),
    (
        "org enable from a member account",
        lambda e: rootkeys.Organization(
            e.sandbox.admin_session(e.org.member_account_ids[0])
        ).enable_root_access(root_sessions=False),
        rootkeys.errors.NotManagementAccountError,
        "needs the management account",
        True,
    ),
    # -- every root credential: kinds, sign-in blocks, histories ----------------------------------
    (
        "org remove credentials as a string",
        lambda e: e.organization().remove_all(HOUR, credentials="password"),
        IN,
        "credentials must be a set of kinds",
        False,
    ),
    (
        "org remove unknown credential kind",
        lambda e: e.organization().remove_all(HOUR, credentials={"keys", "login-profile"}),
        IN,
        "'login-profile' is not a kind of root credential",
        False,
    ),
    (
        "org remove no credential kind",
        lambda e: e.organization().remove_all(HOUR, credentials=set()),
        IN,
        "credentials must name at least one kind",
        False,
    ),
    (
        "org remove mfa without the password",
        lambda e: e.organization().remove_all(HOUR, credentials={"keys", "mfa"}),
        IN,
        "MFA devices are removed with the root password",
        False,
    ),
    (
        "org plan credentials as a string",
        lambda e: list(e.organization().plan(HOUR, credentials="mfa")),
        IN,
        "credentials must be a set of kinds",
        False,
    ),
    (
        "org plan unknown credential kind",
        lambda e: list(e.organization().plan(HOUR, credentials=["passwords"])),
        IN,
        "'passwords' is not a kind of root credential",
        False,
    ),
    (
        "org plan no credential kind",
        lambda e: list(e.organization().plan(HOUR, credentials=())),
        IN,
        "credentials must name at least one kind",
        False,
    ),
    (
        "org plan mfa without the password",
        lambda e: list(e.organization().plan(HOUR, credentials={"mfa"})),
        IN,
        "MFA devices are removed with the root password",
        False,
    ),
    (
        "org status credentials as a string",
        lambda e: list(e.organization().status(credentials="keys")),
        IN,
        "credentials must be a set of kinds",
        False,
    ),
    (
        "org status unknown credential kind",
        lambda e: list(e.organization().status(credentials={"keys", 2})),
        IN,
        "int is not a kind of root credential",
        False,
    ),
    (
        "org status no credential kind",
        lambda e: list(e.organization().status(credentials=frozenset())),
        IN,
        "credentials must name at least one kind",
        False,
    ),
    (
        "org verify credentials as a string",
        lambda e: e.organization().verify(credentials="password"),
        IN,
        "credentials must be a set of kinds",
        False,
    ),
    (
        "org verify unknown credential kind",
        lambda e: e.organization().verify(credentials={"u2f"}),
        IN,
        "'u2f' is not a kind of root credential",
        False,
    ),
    (
        "org verify no credential kind",
        lambda e: e.organization().verify(credentials=[]),
        IN,
        "credentials must name at least one kind",
        False,
    ),
    (
        "remove a password in one account",
        lambda e: e.manager().remove_all(HOUR, credentials={"password"}),
        IN,
        "member accounts only",
        False,
    ),
    (
        "plan a password in one account",
        lambda e: e.manager().plan(HOUR, credentials={"password"}),
        IN,
        "member accounts only",
        False,
    ),
    (
        "status of a password in one account",
        lambda e: e.manager().status(credentials={"password"}),
        IN,
        "member accounts only",
        False,
    ),
    (
        "org sign-in block zero",
        lambda e: e.organization().remove_all(
            rootkeys.RemovalPolicy(fixed=HOUR, sign_in_blocks=timedelta(0)),
            credentials={"keys", "password"},
        ),
        IN,
        "sign_in_blocks must be more than 0 and at most 90 days, got 0s",
        False,
    ),
    (
        "org sign-in block negative",
        lambda e: e.organization().remove_all(
            rootkeys.RemovalPolicy(fixed=HOUR, sign_in_blocks=-timedelta(days=1)),
            credentials={"keys", "password"},
        ),
        IN,
        "sign_in_blocks must be more than 0 and at most 90 days, got -1d",
        False,
    ),
    (
        "org sign-in block over 90 days",
        lambda e: e.organization().remove_all(
            rootkeys.RemovalPolicy(fixed=HOUR, sign_in_blocks=timedelta(days=91)),
            credentials={"keys", "password"},
        ),
        IN,
        "sign_in_blocks must be more than 0 and at most 90 days, got 91d",
        False,
    ),
    (
        "org confirm_control malformed account",
        lambda e: e.organization().confirm_control(
            "12345", session=e.sandbox.admin_session(e.org.member_account_ids[0])
        ),
        IN,
        "is not an AWS account id",
        False,
    ),
    (
        "org confirm_control zero timeout",
        lambda e: e.organization().confirm_control(
            e.org.member_account_ids[0],
            session=e.sandbox.admin_session(e.org.member_account_ids[0]),
            timeout=timedelta(0),
        ),
        IN,
        "timeout must be a positive timedelta",
        False,
    ),
    (
        "one account delete of a member password id",
        lambda e: e.manager().delete("password:20261202T080000Z"),
        IN,
        "is not an access key id or signing certificate id",
        False,
    ),
    (
        "one account deactivate of a member MFA id",
        lambda e: e.manager().deactivate("mfa:arn:aws:iam::111122223333:mfa/root-device"),
        IN,
        "is not an access key id or signing certificate id",
        False,
    ),
    (
        "policy sign-in block a string",
        lambda e: rootkeys.RemovalPolicy(sign_in_blocks="a week"),
        IN,
        "RemovalPolicy: sign_in_blocks: Input should be a valid timedelta",
        False,
    ),
    (
        "policy window a number of seconds",
        lambda e: rootkeys.RemovalPolicy(recent=3600),
        IN,
        "RemovalPolicy: recent: Input should be a valid timedelta",
        False,
    ),
    (
        "org history malformed credential id",
        lambda e: e.organization().history(e.org.member_account_ids[0], "not-an-id"),
        IN,
        "is not an access key id or signing certificate id",
        False,
    ),
    (
        "org history malformed password id",
        lambda e: e.organization().history(e.org.member_account_ids[0], "password:yesterday"),
        IN,
        "is not an access key id or signing certificate id",
        False,
    ),
    # -- the CLI -----------------------------------------------------------------------------------
    (
        "cli bad key id",
        lambda e: e.cli("history", "AKIA1"),
        CliExit,
        "exit 2: rootkeys: error: .*access key id",
        False,
    ),
    (
        "cli bad account id",
        lambda e: e.cli("plan", "--account-id", "12", "--no-evidence"),
        CliExit,
        "exit 2.*account id",
        False,
    ),
    (
        "cli negative window",
        lambda e: e.cli("remove", "--observe=-1d", "--yes"),
        CliExit,
        "exit 2",
        False,
    ),
    (
        "cli huge window",
        lambda e: e.cli("remove", "--observe", "400d", "--yes"),
        CliExit,
        "exit 2.*at most 366",
        False,
    ),
    (
        "cli unknown profile",
        lambda e: e.cli("status", "--profile", "nope"),
        CliExit,
        "exit 2.*no AWS profile",
        False,
    ),
    (
        "cli corrupt journal",
        lambda e: e.cli("status", "--journal", str(e.corrupt())),
        CliExit,
        "exit 2.*journal",
        False,
    ),
    (
        "cli journal copy onto itself",
        lambda e: e.cli("journal", "copy", str(e.tmp / "j.sqlite3"), str(e.tmp / "j.sqlite3")),
        CliExit,
        "exit 2.*the same journal",
        False,
    ),
    (
        "cli journal bad location",
        lambda e: e.cli("journal", "export", "dynamodb://rootkeys-journal?profil=x"),
        CliExit,
        "exit 2.*unknown parameter 'profil'",
        False,
    ),
    (
        "cli no terminal",
        lambda e: e.cli("remove", "--observe", "1d"),
        CliExit,
        "exit 2.*--yes",
        False,
    ),
    (
        "cli org options alone",
        lambda e: e.cli("remove", "--observe", "1d", "--yes", "--ou", "ou-1"),
        CliExit,
        "exit 2.*--org",
        False,
    ),
    (
        "cli workers zero",
        lambda e: e.cli("audit", "--workers", "0"),
        CliExit,
        "exit 2.*workers",
        False,
    ),
    (
        "cli org unknown action",
        lambda e: e.cli("org", "disable", "--yes"),
        CliExit,
        "exit 2.*invalid choice",
        False,
    ),
    (
        "cli org enable account id",
        lambda e: e.cli("org", "status", "--account-id", "111122223333"),
        CliExit,
        "exit 2.*--account-id is for one account",
        False,
    ),
    (
        "cli IAM user caller",
        lambda e: (e.use(e.alice()), e.cli("remove", "--observe", "0", "--yes", as_root=False)),
        CliExit,
        "exit 3.*user/alice",
        True,
    ),
]


@pytest.fixture
def env(
    sandbox: Sandbox,
    account: SandboxAccount,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Env:
    org = sandbox.create_organization(members=1, root_keys=1)
    return Env(sandbox, account, org, clock, tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("name", "call", "error", "message", "calls"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_gets_its_typed_error_and_changes_nothing(
    env: Env,
    name: str,
    call: Callable[[Env], object],
    error: type[BaseException],
    message: str,
    calls: bool,
) -> None:
    """Typed error, clear message; no AWS call for input errors; no change in any case."""
    sandbox = env.sandbox
    made = len(sandbox.calls)
    # changes made by the test's own hand (a certificate set up inside the call) aside
    keys = [c for c in sandbox.key_changes() if c.by != "sandbox"]
    with pytest.raises(error, match=message) as caught:
        call(env)
    assert "Traceback" not in str(caught.value)
    answered = [c for c in sandbox.calls[made:] if c.mutating and c.status == 200]
    ours = [
        c
        for c in answered
        if c.operation not in ("CreateUser", "CreateAccessKey", "AttachUserPolicy")
    ]
    assert ours == [], "an AWS change was made"
    assert [c for c in sandbox.key_changes() if c.by != "sandbox"] == keys, "a root key changed"
    if not calls:
        assert sandbox.calls[made:] == (), "an input error made an AWS call"
