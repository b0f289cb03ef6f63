"""The self-checking exercises: stored as "not tried yet", and the check tells right from wrong.

In the live kernel, a reference solution, a plausible wrong answer and a crashing answer are typed
into each exercise cell in turn, and the check cell for that exercise, further down, is run again.
"""

SOLUTIONS = {
    "exercise-mae": "def mae(y, y_pred):\n    return tf.reduce_mean(tf.abs(y - y_pred))",
    "exercise-gradient": (
        "def quadratic_gradient(x, y, W, b):\n"
        "    return -2 * tf.reduce_mean(x**2 * (y - (W * x**2 + b)))"
    ),
    "exercise-rate": "def one_step_rate(inputs):\n    return 1 / (2 * tf.reduce_mean(inputs**2))",
    "exercise-bughunt": (
        "def fixed_step(model, optimizer, x, y):\n"
        "    with tf.GradientTape() as tape:\n"
        "        loss = average_loss(model, x, y, training=True)\n"
        "    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)\n"
        "    return loss"
    ),
}

# A wrong answer a student might write, and the words its hint must contain.
WRONG_ANSWERS = {
    "exercise-mae": ("def mae(y, y_pred):\n    return tf.reduce_mean(y - y_pred)", "Take tf.abs first"),
    "exercise-gradient": (
        "def quadratic_gradient(x, y, W, b):\n    return -2 * tf.reduce_mean(x * (y - (W * x**2 + b)))",
        "changes by x² (not x)",
    ),
    "exercise-rate": ("def one_step_rate(inputs):\n    return 0.5", "only when mean(x²) = 1"),
    "exercise-bughunt": (  # the sum fixed, the variable list not
        SOLUTIONS["exercise-bughunt"].replace("model.trainable_variables", "[model.W]"),
        "b never moves",
    ),
}

FUNCTION_NAMES = {"exercise-mae": "mae", "exercise-gradient": "quadratic_gradient", "exercise-rate": "one_step_rate",
                  "exercise-bughunt": "fixed_step"}
CHECK_LINES = {"exercise-mae": "5. mae: ", "exercise-gradient": "7. quadratic_gradient: ",
               "exercise-rate": "9. one_step_rate: ", "exercise-bughunt": "11. fixed_step: "}
CHECK_TAGS = {"exercise-mae": "exercise-check", "exercise-gradient": "exercise-check",
              "exercise-rate": "exercise-check", "exercise-bughunt": "bughunt-check"}


def verdict(cell, tag: str) -> str:
    """What the check cell printed for one exercise."""
    text = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
    return next(line[len(CHECK_LINES[tag]):] for line in text.splitlines() if line.startswith(CHECK_LINES[tag]))


def exercise_runs(live_notebook) -> dict[str, dict[str, str]]:
    """For each exercise: what the check printed as committed, with the solution, a wrong answer and a crashing one."""
    cells = live_notebook.nb.cells
    checks = {tag: next(c.source for c in cells if tag in c.metadata.get("tags", [])) for tag in set(CHECK_TAGS.values())}
    runs = {}
    for cell in cells:
        tag = next((t for t in cell.metadata.get("tags", []) if t in SOLUTIONS), None)
        if tag is None:
            continue
        check = checks[CHECK_TAGS[tag]]
        outputs = {"committed": verdict(live_notebook.execute(cell.source + "\n" + check), tag)}
        broken = f"def {FUNCTION_NAMES[tag]}(*args):\n    return undefined_name"
        for name, source in (("solution", SOLUTIONS[tag]), ("wrong", WRONG_ANSWERS[tag][0]), ("broken", broken)):
            outputs[name] = verdict(live_notebook.execute(source + "\n" + check), tag)
        live_notebook.execute(cell.source)  # back to the committed state
        runs[tag] = outputs
    return runs


def assert_each_check_grades(runs: dict[str, dict[str, str]]) -> None:
    """As committed "not tried yet", with the solution "correct", a wrong answer its hint, a crash a message."""
    assert set(runs) == set(SOLUTIONS), "every exercise needs a reference solution here"
    for tag, outputs in sorted(runs.items()):
        assert outputs["committed"] == "not tried yet", (tag, outputs)
        assert outputs["solution"] == "correct", (tag, outputs)
        assert outputs["wrong"].startswith("Hint:") and WRONG_ANSWERS[tag][1] in outputs["wrong"], (tag, outputs)
        assert outputs["broken"].startswith("Not yet: your function raised NameError"), (tag, outputs)


def test_each_check_says_not_tried_then_correct_then_hints(live_notebook):
    """One test, so that under pytest-xdist the exercises share one worker and its kernel."""
    assert_each_check_grades(exercise_runs(live_notebook))
