"""Strict nbval: a fresh kernel re-executes a copy of the notebook and must print every stored output.

The copy runs in a scratch folder, so the figures it saves never touch the committed images/.
"""

import shutil
import subprocess
import sys

from conftest import NOTEBOOK


def test_notebook_reproduces_its_stored_outputs(tmp_path):
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", "-o", "addopts=", copy.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-6000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
