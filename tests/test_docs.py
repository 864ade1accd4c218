"""Every Python example in docs/ runs, so the docs cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXAMPLES = [
    pytest.param(code, id=f"{page.name}:{n}")
    for page in sorted(DOCS.glob("*.md"))
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
