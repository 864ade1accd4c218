"""Test rootkeys, and your own hooks and checks, without an AWS account.

`Sandbox` is moto (an AWS emulator) plus what moto lacks for this job: a root user per
account with root access keys, root credentials to sign with, ``:root`` caller
identities, ``AccountAccessKeysPresent`` computed from real state, and faults on demand.
`FakeClock` lets an observation window of days pass in no time.

Needs the ``sandbox`` extra: ``pip install 'rootkeys[sandbox]'``.
"""

from rootkeys.testing._clock import FakeClock
from rootkeys.testing._ledger import KeyChange
from rootkeys.testing._org import SandboxOrganization
from rootkeys.testing._sandbox import Sandbox, SandboxAccount, SandboxCall

__all__ = [
    "FakeClock",
    "KeyChange",
    "Sandbox",
    "SandboxAccount",
    "SandboxCall",
    "SandboxOrganization",
]
