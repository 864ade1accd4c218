"""The public face: what `rootkeys` and `rootkeys.testing` export, and how."""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import rootkeys
import rootkeys.aws_lambda
import rootkeys.checks
import rootkeys.clock
import rootkeys.config
import rootkeys.errors
import rootkeys.journal
import rootkeys.lifecycle
import rootkeys.notify
import rootkeys.reports
import rootkeys.retry
import rootkeys.testing
from rootkeys.testing import Sandbox, SandboxAccount, demo

ROOT = Path(__file__).parent.parent


PUBLIC_MODULES = [
    rootkeys,
    rootkeys.aws_lambda,
    rootkeys.checks,
    rootkeys.clock,
    rootkeys.config,
    rootkeys.errors,
    rootkeys.journal,
    rootkeys.lifecycle,
    rootkeys.notify,
    rootkeys.reports,
    rootkeys.retry,
    rootkeys.testing,
]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_complete(module: object) -> None:
    """__all__ is sorted (constants, classes, the rest) and lists exactly the public names."""
    exported = list(module.__all__)  # type: ignore[attr-defined]
    assert exported == sorted(
        exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    public = {
        name
        for name in dir(module)
        if not name.startswith("_")
        and not inspect.ismodule(getattr(module, name))
        and name not in ("annotations",)
    }
    assert set(exported) - {"__version__"} == public


def test_the_top_level_is_small() -> None:
    """The face is at most 30 names; the rest lives in the public submodules."""
    assert len([n for n in rootkeys.__all__ if n != "__version__"]) <= 30


def test_every_export_shows_its_public_home() -> None:
    """Each exported class and function names `rootkeys` or its public submodule as its
    module (reprs, tracebacks and docs show the public name), and is reachable there."""
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            home = value.__module__
            assert home == "rootkeys" or (home.startswith("rootkeys.") and "._" not in home), name
            assert getattr(importlib.import_module(home), name) is value


def test_lazy_exports_agree_with_the_typed_imports() -> None:
    """Each lazily exported name is the object its module defines, and mypy sees the same."""
    tree = ast.parse((ROOT / "src" / "rootkeys" / "__init__.py").read_text())
    typed = {
        alias.name: node.module
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "_typing.TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module != "rootkeys"
        for alias in node.names
    }
    lazy = rootkeys._EXPORTS
    assert {name: f"rootkeys.{module}" for name, module in lazy.items()} == typed
    for name, module in lazy.items():
        assert getattr(rootkeys, name) is getattr(
            importlib.import_module(f"rootkeys.{module}"), name
        )


def test_import_rootkeys_loads_nothing_until_asked() -> None:
    """`import rootkeys` loads no private module; the manager loads no organization code."""
    probe = (
        "import sys, rootkeys\n"
        "ours = lambda: sorted(m for m in sys.modules if m.startswith('rootkeys.'))\n"
        "print(ours())\n"
        "rootkeys.RootKeyManager\n"
        "print(ours())"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert "rootkeys._manager" in after
    for heavy in ("rootkeys._org", "rootkeys._checks", "rootkeys.testing", "rootkeys.cli"):
        assert f"'{heavy}'" not in after
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        rootkeys.Missing  # noqa: B018


@pytest.mark.parametrize(
    ("module", "name"),
    [(m.__name__, n) for m in PUBLIC_MODULES for n in m.__all__ if n != "__version__"],
)
def test_every_export_is_documented(module: str, name: str) -> None:
    """Every exported class and function has a docstring."""
    value = getattr(importlib.import_module(module), name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value)


def test_every_error_derives_from_the_one_base() -> None:
    """Every exception rootkeys.errors exports is a RootKeysError, and all are there."""
    errors = [getattr(rootkeys.errors, n) for n in rootkeys.errors.__all__]
    assert len(errors) >= 15
    assert all(issubclass(e, rootkeys.RootKeysError) for e in errors)
    for name in rootkeys.__all__:
        value = getattr(rootkeys, name, None)
        if inspect.isclass(value) and issubclass(value, BaseException):
            assert name in rootkeys.errors.__all__


def test_injected_clients_work_like_a_session(
    sandbox: Sandbox,
    account: SandboxAccount,
) -> None:
    """A manager built from ready IAM and STS clients plans and protects the signing key."""
    own = account.root_key_ids[0]
    session = sandbox.root_session(account.account_id, key_id=own)
    manager = rootkeys.RootKeyManager(
        iam_client=session.client("iam", config=rootkeys.retry.BOTO_CONFIG),
        sts_client=session.client("sts", config=rootkeys.retry.BOTO_CONFIG),
    )
    plan = manager.plan()
    assert [p.key.key_id for p in plan.blocked] == [own]


def test_demo_runs_and_tells_the_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command: the demo deletes after a clean window, rolls back on
    failure, and writes no journal in the user's home."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("ROOTKEYS_JOURNAL", raising=False)
    out = io.StringIO()
    assert demo.main(out, window=timedelta(milliseconds=300)) == 0
    assert not home.exists()
    text = out.getvalue()
    for phrase in (
        "The plan",
        "deactivated",
        "check passed",
        "deleted",
        "rolled back",
        "AccountAccessKeysPresent or AccountSigningCertificatesPresent: 0",
        "Demo finished as expected",
    ):
        assert phrase in text


README_EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_readme_has_the_real_use_and_the_daily_way() -> None:
    """The README shows a blocking run and a staged (daily) one."""
    assert len(README_EXAMPLES) == 2
    assert "wait=False" in README_EXAMPLES[1]


@pytest.mark.parametrize(
    ("code", "left"),
    list(zip(README_EXAMPLES, [set(), {rootkeys.lifecycle.KeyStatus.INACTIVE}], strict=True)),
    ids=["blocking-deletes", "daily-first-run-deactivates"],
)
def test_readme_example_runs_on_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, code: str, left: set[rootkeys.lifecycle.KeyStatus]
) -> None:
    """Each README Python example runs as written, with its session and clock faked."""
    from rootkeys.testing import FakeClock

    with Sandbox() as sandbox:
        account = sandbox.create_account("123456789012", root_keys=2)
        fake_session = sandbox.root_session(account.account_id)
        monkeypatch.setattr("boto3.Session", lambda **kwargs: fake_session)
        monkeypatch.setattr("rootkeys._clock.SystemClock", FakeClock)
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102
        assert {k.status for k in sandbox.root_keys(account.account_id)} == left
