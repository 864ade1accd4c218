"""Test rootkeys, and your own hooks and checks, without an AWS account.

`Sandbox` is moto (an AWS emulator) plus what moto lacks for this job: a root user per
account with root access keys, root credentials to sign with, ``:root`` caller
identities, ``AccountAccessKeysPresent`` computed from real state, and faults on demand.
`serve_main` serves a sandbox on loopback for ``rootkeys`` commands in another terminal.
`FakeClock` lets an observation window of days pass in no time. `FakeAccount` is an
account's root keys in memory behind the engine's seam, for fast unit tests of the
engine itself (no moto, no HTTP).

Needs the ``sandbox`` extra: ``pip install 'rootkeys[sandbox]'``.
"""

from rootkeys.testing._clock import FakeClock
from rootkeys.testing._credential_setup import MIXED, MemberCredentials
from rootkeys.testing._fake import FakeAccount, FakeCall, FakeCrash
from rootkeys.testing._ledger import KeyChange
from rootkeys.testing._org import SandboxOrganization
from rootkeys.testing._sandbox import Sandbox, SandboxAccount, SandboxCall
from rootkeys.testing._shell import ServedSandbox, serve_main

__all__ = [
    "MIXED",
    "FakeAccount",
    "FakeCall",
    "FakeClock",
    "FakeCrash",
    "KeyChange",
    "MemberCredentials",
    "Sandbox",
    "SandboxAccount",
    "SandboxCall",
    "SandboxOrganization",
    "ServedSandbox",
    "serve_main",
]

# reprs, tracebacks and docs show the public home, not a private module
for _name in [n for n in __all__ if n != "MIXED"]:
    globals()[_name].__module__ = __name__
del _name
