"""rootkeys: remove AWS root user access keys safely.

Deactivate each key, observe whether anything breaks, and only then delete it::

    import boto3, rootkeys
    from datetime import timedelta

    manager = rootkeys.RootKeyManager(boto3.Session(profile_name="root-of-prod"))
    print(manager.plan(timedelta(hours=1)).table())
    report = manager.remove_all(observe_for=timedelta(hours=1))
    print(report.table())

The top level holds what most programs use. Secondary names live in public submodules:
`rootkeys.errors` (the exception tree), `rootkeys.checks` (the built-in checks),
`rootkeys.config` (the config file `load_config` reads),
`rootkeys.reports` (evidence, outcomes and the rest of the reports), `rootkeys.journal`,
`rootkeys.lifecycle` (key states, statuses, moves), `rootkeys.notify` (people told each
account's outcome: SNS, a webhook), `rootkeys.retry`, `rootkeys.clock`.
`rootkeys.testing` holds a sandbox (on moto) to try it, and your hooks, without AWS.
"""

import importlib as _importlib
import logging as _logging
import typing as _typing

if _typing.TYPE_CHECKING:
    from rootkeys import checks as checks
    from rootkeys import clock as clock
    from rootkeys import config as config
    from rootkeys import errors as errors
    from rootkeys import journal as journal
    from rootkeys import lifecycle as lifecycle
    from rootkeys import notify as notify
    from rootkeys import reports as reports
    from rootkeys import retry as retry
    from rootkeys._config import load_config
    from rootkeys._decide import Next
    from rootkeys._errors import InputError, NotRootError, RootKeysError
    from rootkeys._findings import RemovalPolicy
    from rootkeys._journal import Journal
    from rootkeys._manager import RootKeyManager
    from rootkeys._models import AccessKey, KeyState, ObservedKey, StepResult
    from rootkeys._observe import Check, CheckResult, Event, EventKind, Hook
    from rootkeys._org import Organization
    from rootkeys._orgreports import (
        AccountAudit,
        AccountOutcome,
        AccountRemoval,
        OrganizationReport,
    )
    from rootkeys._reports import (
        KeyOutcome,
        KeyReport,
        Plan,
        PlannedKey,
        RemovalReport,
        RemovalStatus,
        RunOutcome,
    )
    from rootkeys._retry import RetryPolicy

    __version__: str

_logging.getLogger("rootkeys").addHandler(_logging.NullHandler())

# Each public name and the private module it lives in. The modules are imported when a
# name is first asked for (PEP 562), so `import rootkeys` costs almost nothing, and a
# single-account tool never loads the organization, checks or evidence machinery.
_MODULES: dict[str, tuple[str, ...]] = {
    "_config": ("load_config",),
    "_decide": ("Next",),
    "_errors": (
        "InputError",
        "NotRootError",
        "RootKeysError",
    ),
    "_findings": ("RemovalPolicy",),
    "_journal": ("Journal",),
    "_manager": ("RootKeyManager",),
    "_models": (
        "AccessKey",
        "KeyState",
        "ObservedKey",
        "StepResult",
    ),
    "_observe": (
        "Check",
        "CheckResult",
        "Event",
        "EventKind",
        "Hook",
    ),
    "_org": ("Organization",),
    "_orgreports": (
        "AccountAudit",
        "AccountOutcome",
        "AccountRemoval",
        "OrganizationReport",
    ),
    "_reports": (
        "KeyOutcome",
        "KeyReport",
        "Plan",
        "PlannedKey",
        "RemovalReport",
        "RemovalStatus",
        "RunOutcome",
    ),
    "_retry": ("RetryPolicy",),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}
_SUBMODULES = frozenset(
    {
        "aws_lambda",
        "checks",
        "clock",
        "config",
        "errors",
        "journal",
        "lifecycle",
        "notify",
        "reports",
        "retry",
    }
)


if not _typing.TYPE_CHECKING:  # hidden from type checkers, so a misspelt name is still an error

    def __getattr__(name: str) -> object:
        """Import the module behind a public name on first use; ``__version__`` from metadata."""
        if name in _EXPORTS:
            value = getattr(_importlib.import_module(f"rootkeys.{_EXPORTS[name]}"), name)
            globals()[name] = value
            return value
        if name in _SUBMODULES:
            return _importlib.import_module(f"rootkeys.{name}")
        if name == "__version__":
            from rootkeys._public import package_version

            return package_version()
        raise AttributeError(f"module 'rootkeys' has no attribute {name!r}")

    def __dir__() -> list[str]:
        """The module's names, the ones not yet imported included."""
        return sorted({*globals(), *_EXPORTS, *_SUBMODULES, "__version__"})


__all__ = [
    "AccessKey",
    "AccountAudit",
    "AccountOutcome",
    "AccountRemoval",
    "Check",
    "CheckResult",
    "Event",
    "EventKind",
    "Hook",
    "InputError",
    "Journal",
    "KeyOutcome",
    "KeyReport",
    "KeyState",
    "Next",
    "NotRootError",
    "ObservedKey",
    "Organization",
    "OrganizationReport",
    "Plan",
    "PlannedKey",
    "RemovalPolicy",
    "RemovalReport",
    "RemovalStatus",
    "RetryPolicy",
    "RootKeyManager",
    "RootKeysError",
    "RunOutcome",
    "StepResult",
    "__version__",
    "load_config",
]
