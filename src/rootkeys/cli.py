"""The ``rootkeys`` command: a thin layer over the public API (see docs/cli.md).

Subcommands: ``plan``, ``remove``, ``status``, ``verify``, ``history``, ``resume``,
``rollback`` (one account, or with ``--org`` the member accounts of an organization),
``audit`` (an organization), ``sandbox serve`` and ``demo`` (the built-in sandbox).
Never imported by ``import rootkeys``.

Exit codes: 0 done, nothing to do, or observing with every check passing; 1 rolled
back, on hold, blocked or incomplete (or observing, with ``--fail-if-observing``); 2 a
usage or input error (nothing was changed); 3 an AWS or permission error.
"""

from __future__ import annotations

from rootkeys._cli.app import exit_code, main, main_exit
from rootkeys._cli.one import EXIT_AWS, EXIT_DONE, EXIT_NOT_DONE, EXIT_USAGE
from rootkeys._cli.options import duration as parse_duration

__all__ = [
    "EXIT_AWS",
    "EXIT_DONE",
    "EXIT_NOT_DONE",
    "EXIT_USAGE",
    "exit_code",
    "main",
    "main_exit",
    "parse_duration",
]
