"""The example notebook runs, top to bottom, in a real Jupyter kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parent.parent / "docs" / "examples" / "remove-root-keys.ipynb"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_notebook_executes_and_shows_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell runs without error; the plan and the report render as HTML tables; the
    kernel writes no journal in the user's state directory (the sandbox keeps its own)."""
    import nbclient
    import nbformat

    state = tmp_path / "state"  # XDG_STATE_HOME, which the kernel inherits
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.delenv("ROOTKEYS_JOURNAL", raising=False)

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) == 2  # the plan and the report
    assert "<table" in html[0]
    assert "deactivate, observe 1h, delete" in html[0]
    assert "done" in html[1]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "2 keys deleted" in printed
    assert not (state / "rootkeys").exists()


def test_notebook_is_stored_without_outputs() -> None:
    """The notebook is kept clean: outputs come from running it, never from the repo."""
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
