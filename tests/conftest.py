"""Shared helpers: where the notebook is, and a live kernel that has run it."""

import json
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "linear_regression_training_loops.ipynb"


def git_status() -> str | None:
    try:
        return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout


GIT_STATUS = pytest.StashKey[str | None]()


def pytest_sessionstart(session):
    session.config.stash[GIT_STATUS] = git_status()


def pytest_sessionfinish(session, exitstatus):
    """Tests leave the tree as they found it: fail the run if they changed `git status`."""
    before, after = session.config.stash.get(GIT_STATUS, None), git_status()
    if before is not None and after != before:
        print(f"\nThe tests changed the repository's files (git status --porcelain):\n{after}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def notebook_json() -> dict[str, Any]:
    """The committed notebook, as stored on disk."""
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def is_volatile(cell) -> bool:
    return "NBVAL_IGNORE_OUTPUT" in cell.source


def visible_outputs(cell) -> list[str]:
    """The text a reader sees from a cell; figures count by their presence, not their pixels."""
    shown: list[str] = []
    for output in cell.outputs:
        if output["output_type"] == "stream":  # the kernel may flush one print in two chunks: join them
            text = f"{output['name']}: "
            if shown and shown[-1].startswith(text):
                shown[-1] += output["text"]
            else:
                shown.append(text + output["text"])
            continue
        if output["output_type"] == "error":
            shown.append(f"error: {output['ename']}: {output['evalue']}")
        for mime, value in output.get("data", {}).items():
            shown.append(mime if mime.startswith("image/") else value)
    return shown


@dataclass
class LiveNotebook:
    """A kernel that has executed the notebook top to bottom."""

    client: NotebookClient
    nb: nbformat.NotebookNode
    folder: Path

    def code_cells(self) -> list[tuple[int, nbformat.NotebookNode]]:
        return [(i, c) for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]

    def execute(self, source: str, index: int = 0) -> nbformat.NotebookNode:
        """Run source as a new cell; errors are kept in its outputs instead of raised."""
        cell, kept = nbformat.v4.new_code_cell(source), self.nb.cells[index]
        try:
            self.client.execute_cell(cell, index)
        except CellExecutionError:
            pass
        finally:
            self.nb.cells[index] = kept  # nbclient stores the cell it ran at that index; keep the notebook's
        return cell


@contextmanager
def notebook_kernel(folder: Path, notebook: Path = NOTEBOOK) -> Iterator[LiveNotebook]:
    """A fresh kernel working in folder, with a notebook's cells at hand (the committed one by default); nothing run."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=900, resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel():
        yield LiveNotebook(client, nb, folder)


def free_port() -> int:
    """A localhost port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def live_notebook(tmp_path_factory):
    """A kernel that has run every code cell of the notebook once, top to bottom."""
    with notebook_kernel(tmp_path_factory.mktemp("live")) as live:
        for index, cell in live.code_cells():
            live.client.execute_cell(cell, index)
        yield live
