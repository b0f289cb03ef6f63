"""Shared helpers: where the notebook is, and how to run it with other parameters."""

import json
from pathlib import Path
from typing import Any

import papermill
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "linear_regression_training_loops.ipynb"


@pytest.fixture(scope="session")
def notebook_json() -> dict[str, Any]:
    """The committed notebook, as stored on disk."""
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


@pytest.fixture
def run_notebook(tmp_path: Path):
    """Execute the notebook in a scratch folder with some parameters replaced.

    Figures are written to tmp_path/images, never over the committed ones.
    Raises papermill.PapermillExecutionError if a cell fails.
    """

    def run(**parameters: Any) -> Path:
        output = tmp_path / "executed.ipynb"
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(output),
            parameters=parameters,
            cwd=str(tmp_path),
            kernel_name="python3",
            progress_bar=False,
        )
        return output

    return run
