"""The self-checking exercises: stored as "not tried yet", and each check tells right from wrong.

In the live kernel, a reference solution and a plausible wrong answer are typed into each
exercise cell in turn, and the check cell after it is run again.
"""

import pytest

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


FUNCTION_NAMES = {"exercise-mae": "mae", "exercise-gradient": "quadratic_gradient", "exercise-rate": "one_step_rate"}


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream").strip()


@pytest.fixture(scope="module")
def exercise_runs(live_notebook):
    """For each exercise: what its check printed as committed, with the solution, a wrong answer and a crashing one."""
    runs = {}
    cells = live_notebook.nb.cells
    for index, cell in enumerate(cells):
        tag = next((t for t in cell.metadata.get("tags", []) if t.startswith("exercise-")), None)
        if tag is None:
            continue
        check = cells[index + 1].source
        outputs = {"committed": printed(live_notebook.execute(cell.source + "\n" + check))}
        broken = f"def {FUNCTION_NAMES[tag]}(*args):\n    return undefined_name"
        for name, source in (("solution", SOLUTIONS[tag]), ("wrong", WRONG_ANSWERS[tag][0]), ("broken", broken)):
            outputs[name] = printed(live_notebook.execute(source + "\n" + check))
        live_notebook.execute(cell.source)  # back to the committed state
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
    assert outputs["broken"].startswith("Not yet: your function raised NameError"), outputs["broken"]
