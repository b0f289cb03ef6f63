"""Write the class version of the notebook: no solutions, no teacher notes, no outputs, and checks that still grade.

Each check cell (tagged `exercise-check` or `bughunt-check`) keeps its inputs, its grading loop and its hints; its
`expected_*` function, which computes the expected values from the reference formulas, is replaced by one that
returns fingerprints of those values: SHA-256 of the value to four significant digits, cut to 16 hex digits, as
the notebook's `fingerprint` computes it. The values come from running the notebook up to its last check cell in a
scratch kernel.

Usage: python tools/student_version.py OUTPUT.ipynb
"""

import ast
import copy
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "linear_regression_training_loops.ipynb"
CHECK_TAGS = ("exercise-check", "bughunt-check")
SOLUTION = re.compile(r"<details><summary>Solution</summary>.*?</details>\n*", flags=re.DOTALL)
SIGNIFICANT = "{:.4g}"  # the notebook's fingerprint rounds the same way


def expected_function(source: str) -> ast.FunctionDef:
    functions = [node for node in ast.parse(source).body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("expected_")]
    if len(functions) != 1:
        raise SystemExit(f"a check cell should define one expected_* function, not {len(functions)}:\n{source[:200]}")
    return functions[0]


def expected_values(nb: nbformat.NotebookNode) -> dict[int, object]:
    """Run the notebook up to its last check cell; return each check's expected values, by cell index."""
    checks = [i for i, c in enumerate(nb.cells) if set(CHECK_TAGS) & set(c.metadata.get("tags", []))]
    values: dict[int, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(nb, kernel_name="python3", timeout=900, resources={"metadata": {"path": folder}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells[: checks[-1] + 1]):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                if index in checks:
                    name = expected_function(cell.source).name
                    probe = nbformat.v4.new_code_cell(f"import json\nprint(json.dumps({name}(), default=float))")
                    client.execute_cell(probe, index)
                    values[index] = json.loads("".join(o["text"] for o in probe.outputs if o.get("name") == "stdout"))
                    nb.cells[index] = cell  # nbclient stored the probe at this index
    return values


def fingerprint_of(value: float) -> str:
    low, high = SIGNIFICANT.format(value * (1 - 1e-6)), SIGNIFICANT.format(value * (1 + 1e-6))
    if low != high:
        raise SystemExit(f"the expected value {value!r} lies on a rounding edge of its 4 digits; change its inputs")
    return hashlib.sha256(SIGNIFICANT.format(value).encode()).hexdigest()[:16]


def fingerprinted(cases):
    """The same cases, each expected number replaced by its fingerprint."""
    if isinstance(cases, dict):
        return {name: fingerprinted(each) for name, each in cases.items()}
    return [(fingerprint_of(value), message) for value, message in cases]


def as_source(cases, indent: str) -> str:
    """Cases as Python source: a list of (fingerprint, message) tuples, one a line, or a dict of such lists."""
    if isinstance(cases, dict):
        items = [f"{indent}    {name!r}: {as_source(each, indent + '    ')}," for name, each in cases.items()]
        return "{\n" + "\n".join(items) + f"\n{indent}}}"
    return "[\n" + "\n".join(f"{indent}    {tuple(case)!r}," for case in cases) + f"\n{indent}]"


def with_fingerprints(source: str, cases) -> str:
    """The check cell's source, its expected_* function returning fingerprints instead of computing values."""
    function = expected_function(source)
    lines = source.splitlines()
    replacement = [
        f"def {function.name}():",
        '    """The expected values as fingerprints (see `fingerprint`), so that this cell grades without showing them."""',
        f"    return {as_source(fingerprinted(cases), '    ')}",
    ]
    start = (function.decorator_list[0] if function.decorator_list else function).lineno - 1
    return "\n".join(lines[:start] + replacement + lines[function.end_lineno:])


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    values = expected_values(copy.deepcopy(nb))
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get("slideshow", {}).get("slide_type") == "notes":
            continue  # teaching notes
        if cell.cell_type == "markdown":
            cell.source = SOLUTION.sub("", cell.source).rstrip("\n")
            if not cell.source.strip():
                continue
        else:
            cell.outputs, cell.execution_count = [], None
            if index in values:
                cell.source = with_fingerprints(cell.source, values[index])
        cells.append(cell)
    nb.cells = cells
    return nb


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    output = Path(sys.argv[1])
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_version(nbformat.read(NOTEBOOK, as_version=4)), output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
