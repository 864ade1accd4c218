"""Faults on demand: AWS errors, dropped connections, and races, matched per call.

`FaultInjection` is the part of the `Sandbox` that arms faults (its public methods are
the sandbox's), and that the dispatcher asks, call by call, which fault answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import threading

__all__ = ["Fault", "FaultInjection"]


@dataclass
class Fault:
    """One injected fault: an error, a dropped connection, or an action run first."""

    kind: Literal["error", "connection", "action"]
    operation: str | None
    times: int | None
    code: str = ""
    status: int = 400
    message: str = ""
    account_id: str | None = None
    action: Callable[[], object] | None = None
    region: str | None = None
    rate: float = 1.0
    seed: int = 0
    chance: random.Random | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.rate < 1:  # the draws are repeatable: the same seed, the same calls fail
            self.chance = random.Random(self.seed)  # noqa: S311 - faults, not secrets

    def matches(self, operation: str, account_id: str | None, region: str | None) -> bool:
        return (
            self.operation in (None, operation)
            and self.account_id in (None, account_id)
            and self.region in (None, region)
            and (self.chance is None or self.chance.random() < self.rate)
        )


class FaultInjection:
    """Arms faults, and picks the one that answers a call (a mixin of `Sandbox`)."""

    _lock: threading.RLock
    _faults: list[Fault]

    def inject_error(
        self,
        code: str,
        *,
        status: int = 400,
        operation: str | None = None,
        times: int | None = 1,
        message: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
        rate: float = 1.0,
        seed: int = 0,
    ) -> None:
        """Answer the next ``times`` matching calls (None: all) with an AWS error.

        A call matches when its operation, account and region (each when given) match,
        and, with ``rate`` below 1, by chance: each such call fails with probability
        ``rate`` (drawn from ``random.Random(seed)``, so a run can be repeated).
        """
        with self._lock:
            self._faults.append(
                Fault(
                    "error",
                    operation,
                    times,
                    code,
                    status,
                    message or code,
                    account_id,
                    region=region,
                    rate=rate,
                    seed=seed,
                )
            )

    def inject_throttling(
        self,
        *,
        operation: str | None = None,
        times: int | None = 1,
        account_id: str | None = None,
        rate: float = 1.0,
        seed: int = 0,
    ) -> None:
        """Answer matching calls with ``Throttling: Rate exceeded`` (HTTP 400).

        ``rate`` below 1 throttles each matching call by chance (see `inject_error`).
        """
        self.inject_error(
            "Throttling",
            status=400,
            operation=operation,
            times=times,
            message="Rate exceeded",
            account_id=account_id,
            rate=rate,
            seed=seed,
        )

    def inject_server_error(
        self,
        *,
        operation: str | None = None,
        times: int | None = 1,
        account_id: str | None = None,
        rate: float = 1.0,
        seed: int = 0,
    ) -> None:
        """Answer matching calls with ``ServiceFailure`` (HTTP 500)."""
        self.inject_error(
            "ServiceFailure",
            status=500,
            operation=operation,
            times=times,
            account_id=account_id,
            rate=rate,
            seed=seed,
        )

    def deny(
        self,
        operation: str,
        *,
        times: int | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        """Answer matching calls with ``AccessDenied`` (HTTP 403)."""
        self.inject_error(
            "AccessDenied",
            status=403,
            operation=operation,
            times=times,
            message=f"not authorized to perform {operation}",
            account_id=account_id,
            region=region,
        )

    def inject_connection_error(
        self,
        *,
        operation: str | None = None,
        times: int | None = 1,
        account_id: str | None = None,
        rate: float = 1.0,
        seed: int = 0,
    ) -> None:
        """Drop matching calls' connections (botocore's ``ConnectionClosedError``)."""
        with self._lock:
            self._faults.append(
                Fault(
                    "connection",
                    operation,
                    times,
                    account_id=account_id,
                    rate=rate,
                    seed=seed,
                )
            )

    def before(
        self,
        operation: str,
        action: Callable[[], object],
        *,
        times: int | None = 1,
        account_id: str | None = None,
    ) -> None:
        """Run ``action`` just before the next ``times`` matching calls are answered.

        For races: another admin deleting or reactivating a key between rootkeys' read
        and its write. The call is then answered as usual.
        """
        with self._lock:
            self._faults.append(
                Fault("action", operation, times, account_id=account_id, action=action)
            )

    def _next_fault(
        self, operation: str, account_id: str | None, region: str | None
    ) -> Fault | None:
        """The fault that answers this call, if any; actions armed for it run first.

        Called under the lock. Each fault that matches uses up one of its ``times``.
        """
        answer: Fault | None = None
        for fault in self._faults:
            if fault.matches(operation, account_id, region) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                if fault.action is not None:
                    fault.action()
                    continue
                answer = fault
                break
        self._faults = [f for f in self._faults if f.times != 0]
        return answer
