"""The self-checking exercises: stored as "not tried yet", and each check tells right from wrong.

One kernel runs the notebook once; then, for each exercise, a reference solution and a plausible
wrong answer are typed into the exercise cell in turn, and the check cell after it is run again.
"""

import nbformat
import pytest
from conftest import NOTEBOOK
from nbclient import NotebookClient

SOLUTIONS = {
    "exercise-mae": "def mae(y, y_pred):\n    return tf.reduce_mean(tf.abs(y - y_pred))",
    "exercise-gradient": (
        "def quadratic_gradient(x, y, W, b):\n"
        "    return -2 * tf.reduce_mean(x**2 * (y - (W * x**2 + b)))"
    ),
    "exercise-rate": "def one_step_rate(inputs):\n    return 1 / (2 * tf.reduce_mean(inputs**2))",
}

# A wrong answer a student might write, and the words its hint must contain.
WRONG_ANSWERS = {
    "exercise-mae": ("def mae(y, y_pred):\n    return tf.reduce_mean(y - y_pred)", "Take tf.abs first"),
    "exercise-gradient": (
        "def quadratic_gradient(x, y, W, b):\n    return -2 * tf.reduce_mean(x * (y - (W * x**2 + b)))",
        "factor is x²",
    ),
    "exercise-rate": ("def one_step_rate(inputs):\n    return 0.5", "only when mean(x²) = 1"),
}


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream").strip()


@pytest.fixture(scope="module")
def exercise_runs(tmp_path_factory):
    """For each exercise: what its check printed as committed, with the solution, and with the wrong answer."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("exercises")
    client = NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(folder)}})
    runs = {}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        for index, cell in enumerate(nb.cells):
            tag = next((t for t in cell.metadata.get("tags", []) if t.startswith("exercise-")), None)
            if tag is None:
                continue
            check_index = index + 1
            outputs = {"committed": printed(nb.cells[check_index])}
            for name, source in (("solution", SOLUTIONS[tag]), ("wrong", WRONG_ANSWERS[tag][0])):
                client.execute_cell(nbformat.v4.new_code_cell(source), index)
                outputs[name] = printed(client.execute_cell(nb.cells[check_index], check_index))
            runs[tag] = outputs
    return runs


def test_every_exercise_has_a_reference_solution(exercise_runs):
    assert set(exercise_runs) == set(SOLUTIONS)


@pytest.mark.parametrize("tag", sorted(SOLUTIONS))
def test_check_says_not_tried_then_correct_then_hints(exercise_runs, tag):
    outputs = exercise_runs[tag]
    assert outputs["committed"] == "not tried yet"
    assert outputs["solution"] == "correct"
    assert outputs["wrong"].startswith("Hint:") and WRONG_ANSWERS[tag][1] in outputs["wrong"]
