"""How long the whole notebook takes to execute, next to a bare `import tensorflow`.

Both run the same way, in a fresh kernel through nbclient (as `make run` and the tests do), in a
scratch folder so that images/ is left alone. The figure to keep low is their ratio; the breakdown
by section shows where the notebook's own time goes. Not a test: numbers depend on the machine.
Run: .venv/bin/python benchmarks/notebook_time.py
"""

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "linear_regression_training_loops.ipynb"
IMPORT_ONLY = """import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
import tensorflow"""
SLOWEST = 12  # cells listed by time


def run_cells(nb: nbformat.NotebookNode) -> list[tuple[float, int]]:
    """Execute every code cell in a fresh kernel; return (seconds, cell index) for each."""
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(nb, kernel_name="python3", timeout=600,
                                resources={"metadata": {"path": folder}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    start = time.perf_counter()
                    client.execute_cell(cell, index)
                    timings.append((time.perf_counter() - start, index))
    return timings


def section_of_each_cell(nb: nbformat.NotebookNode) -> list[str]:
    sections, current = [], "Title"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
        sections.append(current)
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help="another notebook to time, e.g. an older version")
    args = parser.parse_args()

    import_only = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORT_ONLY)])
    import_times, notebook_times, runs = [], [], []
    for _ in range(args.repeats):
        import_times.append(run_cells(import_only)[0][0])
        nb = nbformat.read(args.notebook, as_version=4)
        runs.append(run_cells(nb))
        notebook_times.append(sum(seconds for seconds, _ in runs[-1]))

    import_time, notebook_time = statistics.median(import_times), statistics.median(notebook_times)
    print(f"import tensorflow alone:   {import_time:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in import_times)})")
    print(f"whole notebook, all cells: {notebook_time:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in notebook_times)})")
    print(f"ratio notebook / import:   {notebook_time / import_time:6.2f}×  (target: at most 3×)")

    sections = section_of_each_cell(nb)
    per_section: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(runs))
    for run_index, timings in enumerate(runs):
        for seconds, cell_index in timings:
            per_section[sections[cell_index]][run_index] += seconds
    part_one = next(statistics.median(seconds) for name, seconds in per_section.items() if name.startswith("Part 1"))
    print(f"ratio Part 1 / import:     {part_one / import_time:6.2f}×  (target: at most 1.5×)")
    print("\nseconds per section (median over runs)")
    for name, seconds in per_section.items():
        print(f"  {statistics.median(seconds):6.2f}  {name}")

    print(f"\nthe {SLOWEST} slowest cells (median seconds, first line)")
    per_cell = {index: statistics.median(run[position][0] for run in runs) for position, (_, index) in enumerate(runs[0])}
    for index, seconds in sorted(per_cell.items(), key=lambda item: -item[1])[:SLOWEST]:
        first_line = next((line for line in nb.cells[index].source.splitlines() if not line.startswith("#")), "")
        print(f"  {seconds:6.2f}  cell {index}: {first_line[:80]}")


if __name__ == "__main__":
    main()
