"""MkDocs hooks for the example notebook, which the docs build executes (mkdocs-jupyter).

Two things the plugin does not do on its own:

- The notebook's kernel is a separate process, started in the notebook's own folder. It
  must import the rootkeys this site documents (the checkout's ``src``, as mkdocstrings
  reads it), not whatever rootkeys an environment happens to have installed, and a
  relative ``PYTHONPATH=src`` would not survive the kernel's change of folder. So the
  checkout's ``src``, made absolute, goes first on the ``PYTHONPATH`` the kernel inherits.
- A notebook page rendered without outputs (execution turned off, or every cell silent)
  would look fine and show nothing. The build fails instead, so the site always shows a
  notebook that ran.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

OUTPUT_MARK = "jp-OutputArea-output"
"""The class nbconvert's HTML gives every rendered cell output."""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Put the checkout's ``src`` first on the ``PYTHONPATH`` the notebook kernel inherits."""
    src = Path(config.config_file_path).resolve().parent / "src"
    rest = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([str(src), *rest]))
    return config


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Fail the build when a notebook page shows no cell output."""
    if page.file.src_uri.endswith(".ipynb") and OUTPUT_MARK not in output:
        raise PluginError(f"{page.file.src_uri} was rendered without outputs: was it executed?")
    return output
