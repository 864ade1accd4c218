"""The ``rootkeys`` parser: every subcommand with its description, examples and defaults.

Global options (see ``options``) may come before or after the subcommand, as with the AWS
CLI.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

import rootkeys
from rootkeys._cli.credentials import add_credentials
from rootkeys._cli.journal import add_journal
from rootkeys._cli.options import (
    EXIT_CODES,
    Help,
    Parser,
    checks,
    command,
    credentials,
    duration,
    globals_,
    ids,
    members,
    org,
    windows,
)
from rootkeys._cli.recovery import add_recover_password

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[Parser]

__all__ = ["parser"]


def parser() -> argparse.ArgumentParser:
    """The whole ``rootkeys`` command line."""
    top = Parser(
        prog="rootkeys",
        description="Remove AWS root user credentials safely: make unusable, observe, delete.",
        epilog="Run `rootkeys COMMAND --help` for a command's options and examples.\n\n"
        + EXIT_CODES,
        formatter_class=Help,
    )
    top.add_argument("--version", action="version", version=rootkeys.__version__)
    globals_(top, top=True)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _plan(commands)
    _remove(commands)
    _status(commands)
    _verify(commands)
    _history(commands)
    _resume(commands)
    _rollback(commands)
    _audit(commands)
    _org(commands)
    add_credentials(commands)
    add_recover_password(commands)
    add_journal(commands)
    _sandbox(commands)
    _demo(commands)
    return top


def _plan(commands: Commands) -> None:
    plan = command(
        commands,
        "plan",
        "what remove would do, key by key (changes nothing)",
        """
        What the next `rootkeys remove` does to each root access key, and why: make it
        unusable, observe it until a time, delete it, or leave it alone (on hold,
        blocked, protected). The same decision the run makes. Reads IAM, CloudTrail and
        the journal; changes nothing and writes nothing.
        """,
        """
        rootkeys plan --observe 7d
        rootkeys plan --policy --regions us-east-1,eu-west-1
        rootkeys --profile mgmt plan --org --observe 7d --ou ou-ab12-cdef3456
        """,
    )
    windows(plan)
    plan.add_argument("--no-evidence", action="store_true", help="skip CloudTrail evidence")
    plan.add_argument(
        "--regions",
        type=ids,
        metavar="REGIONS",
        help="regions searched in CloudTrail, comma-separated (default: every enabled one)",
    )
    credentials(plan)
    org(plan, "every member account's plan (AssumeRoot; no evidence)")
    members(plan)


def _remove(commands: Commands) -> None:
    remove = command(
        commands,
        "remove",
        "make unusable, observe, then delete",
        """
        Make every root access key (and signing certificate) that may be removed unusable,
        run the checks once per round for its whole observation window, and delete it
        only if every check passed. A failed check makes the key usable again and holds
        it until `rootkeys resume`. With --org, --password and --mfa remove the member
        accounts' root passwords and MFA devices the same way. Shows the plan first and
        asks (--yes answers for automation).
        With --no-wait, does one staged pass and exits: run it again (from cron) to go on.
        """,
        """
        rootkeys remove --observe 7d --check-url https://app.example.com/health
        rootkeys remove --config ops.toml --no-wait --yes        # from cron, daily
        rootkeys remove --policy --alarm-prefix prod- --yes
        rootkeys remove --org --observe 7d --accounts 111122223333,444455556666
        rootkeys remove --org --policy --password --mfa     # member passwords and MFA too
        """,
    )
    windows(remove)
    checks(remove)
    remove.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="stay until every window has passed (--no-wait: one staged pass; default: wait)",
    )
    remove.add_argument(
        "--fail-if-observing",
        action="store_true",
        help="exit 1, not 0, while keys are still in their window",
    )
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    credentials(remove)
    org(remove, "every member account (AssumeRoot, quarantine SCP)")
    members(remove)
    remove.add_argument(
        "--keep-quarantine", action="store_true", help="with --org: keep the SCP as a guardrail"
    )


def _status(commands: Commands) -> None:
    status = command(
        commands,
        "status",
        "where each key stands (changes nothing)",
        """
        Where each root access key stands: what happens next, since when and until
        when, from the windows the journal remembers. Changes nothing.
        """,
        """
        rootkeys status
        rootkeys status --output json
        rootkeys status --org --accounts 111122223333
        """,
    )
    status.add_argument(
        "--observe",
        type=duration,
        metavar="DURATION",
        help="the window a run would give keys whose window is not set yet, e.g. 7d",
    )
    credentials(status)
    org(status, "every member account (AssumeRoot)")
    members(status)


def _verify(commands: Commands) -> None:
    verify = command(
        commands,
        "verify",
        "confirm no root access key remains (changes nothing)",
        """
        Confirm that no root access key or signing certificate remains: none listed, and
        IAM's account summary agrees (AccountAccessKeysPresent = 0). --password and --mfa
        also confirm no root password or MFA device remains. Exit 0 if none remains, 1
        if some do. With
        --reevaluate, also ask AWS Config to evaluate its root-key rule now (what Security
        Hub's IAM.4 reports) and wait for its verdict: exit 0 only once it is COMPLIANT.
        """,
        """
        rootkeys verify
        rootkeys verify --reevaluate --region us-east-1
        rootkeys verify --org --ou ou-ab12-cdef3456
        """,
    )
    verify.add_argument(
        "--reevaluate",
        action="store_true",
        help="one account: AWS Config evaluates IAM_ROOT_ACCESS_KEY_CHECK now (a write to "
        "Config, never to a credential); wait for it",
    )
    verify.add_argument(
        "--timeout",
        type=duration,
        metavar="DURATION",
        help="with --reevaluate: how long to wait for Config's verdict (default: 10m)",
    )
    credentials(verify)
    org(verify, "every member account (AssumeRoot)")
    members(verify)


def _history(commands: Commands) -> None:
    history = command(
        commands,
        "history",
        "a key's journal records (changes nothing)",
        """
        Every record the journal holds for one root credential: intents, outcomes,
        windows, checks. With --org, of a member account's (--accounts ID): a key, a
        certificate, or a password or MFA device by its id in a plan.
        """,
        """
        rootkeys history AKIAIOSFODNN7EXAMPLE
        rootkeys history AKIAIOSFODNN7EXAMPLE --output json
        rootkeys history --org --accounts 111122223333 password:20261202T080000Z
        """,
    )
    history.add_argument(
        "key_id",
        metavar="KEY_ID",
        help="the access key id (or signing certificate id, or password:/mfa: id)",
    )
    org(history, "a member account's credential (--accounts: that one account)")
    members(history, ou=False)


def _resume(commands: Commands) -> None:
    resume = command(
        commands,
        "resume",
        "lift the hold a rollback left (journal only, no AWS change)",
        """
        Lift the hold on keys a failed check or a rollback left usable, so the next
        `rootkeys remove` starts them over: made unusable, a whole new window. Writes
        the journal only; changes nothing in AWS.
        """,
        """
        rootkeys resume
        rootkeys resume AKIAIOSFODNN7EXAMPLE
        rootkeys resume --org --accounts 111122223333
        """,
    )
    resume.add_argument("key_id", metavar="KEY_ID", nargs="?", help="one key (default: all)")
    org(resume, "member accounts: every hold in each of --accounts (default: every held one)")
    members(resume, ou=False)


def _rollback(commands: Commands) -> None:
    rollback = command(
        commands,
        "rollback",
        "make usable again what a removal made unusable, and hold it",
        """
        Make Active again every key a removal made unusable (or one KEY_ID), and hold
        it until `rootkeys resume`. With --org, detach the quarantine SCP from each
        account in --accounts. Shows where the keys stand first and asks.
        """,
        """
        rootkeys rollback
        rootkeys rollback AKIAIOSFODNN7EXAMPLE --yes
        rootkeys rollback --org --accounts 111122223333 --yes
        """,
    )
    rollback.add_argument("key_id", metavar="KEY_ID", nargs="?", help="one key (default: all)")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    org(rollback, "member accounts (--accounts): detach the quarantine SCP from each")
    members(rollback, ou=False)


def _audit(commands: Commands) -> None:
    audit = command(
        commands,
        "audit",
        "every member account's root keys (organization; changes nothing)",
        """
        Every member account's root access keys, read through AssumeRoot from the
        management account, one table per account as each is read. Changes nothing.
        """,
        """
        rootkeys --profile mgmt audit
        rootkeys audit --ou ou-ab12-cdef3456 --output csv > root-keys.csv
        """,
    )
    members(audit)


def _org(commands: Commands) -> None:
    setup = command(
        commands,
        "org",
        "centralized root access: what is on, and enabling it (management account)",
        """
        status: what is on in the organization (trusted access for IAM,
        RootCredentialsManagement, RootSessions), what enabling would call, the
        permissions it needs, and whether this session may (the management account only).
        Changes nothing.

        enable: shows that plan, asks (--yes answers), then makes only the calls still
        needed, in order: organizations:EnableAWSServiceAccess for iam.amazonaws.com,
        iam:EnableOrganizationsRootCredentialsManagement, and (unless --no-root-sessions)
        iam:EnableOrganizationsRootSessions. Already on: changes nothing and says so.
        """,
        """
        rootkeys --profile mgmt org status
        rootkeys --profile mgmt org enable
        rootkeys org enable --no-root-sessions --yes --output json
        """,
    )
    setup.add_argument(
        "action", choices=("status", "enable"), help="status: read; enable: turn it on"
    )
    setup.add_argument(
        "--no-root-sessions",
        action="store_true",
        help="leave RootSessions (sts:AssumeRoot) off; rootkeys --org commands need it",
    )
    setup.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _sandbox(commands: Commands) -> None:
    sandbox = command(
        commands,
        "sandbox",
        "serve the built-in sandbox on loopback, to try every command on",
        """
        Serve the built-in sandbox (moto plus an emulated root user) on 127.0.0.1 and
        print the environment to export: its endpoint, root credentials of a sandbox
        account, a journal of its own, and a health URL you can make fail. Every other
        command then works on it, from another shell. Stop it with Ctrl-C.
        """,
        """
        rootkeys sandbox serve
        rootkeys sandbox serve --org --port 4566
        """,
    )
    sandbox.add_argument("action", choices=("serve",), help="serve: run the sandbox server")
    sandbox.add_argument("--port", type=int, default=0, help="the port (default: any free one)")
    sandbox.add_argument(
        "--org",
        action="store_true",
        help="an organization of member accounts; you sign in as its management account",
    )
    sandbox.add_argument(
        "--root-access-off",
        action="store_true",
        help="with --org: centralized root access starts off (try `rootkeys org enable`)",
    )
    sandbox.add_argument(
        "--accounts",
        type=int,
        metavar="N",
        help="how many accounts (member accounts with --org), each with 2 root keys "
        "(default: 1, or 3 with --org)",
    )


def _demo(commands: Commands) -> None:
    demo = command(
        commands,
        "demo",
        "the walk-through on the built-in sandbox",
        """
        The whole story on the built-in sandbox, in one process: plan, remove with a
        check that fails and rolls back, resume, remove again. No AWS account needed;
        nothing is written outside a temporary journal.
        """,
        """
        rootkeys demo
        rootkeys demo --window 10s
        """,
    )
    demo.add_argument(
        "--window",
        type=duration,
        default=timedelta(seconds=3),
        metavar="DURATION",
        help="each key's observation window (default: 3s)",
    )
