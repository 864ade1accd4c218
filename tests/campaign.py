"""The fault campaign: randomized removals on the sandbox, every promise checked after each.

A `Scenario` is drawn by hypothesis: one account (signed in as root, CloudShell-like or
with one of its own keys) or a small organization; root keys Active or Inactive (and, in
one account, 0-2 root signing certificates, Active or Inactive); a window; blocking or
staged runs; and faults: throttling (up to a third of calls, by chance), 5xx, dropped
connections, stale IAM reads, AssumeRoot sessions expiring, checks that fail or raise,
hooks that raise, and the process dying at a journal write or just before an AWS call
(key and certificate calls alike). `run` plays it with the faults on, then clears them
and runs again, as fresh processes would, until nothing changes; then it checks the
promises:

- no key or certificate was deleted while usable; none before it had been unusable for
  its whole window with every check in its account passing (judged from the sandbox's
  ledger, not from what rootkeys says);
- no root key or certificate was changed by anyone but the root user or an AssumeRoot
  session, no AssumeRoot session call was denied by its task policy, none tried
  UpdateAccessKey or UpdateSigningCertificate;
- the journal, reconciled, agrees with the sandbox's real state;
- repeated runs converge: every key and certificate deleted, or Active again with the
  reason recorded (rolled back, on hold), or the key that signs the session, untouched;
- no secret appears in logs, the journal, reports, events or exceptions.

CI runs a fixed-seed slice (tests/test_campaign.py); ``nox -s campaign`` runs the long one
(``python -m tests.campaign --runs 10000``) and prints the summary.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from hypothesis import strategies as st

import rootkeys
from rootkeys import KeyState
from rootkeys._reconcile import reconcile, replay
from rootkeys.lifecycle import KeyStatus
from rootkeys.testing import FakeClock, KeyChange, Sandbox
from tests import orgtools

SINGLE_OPS = (
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "GetAccountSummary",
    "ListSigningCertificates",
    "UpdateSigningCertificate",
    "DeleteSigningCertificate",
)
WRITES = (
    "UpdateAccessKey",
    "DeleteAccessKey",
    "UpdateSigningCertificate",
    "DeleteSigningCertificate",
)
ORG_OPS = (
    "ListAccessKeys",
    "DeleteAccessKey",
    "GetAccountSummary",
    "AssumeRoot",
    "ListPoliciesForTarget",
    "AttachPolicy",
    "DetachPolicy",
)
FAULT_KINDS = ("throttling", "server error", "connection reset", "stale reads", "expiry")
CRASH_POINTS = ("journal write", "before AWS call")
ACCOUNT = "111122223333"
CertStatus = Literal["Active", "Inactive"]
CERT_STATUSES: tuple[CertStatus, ...] = ("Active", "Inactive")


class Crash(BaseException):
    """The process dying (a BaseException, so nothing in rootkeys may catch it)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault: its kind, the operation it hits, how often."""

    kind: str
    operation: str
    times: int
    rate: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """One randomized run of rootkeys on the sandbox."""

    seed: int
    org: bool
    keys: tuple[tuple[KeyStatus, ...], ...]
    self_signed: bool
    window: timedelta
    staged: bool
    faults: tuple[Fault, ...]
    check_fails_at: int | None
    check_raises: bool
    hook_raises: bool
    crash: tuple[str, str, int] | None
    storm: float = 0.0
    """The share of every call throttled by chance while faults are on (up to a third)."""
    certificates: tuple[CertStatus, ...] = ()
    """One account's root signing certificates, ``Active`` or ``Inactive`` (none in orgs)."""


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random scenario."""
    org = draw(st.booleans())
    statuses = st.sampled_from([KeyStatus.ACTIVE, KeyStatus.INACTIVE])
    accounts = draw(st.integers(1, 3)) if org else 1
    keys = tuple(
        tuple(draw(st.lists(statuses, min_size=0 if org else 1, max_size=2)))
        for _ in range(accounts)
    )
    ops = ORG_OPS if org else SINGLE_OPS
    fault = st.builds(
        Fault,
        kind=st.sampled_from(FAULT_KINDS if org else FAULT_KINDS[:-1]),
        operation=st.sampled_from(ops),
        times=st.integers(1, 6),
        rate=st.sampled_from([1.0, 0.33]),
    )
    crash = st.none() | st.tuples(
        st.sampled_from(CRASH_POINTS), st.sampled_from(ops), st.integers(1, 8)
    )
    return Scenario(
        seed=draw(st.integers(0, 2**16)),
        org=org,
        keys=keys,
        self_signed=not org and draw(st.booleans()),
        window=draw(st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=2)])),
        staged=draw(st.booleans()),
        faults=tuple(draw(st.lists(fault, max_size=4))),
        check_fails_at=draw(st.none() | st.integers(1, 6)),
        check_raises=draw(st.booleans()),
        hook_raises=draw(st.booleans()),
        crash=draw(crash),
        storm=draw(st.sampled_from([0.0, 0.0, 0.1, 1 / 3])),
        # member accounts' certificates are not in the lifecycle yet: one account only
        certificates=()
        if org
        else tuple(draw(st.lists(st.sampled_from(CERT_STATUSES), max_size=2))),
    )


@dataclass
class Result:
    """What one scenario did: faults that fired by kind, and every promise broken."""

    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    runs: int = 0
    certificates: Counter[str] = field(default_factory=Counter)
    """Signing certificates set up, deleted (by the ledger) and faults on their calls."""


@dataclass
class CheckLog:
    """Every check verdict, by account and time: the ledger's partner."""

    verdicts: list[tuple[str, datetime, bool]] = field(default_factory=list)


class _Texts(logging.Handler):
    """Keeps every log message rootkeys emits (for the secrets promise)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())


def run(scenario: Scenario, workdir: Path) -> Result:
    """Play ``scenario`` on a fresh sandbox; return the faults seen and the violations."""
    result = Result()
    clock = FakeClock()
    texts = _Texts()
    logger = logging.getLogger("rootkeys")
    logger.addHandler(texts)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with Sandbox(clock=clock) as sandbox:
            _play(scenario, sandbox, clock, workdir, result, texts.texts)
    finally:
        logger.removeHandler(texts)
        logger.setLevel(old_level)
    return result


def _play(
    scenario: Scenario,
    sandbox: Sandbox,
    clock: FakeClock,
    workdir: Path,
    result: Result,
    texts: list[str],
) -> None:
    accounts = _setup(scenario, sandbox)
    journal_path = workdir / "journal.sqlite3"
    checks = CheckLog()
    events: list[rootkeys.Event] = []
    calls = {"check": 0}

    def check(key: rootkeys.ObservedKey) -> bool:
        calls["check"] += 1
        failing = calls["check"] == scenario.check_fails_at
        if failing and scenario.check_raises:
            checks.verdicts.append((key.account_id, clock.now(), False))
            raise RuntimeError("the app's health endpoint timed out")
        checks.verdicts.append((key.account_id, clock.now(), not failing))
        return not failing

    def hook(event: rootkeys.Event) -> None:
        events.append(event)
        if scenario.hook_raises and len(events) % 5 == 0:
            raise ValueError("the alerting webhook is down")

    first_active = scenario.keys[0][:1] == (KeyStatus.ACTIVE,)
    signing = accounts[0][1][0] if scenario.self_signed and first_active else None
    interval = max(scenario.window / 3, timedelta(seconds=1))

    def make(journal: rootkeys.Journal, *, with_faults: bool) -> Any:
        retry = rootkeys.RetryPolicy(attempts=3)  # backoff sleeps on the fake clock
        hooks = [hook]
        checks_now = [check] if with_faults else [_healthy(checks, clock)]
        if scenario.org:
            return rootkeys.Organization(
                sandbox.management_session(),
                workers=1,  # one account at a time: a scenario replays the same way
                clock=clock,
                retry=retry,
                journal=journal,
                hooks=hooks,
                checks=checks_now,
                consistency_timeout=timedelta(seconds=20),
            )
        return rootkeys.RootKeyManager(
            sandbox.root_session(ACCOUNT, key_id=signing),
            account_id=ACCOUNT,
            clock=clock,
            retry=retry,
            journal=journal,
            hooks=hooks,
            checks=checks_now,
            consistency_timeout=timedelta(seconds=20),
        )

    # phase one: faults on
    _inject(scenario, sandbox, result, [a for a, _ in accounts])
    journal: rootkeys.Journal = (
        _CrashingJournal(journal_path, scenario.crash[2])
        if scenario.crash and scenario.crash[0] == "journal write"
        else rootkeys.Journal(journal_path)
    )
    if scenario.crash and scenario.crash[0] == "before AWS call":
        _, operation, nth = scenario.crash

        def die() -> None:
            raise Crash

        sandbox.before(operation, _after(nth, die), times=None)
    rounds = 3 if scenario.staged else 1
    for _ in range(rounds):
        try:
            report = _remove(make(journal, with_faults=True), scenario, interval)
            texts.append(report.model_dump_json())
        except rootkeys.RootKeysError as exc:
            texts += [str(exc), repr(exc)]
        except Crash:
            result.faults["crash: " + (scenario.crash or ("", "", 0))[0]] += 1
            journal.close()
            journal = rootkeys.Journal(journal_path)  # a new process, on the same journal
            break
        result.runs += 1
        clock.advance(scenario.window / 2 + timedelta(seconds=1))
    result.faults.update(_fired(sandbox))
    sandbox.clear_faults()
    journal.close()

    # phase two: no faults, fresh processes, until no key is left observing
    for _ in range(6):
        clock.advance(scenario.window + interval + timedelta(seconds=1))
        with rootkeys.Journal(journal_path) as fresh:
            try:
                report = _remove(make(fresh, with_faults=False), scenario, interval)
                texts.append(report.model_dump_json())
            except rootkeys.RootKeysError as exc:
                result.violations.append(f"a run without faults failed: {exc!r}")
                texts += [str(exc)]
                break
            result.runs += 1
            if not _observing(report):
                break

    with rootkeys.Journal(journal_path) as final:
        _judge(scenario, sandbox, final, checks, accounts, signing, result)
        texts += [r.model_dump_json() for a, _ in accounts for r in final.records(a)]
    texts += [repr(e) for e in events] + [str(e) for e in events]
    texts += [repr(c) for c in sandbox.calls]
    for path in journal_path.parent.glob(journal_path.name + "*"):
        texts.append(path.read_bytes().decode("latin-1"))
    blob = "\n".join(texts)
    for secret in sandbox.secrets():
        if secret in blob:
            result.violations.append("a secret appeared in logs, reports or the journal")
            break


def _setup(scenario: Scenario, sandbox: Sandbox) -> list[tuple[str, tuple[str, ...]]]:
    if not scenario.org:
        statuses = scenario.keys[0]
        account = sandbox.create_account(ACCOUNT, root_keys=0)
        ids = tuple(sandbox.add_root_key(ACCOUNT, status=s) for s in statuses)
        for status in scenario.certificates:
            sandbox.add_root_signing_certificate(ACCOUNT, status=status)
        return [(account.account_id, ids)]
    org = sandbox.create_organization(members=len(scenario.keys), root_keys=0)
    made = []
    for member, statuses in zip(org.member_account_ids, scenario.keys, strict=True):
        made.append((member, tuple(sandbox.add_root_key(member, status=s) for s in statuses)))
    return made


def _inject(scenario: Scenario, sandbox: Sandbox, result: Result, accounts: list[str]) -> None:
    if scenario.storm:
        sandbox.inject_throttling(times=None, rate=scenario.storm, seed=scenario.seed)
    for n, fault in enumerate(scenario.faults):
        seed = scenario.seed + n
        if fault.kind == "throttling":
            sandbox.inject_throttling(
                operation=fault.operation, times=fault.times, rate=fault.rate, seed=seed
            )
        elif fault.kind == "server error":
            sandbox.inject_server_error(
                operation=fault.operation, times=fault.times, rate=fault.rate, seed=seed
            )
        elif fault.kind == "connection reset":
            sandbox.inject_connection_error(
                operation=fault.operation, times=fault.times, rate=fault.rate, seed=seed
            )
        elif fault.kind == "stale reads":
            for account in accounts:
                sandbox.inject_stale_reads(account, reads=fault.times, writes=2)
            result.faults["stale reads"] += 1
        elif fault.kind == "expiry":
            sandbox.before(
                fault.operation,
                _counted(result, "expiry", sandbox.expire_root_sessions),
                times=fault.times,
            )


def _counted(result: Result, name: str, action: Any) -> Any:
    def wrapped() -> None:
        result.faults[name] += 1
        action()

    return wrapped


def _after(nth: int, action: Any) -> Any:
    seen = {"n": 0}

    def maybe() -> None:
        seen["n"] += 1
        if seen["n"] == nth:
            action()

    return maybe


def _fired(sandbox: Sandbox) -> Counter[str]:
    names = {
        "Throttling": "throttling",
        "ServiceFailure": "server error",
        "connection": "connection reset",
    }
    return Counter(names[c.fault] for c in sandbox.calls if c.fault in names)


def _healthy(checks: CheckLog, clock: FakeClock) -> Any:
    def healthy(key: rootkeys.ObservedKey) -> bool:
        checks.verdicts.append((key.account_id, clock.now(), True))
        return True

    return healthy


def _observing(report: Any) -> bool:
    """Whether any key is still in its window (whatever the run's overall outcome)."""
    if isinstance(report, rootkeys.OrganizationReport):
        return any(a.observing_until is not None for a in report.accounts)
    return any(k.outcome is rootkeys.KeyOutcome.OBSERVING for k in report.keys)


def _remove(manager: Any, scenario: Scenario, interval: timedelta) -> Any:
    return manager.remove_all(scenario.window, interval, wait=not scenario.staged)


class _CrashingJournal(rootkeys.Journal):
    """A journal whose process dies at its n-th write (the record is not written)."""

    def __init__(self, path: Path, nth: int) -> None:
        super().__init__(path)
        self._left = nth

    def append(self, **fields: Any) -> rootkeys.journal.JournalRecord:
        self._left -= 1
        if self._left == 0:
            raise Crash
        return super().append(**fields)


# -- the promises ------------------------------------------------------------------------------


def _judge(
    scenario: Scenario,
    sandbox: Sandbox,
    journal: rootkeys.Journal,
    checks: CheckLog,
    accounts: list[tuple[str, tuple[str, ...]]],
    signing: str | None,
    result: Result,
) -> None:
    changes = sandbox.key_changes()
    result.certificates["set up"] += len(scenario.certificates)
    result.certificates["deleted"] += sum(c.kind == "certificate" and c.deleted for c in changes)
    result.certificates["faults on their calls"] += sum(
        c.fault is not None and "SigningCertificate" in c.operation for c in sandbox.calls
    )
    result.violations += deletion_violations(changes, scenario.window, checks.verdicts)
    for call in sandbox.calls:
        if call.service == "iam" and call.operation in WRITES:
            if call.status == 200 and call.principal not in ("root", "assumed-root"):
                result.violations.append(f"{call.operation} by {call.principal}")
            if call.principal == "assumed-root" and call.operation.startswith("Update"):
                result.violations.append(f"{call.operation} tried in an AssumeRoot session")
        if call.principal == "assumed-root" and call.status == 403 and call.fault is None:
            result.violations.append(f"{call.operation} denied by the task policy")
    for account_id, _ in accounts:
        # keys and signing certificates alike: the journal keeps both by their ids
        truth = {k.key_id: k.status for k in sandbox.root_keys(account_id)}
        certificates = sandbox.root_signing_certificates(account_id)
        truth |= {c: KeyStatus(status) for c, status in certificates.items()}
        quarantined = scenario.org and orgtools.quarantined(sandbox, account_id)
        states = {
            key_id: KeyState.QUARANTINED
            if quarantined and status is KeyStatus.ACTIVE
            else KeyState(status.value)
            for key_id, status in truth.items()
        }
        records = journal.records(account_id)
        memory = replay(
            [*records, *reconcile(account_id, replay(records), states, datetime.now(), "judge")]
        )
        for key_id, known in memory.items():
            actual = states.get(key_id, KeyState.DELETED)
            if known.state is not actual:
                result.violations.append(
                    f"journal says {key_id} is {known.state}, the sandbox {actual}"
                )
        # in an organization a hold is account-wide: one held key keeps the quarantine,
        # and so every other key of the account, away (the report says so)
        account_hold = scenario.org and any(
            memory[k].hold for k in truth if k in memory and memory[k].hold
        )
        for key_id, status in truth.items():
            known = memory.get(key_id)
            if key_id == signing:
                continue
            if status is not KeyStatus.ACTIVE or quarantined:
                result.violations.append(f"{key_id} left unusable and not deleted")
            elif (known is None or known.hold is None) and not account_hold:
                result.violations.append(f"{key_id} left Active with no reason recorded")
        if quarantined and not truth:
            result.violations.append(f"{account_id} left quarantined with no key")


def deletion_violations(
    changes: tuple[KeyChange, ...],
    window: timedelta,
    verdicts: list[tuple[str, datetime, bool]],
) -> list[str]:
    """Deletions by rootkeys of a usable key, or of one not unusable for a clean window.

    A clean window: the whole ``window`` before the deletion, the key unusable throughout
    and every check verdict in its account passing.
    """
    found: list[str] = []
    unusable_since: dict[tuple[str, str], datetime | None] = {}
    for change in changes:
        key = (change.account_id, change.key_id)
        if change.deleted:
            if change.by not in ("root", "assumed-root"):
                continue
            since = unusable_since.get(key)
            if change.was_usable or since is None:
                found.append(f"{change.key_id} deleted while usable at {change.at}")
                continue
            if change.at - since < window:
                found.append(f"{change.key_id} deleted {change.at - since} after unusable")
            start = change.at - window
            failed = [at for account, at, ok in verdicts if account == change.account_id and not ok]
            if any(start <= at <= change.at for at in failed):
                found.append(f"{change.key_id} deleted with a failing check in its window")
        elif change.usable:
            unusable_since[key] = None
        elif unusable_since.get(key) is None:
            unusable_since[key] = change.at
    return found


# -- the long campaign -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.campaign --runs 10000 --seed 1``: run, then print the summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="scenarios in all")
    parser.add_argument("--seed", type=int, default=1, help="the first process's seed")
    parser.add_argument("--processes", type=int, default=2, help="processes, seeds in a row")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    share = [
        args.runs // args.processes + (n < args.runs % args.processes)
        for n in range(args.processes)
    ]
    jobs = [(args.seed + n, runs) for n, runs in enumerate(share) if runs]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        parts = pool.starmap(campaign, jobs)
    scenarios_run: Counter[str] = Counter()
    total = Result()
    failures = []
    for ran, result, failure in parts:
        scenarios_run.update(ran)
        total.faults.update(result.faults)
        total.runs += result.runs
        total.violations += result.violations
        total.certificates.update(result.certificates)
        if failure:
            failures.append(failure)
    print(summary(scenarios_run, total, time.perf_counter() - started))
    for failure in failures:
        print(f"VIOLATION (shrunk by hypothesis): {failure}")
    return 1 if failures or total.violations else 0


def campaign(seed: int, runs: int) -> tuple[Counter[str], Result, str]:
    """``runs`` scenarios drawn by hypothesis from ``seed``; stops at the first violation."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    total = Result()
    ran: Counter[str] = Counter()
    started = time.perf_counter()

    @settings(
        max_examples=runs,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(scenarios())
    def one(scenario: Scenario) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(scenario, Path(tmp))
        ran["organization" if scenario.org else "single account"] += 1
        total.faults.update(result.faults)
        total.runs += result.runs
        total.violations += result.violations
        total.certificates.update(result.certificates)
        assert not result.violations, (scenario, result.violations)
        if sum(ran.values()) % 500 == 0:
            print(
                f"  seed {seed}: {sum(ran.values())} scenarios, "
                f"{time.perf_counter() - started:.0f}s",
                flush=True,
            )

    try:
        hypothesis_seed(seed)(one)()
    except Exception as exc:  # a violation, or hypothesis reporting one as flaky
        return ran, total, f"{type(exc).__name__}: {exc}"[:4000]
    return ran, total, ""


def summary(scenarios_run: Counter[str], total: Result, seconds: float) -> str:
    """The campaign's summary: scenarios, runs, faults by kind, violations."""
    lines = [
        f"fault campaign: {sum(scenarios_run.values())} scenarios "
        f"({', '.join(f'{n} {k}' for k, n in sorted(scenarios_run.items()))}), "
        f"{total.runs} rootkeys runs, {seconds:.0f}s",
        "faults injected, by kind:",
        *(f"  {kind}: {n}" for kind, n in sorted(total.faults.items())),
        "root signing certificates: "
        + ", ".join(f"{n} {what}" for what, n in sorted(total.certificates.items())),
        f"invariant violations: {len(total.violations)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
