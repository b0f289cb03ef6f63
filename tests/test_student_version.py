"""The class version (`make student`): nothing of a solution survives in it, and its checks still grade.

`tools/student_version.py` writes it into a scratch folder. Every line that the notebook shows only inside a
solution fold, a teaching note or an `expected_*` function of a check cell must be gone. A kernel then runs the
class version up to its last check, and the answers of test_exercises.py are typed in: the cells as written say
"not tried yet", the reference solutions "correct", the wrong answers their hints.
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOK, ROOT, notebook_kernel
from test_exercises import CHECK_TAGS, SOLUTIONS, assert_each_check_grades, exercise_runs

pytestmark = pytest.mark.slow  # it runs the notebook twice; `make test` runs it, `make quick` does not


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("student") / NOTEBOOK.name
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student_version.py"), str(path)],
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def private_lines(nb) -> set[str]:
    """Lines of solution folds, teaching notes and the values of expected_* functions found nowhere else."""
    private, public = set(), set()
    for cell in nb.cells:
        source = cell.source
        if cell.metadata.get("slideshow", {}).get("slide_type") == "notes":
            private |= lines_of(source)
            continue
        hidden = re.findall(r"<details><summary>Solution</summary>.*?</details>", source, flags=re.DOTALL)
        if set(CHECK_TAGS.values()) & set(cell.metadata.get("tags", [])):
            body = re.search(r"^def expected_\w+\(\):\n(?:(?:    .*)?\n)+", source + "\n", flags=re.MULTILINE)
            source = source.replace(body.group(0), "")  # its values: the cases, and what they are computed from
            private |= {line for line in lines_of(body.group(0)) if line.startswith("(") or " = " in line}
        for part in hidden:
            private |= lines_of(part)
            source = source.replace(part, "")
        public |= lines_of(source)
    return private - public


def lines_of(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) > 12}  # not "```python" or "</details>"


def test_nothing_of_a_solution_survives(student):
    teacher, handout = nbformat.read(NOTEBOOK, as_version=4), nbformat.read(student, as_version=4)
    private = private_lines(teacher)
    for tag, code in SOLUTIONS.items():  # each solution has a line of its own, found only in its fold
        assert lines_of("\n".join(code.splitlines()[1:])) & private, f"no line of the {tag} solution is in a fold"
    leaked = private & {line.strip() for cell in handout.cells for line in cell.source.splitlines()}
    assert not leaked, f"lines of solutions, notes or expected answers in the class version: {sorted(leaked)[:5]}"
    assert not any(cell.cell_type == "code" and (cell.outputs or cell.execution_count) for cell in handout.cells)
    assert all(cell.metadata.get("slideshow", {}).get("slide_type") != "notes" for cell in handout.cells)


def test_its_checks_still_grade(student, tmp_path):
    with notebook_kernel(tmp_path, student) as live:
        last_check = max(i for i, c in live.code_cells() if set(CHECK_TAGS.values()) & set(c.metadata.get("tags", [])))
        for index, cell in live.code_cells():
            if index <= last_check:
                live.client.execute_cell(cell, index)
        runs = exercise_runs(live)
    assert_each_check_grades(runs)
