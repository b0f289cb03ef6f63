"""Running every cell a second time in the same kernel prints exactly what the first run did."""

import nbformat
from conftest import NOTEBOOK
from nbclient import NotebookClient


def visible_outputs(cell) -> list[str]:
    """The text a reader sees from a cell; figures count by their presence, not their pixels.

    Consecutive stream outputs are joined: the kernel may flush one print as one chunk or two.
    """
    shown: list[str] = []
    previous_stream = None
    for output in cell.outputs:
        if output["output_type"] == "stream":
            if previous_stream == output["name"]:
                shown[-1] += output["text"]
            else:
                shown.append(output["text"])
            previous_stream = output["name"]
            continue
        previous_stream = None
        for mime, value in output.get("data", {}).items():
            shown.append(mime if mime.startswith("image/") else value)
    return shown


def is_volatile(cell) -> bool:
    return "nbval-ignore-output" in cell.metadata.get("tags", []) or "NBVAL_IGNORE_OUTPUT" in cell.source


def test_second_run_in_same_kernel_matches_first(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}})
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    compared = [(i, c) for i, c in code if not is_volatile(c)]
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in code:
                client.execute_cell(cell, index)
            runs.append([visible_outputs(cell) for _, cell in compared])
    for (index, cell), first, second in zip(compared, *runs, strict=True):
        assert first == second, f"cell {index} prints something else the second time:\n{cell.source[:200]}"
