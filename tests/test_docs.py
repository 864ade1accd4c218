"""Every Python example in docs/ runs, so the docs cannot rot."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

DOCS = Path(__file__).parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXAMPLES = [
    pytest.param(code, id=f"{page.relative_to(DOCS)}:{n}")
    for page in sorted(DOCS.rglob("*.md"))
    for n, code in enumerate(BLOCK.findall(page.read_text()), start=1)
]


def test_docs_have_examples() -> None:
    """The docs hold runnable examples (so the test below is not vacuous)."""
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("code", EXAMPLES)
def test_doc_example_runs(
    code: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The example runs to the end; its own asserts say what it promises. It writes no
    journal in the user's home: sandbox runs keep the sandbox's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("ROOTKEYS_JOURNAL", raising=False)
    exec(compile(code, "<docs example>", "exec"), {"__name__": "docs_example"})  # noqa: S102
    assert [p for p in home.rglob("*") if "rootkeys" in p.name] == []


ROOT = DOCS.parent
README = ROOT / "README.md"
FENCED_BASH = re.compile(r"```bash\n(.*?)```", re.DOTALL)
GATE = "python3 -m venv .venv && .venv/bin/pip install -q nox && .venv/bin/nox"


def _install_line() -> str:
    """The README's command that installs the library from a clone (the block after the two)."""
    blocks = FENCED_BASH.findall(README.read_text())
    assert blocks[0].splitlines() == [f"{GATE} -s demo", GATE]  # CI runs the second verbatim
    return blocks[1].strip()


def test_readme_installs_the_library_from_a_clone() -> None:
    """Right after its two commands, the README installs rootkeys itself: a valid pip line."""
    import tomllib

    from pip._internal.commands import create_command  # pip's own parser: a valid line

    install, _, _ = _install_line().partition(" && ")
    program, command, *arguments = shlex.split(install)
    assert (program, command) == (".venv/bin/pip", "install")
    options, rest = create_command("install").parse_args(arguments)
    assert rest == []
    [editable] = options.editables
    spec = re.fullmatch(r"(.+)\[([\w,-]+)\]", editable)  # a project folder and its extras
    assert spec is not None, editable
    project, extras = spec.groups()
    pyproject = tomllib.loads((ROOT / project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "rootkeys"
    known = pyproject["project"]["optional-dependencies"]
    assert "sandbox" in extras.split(",")  # rootkeys.testing, which the docs' examples use
    assert set(extras.split(",")) <= set(known)


def test_readme_install_line_ends_with_a_working_cli(tmp_path: Path) -> None:
    """`python -m rootkeys --help`, as the README's install line runs it, answers."""
    _, _, check = _install_line().partition(" && ")
    program, *arguments = shlex.split(check)
    assert program == ".venv/bin/python"
    done = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: rootkeys")


FAQ = DOCS / "faq.md"
SCANNER_LAG = "rootkeys-says-the-keys-are-gone-but-my-scanner-still-flags-them"


def test_faq_explains_why_scanners_still_flag_deleted_keys() -> None:
    """The FAQ warns of the 4-hour credential report and IAM.4's Config lag, with the fixes."""
    text = FAQ.read_text()
    heading = "### rootkeys says the keys are gone but my scanner still flags them\n"
    assert heading in text
    section = text.split(heading, 1)[1]
    for needed in (
        "reused for up to 4 hours",  # the credential report
        "Prowler",
        "Cloud Custodian",
        "report_max_age",
        "IAM.4",
        "iam-root-access-key-check",
        "within 12 hours",
        "aws iam generate-credential-report",
        "aws configservice start-config-rules-evaluation",
        "AccountAccessKeysPresent",
    ):
        assert needed in section, needed
    assert "```python" in section  # the lag, shown on the sandbox (and run above)


@pytest.mark.parametrize("page", ["single-account.md", "evidence.md", "organizations.md"])
def test_pages_about_verify_point_to_the_scanner_lag(page: str) -> None:
    """Where the docs say how to confirm the keys are gone, they link the scanner-lag answer."""
    assert f"faq.md#{SCANNER_LAG}" in (DOCS / page).read_text()


MKDOCS = (ROOT / "mkdocs.yml").read_text()


def test_docs_site_executes_the_notebook_at_every_build() -> None:
    """The notebook is a page of the site, run at build time: never cached, errors fail it."""
    nav = re.search(r"^nav:\n((?:  .*\n)+)", MKDOCS, re.MULTILINE)
    assert nav is not None
    assert ": examples/remove-root-keys.ipynb\n" in nav.group(1)
    plugin = MKDOCS.split("- mkdocs-jupyter:", 1)[1].split("\n  - ", 1)[0]
    for setting in ("execute: true", "allow_errors: false", "cache: false"):
        assert setting in plugin, setting
    assert "- docs/hooks/notebooks.py" in MKDOCS  # kernel imports this checkout; outputs shown


def test_docs_extra_brings_what_the_notebook_needs() -> None:
    """`nox -s docs` installs the docs extra: the plugin, a kernel and the sandbox."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    docs = " ".join(extras["optional-dependencies"]["docs"])
    for package in ("mkdocs-jupyter", "ipykernel", "rootkeys[sandbox]"):
        assert package in docs, package
    assert 'session.install("-e", ".[docs]")' in (ROOT / "noxfile.py").read_text()


def _hooks() -> Any:
    """docs/hooks/notebooks.py, loaded as mkdocs loads it (it needs mkdocs: the docs extra)."""
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("notebook_hooks", DOCS / "hooks" / "notebooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_build_fails_on_a_notebook_page_without_outputs() -> None:
    """A notebook rendered without cell outputs (not executed) fails the docs build."""
    hooks = _hooks()  # skips where mkdocs is not installed (the tests session)
    from mkdocs.exceptions import PluginError

    notebook = SimpleNamespace(file=SimpleNamespace(src_uri="examples/x.ipynb"))
    page = SimpleNamespace(file=SimpleNamespace(src_uri="faq.md"))
    with pytest.raises(PluginError, match="without outputs"):
        hooks.on_post_page("<div class='jp-Cell'>code only</div>", notebook, None)
    ran = f"<div class='{hooks.OUTPUT_MARK}'>2 keys deleted</div>"
    assert hooks.on_post_page(ran, notebook, None) == ran
    assert hooks.on_post_page("<p>no outputs here</p>", page, None) == "<p>no outputs here</p>"


def test_docs_notebook_kernel_imports_this_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel, started in the notebook's folder, finds this checkout's src first."""
    hooks = _hooks()
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PYTHONPATH", "src")  # relative: would not survive the kernel's cd
    hooks.on_config(SimpleNamespace(config_file_path=str(ROOT / "mkdocs.yml")))
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str((ROOT / "src").resolve())]


def test_the_api_reference_shows_organizations_inherited_methods() -> None:
    """Organization's public methods from its base classes are listed for the API page
    (mkdocstrings shows inherited members only when named)."""
    import inspect

    import rootkeys

    inherited = {
        name
        for name, _ in inspect.getmembers(rootkeys.Organization, inspect.isfunction)
        if not name.startswith("_") and name not in vars(rootkeys.Organization)
    }
    found = re.search(r"inherited_members: \[(.*?)\]", (DOCS / "api.md").read_text())
    assert found is not None
    assert inherited <= set(found.group(1).split(", "))
