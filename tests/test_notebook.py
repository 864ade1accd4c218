"""The example notebook runs, top to bottom, in a real Jupyter kernel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
NOTEBOOK = ROOT / "docs" / "examples" / "remove-root-keys.ipynb"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The notebook executed once, with its outputs, and the state folder it must not touch."""
    import nbclient
    import nbformat

    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as env:
        # the kernel runs in another folder: this checkout's rootkeys, by an absolute path
        path = [str(ROOT / "src"), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
        env.setenv("PYTHONPATH", os.pathsep.join(p for p in path if p))
        env.setenv("XDG_STATE_HOME", str(state))  # where a default journal would go
        env.delenv("ROOTKEYS_JOURNAL", raising=False)
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path_factory.mktemp("cwd"))}},
        )
        client.execute()
    return notebook, state


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_notebook_executes_and_shows_tables(run: tuple[Any, Path]) -> None:
    """Every cell runs without error; the plan, the run's progress and the report render as
    HTML tables, the progress as one display updated in place to its end."""
    notebook, _ = run
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    progress = [h for h in shown if "rootkeys-progress" in h]
    assert len(progress) == 1  # one display for the run, updated in place
    assert progress[0].count(">done</td>") == 2  # as it stood when the run ended
    html = [h for h in shown if h not in progress]
    assert len(html) == 2  # the plan and the report
    assert "<table" in html[0]
    assert "deactivate, observe 1h, delete" in html[0]
    assert "done" in html[1]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "2 keys deleted" in printed


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_notebook_writes_no_journal(run: tuple[Any, Path]) -> None:
    """A run on the sandbox leaves the user's journal folder alone, and says why."""
    notebook, state = run
    assert not list(state.iterdir()), "the notebook wrote to the user's state folder"
    assert "journal=False" in notebook.cells[0].source  # the markdown says so
    managers = [c.source for c in notebook.cells if "RootKeyManager(" in c.source]
    assert managers
    assert all("journal=False" in source for source in managers)


def test_notebook_is_stored_without_outputs() -> None:
    """The notebook is kept clean: outputs come from running it, never from the repo."""
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
