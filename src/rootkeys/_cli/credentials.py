"""``rootkeys credentials``: every root credential and its findings (changes nothing).

One account (signed in as its root user), or every member account with ``--org``
(streamed, as ``audit``). Outputs: a table per account, one JSON document, the findings
as CSV, or the findings as OCSF Detection Findings (``--output ocsf``, a JSON array as
Prowler writes them).
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

import rootkeys
from rootkeys._cli.one import EXIT_AWS, EXIT_DONE
from rootkeys._cli.options import command, members, org
from rootkeys._cli.output import emit, emit_each

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator

    from rootkeys._cli.context import Context
    from rootkeys._cli.options import Parser
    from rootkeys._controls import Finding
    from rootkeys._credentials import RootCredentials

__all__ = ["add_credentials", "run_credentials"]


def add_credentials(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add the ``credentials`` command to the parser."""
    parser: argparse.ArgumentParser = command(
        commands,
        "credentials",
        "every root credential and its findings (changes nothing)",
        """
        Every credential of the root user (access keys, signing certificates, password,
        MFA devices) and what it fails or passes: Security Hub IAM.4, IAM.6, IAM.9, CIS
        1.4 to 1.6. With --org, every member account's, read through AssumeRoot
        (IAMAuditRootUserCredentials), and whether centralized root access is on.
        --output ocsf writes the findings as OCSF Detection Findings (as Prowler does).
        Changes nothing.
        """,
        """
        rootkeys credentials
        rootkeys credentials --output ocsf > root-findings.ocsf.json
        rootkeys --profile mgmt credentials --org --ou ou-ab12-cdef3456 --output csv
        """,
    )
    org(parser, "every member account (through AssumeRoot), not the signed-in one")
    members(parser)


def run_credentials(context: Context) -> int:
    """Run ``rootkeys credentials``; its exit code (3 when an account could not be read).

    Its options were checked before (``app``): one account's or an organization's.
    """
    from rootkeys._controls import FindingStatus

    args = context.args
    if not args.org:
        found = context.manager(journal=False).credentials()
        _print(context, [found], [], single=True)
        return EXIT_DONE
    organization = context.organization(journal=False)
    # bad input refused here, before any call; the members are read only when iterated
    members = organization.credentials(args.accounts, ou=args.ou)
    overall = organization.root_access_finding()
    if overall.status is FindingStatus.FAIL:  # the members cannot be read: say so, in full
        _print(context, [], [overall], single=False)
        print(
            "rootkeys: error: centralized root access is off, so the member accounts cannot "
            "be read: `rootkeys org enable` turns it on",
            file=context.err,
        )
        return EXIT_AWS
    failed: list[str] = []
    results = _noting(members, failed)
    _print(context, results, [overall], single=False)
    return EXIT_AWS if failed else EXIT_DONE


def wrap(line: str) -> str:
    """A long line of text on lines of 100 columns at most, the rest indented."""
    return "\n".join(textwrap.wrap(line, 100, subsequent_indent="  ", break_long_words=False))


def _noting(results: Iterable[RootCredentials], failed: list[str]) -> Iterator[RootCredentials]:
    from rootkeys._orgreports import AuditStatus

    for result in results:
        if result.status is AuditStatus.FAILED:
            failed.append(result.account_id)
        yield result


def _print(
    context: Context, results: Iterable[RootCredentials], overall: list[Finding], *, single: bool
) -> None:
    from rootkeys._credentials import CSV_COLUMNS, findings_csv

    out, output = context.out, context.args.output
    if output == "ocsf":
        from rootkeys._controls import ocsf_finding

        version = rootkeys.__version__
        events = [ocsf_finding(f, version=version) for f in overall]
        for result in results:
            events += result.to_ocsf(version=version)
        print(json.dumps(events, indent=2), file=out)
    elif output == "csv":
        print(findings_csv(overall), end="", file=out)
        header = not overall
        for result in results:
            print(result.to_csv(header=header), end="", file=out, flush=True)
            header = False
        if header:
            print(",".join(CSV_COLUMNS), file=out)
    elif output == "json":
        listed = list(results)
        if single:
            emit(context, listed[0])
        else:
            document = {
                "organization": [f.model_dump(mode="json") for f in overall],
                "accounts": [r.model_dump(mode="json") for r in listed],
            }
            emit(context, document)
    else:
        for finding in overall:
            where = f" (management account {finding.account_id})" if finding.account_id else ""
            line = f"Organization{where}: {finding.status.value} {finding.check}: {finding.detail}"
            print(wrap(line), file=out)
        emit_each(context, results)
