"""The notebook's allowed parameter space: values outside stop at the check, values inside pass every assert.

Bad values run the notebook's own `check_parameters` in-process. Parameter sets inside the space
(edges and the corners of the work limits, then random draws with a fixed seed) each run as a test in a
kernel that has run the imports: the set replaces the constants, then every code cell after the parameters
cell (the imports included, which cost nothing the second time) runs again, with figures drawn but not
saved. Under pytest-xdist each worker has its own kernel.
"""

import ast
import math
import numbers
import random
import re
import time
from typing import Any

import nbformat
import numpy as np
import pytest
from conftest import NOTEBOOK, is_volatile, notebook_kernel

RANDOM_SETS, DRAW_SEED = 25, 2026


def notebook_cells() -> list[nbformat.NotebookNode]:
    return nbformat.read(NOTEBOOK, as_version=4).cells


def parameters_index(cells) -> int:
    return next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))


def defaults() -> dict[str, Any]:
    cells = notebook_cells()
    tree = ast.parse(cells[parameters_index(cells)].source)
    values = {}
    for node in tree.body:  # NAME = value, or NAME_1, NAME_2 = value_1, value_2
        if isinstance(node, ast.Assign):
            names = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else [node.targets[0]]
            given = ast.literal_eval(node.value)
            values.update(zip([name.id for name in names], given if len(names) > 1 else [given], strict=True))
    return values


def check_parameters():
    """The notebook's own check_parameters function, with its LIMITS and imports, taken from its source."""
    nodes = []
    for cell in notebook_cells():
        if cell.cell_type == "code" and ("def check_parameters" in cell.source or "LIMITS = {" in cell.source):
            nodes += [node for node in ast.parse(cell.source).body
                      if isinstance(node, ast.Import) or getattr(node, "name", None) == "check_parameters"
                      or isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "LIMITS"]
    assert any(getattr(node, "name", None) == "check_parameters" for node in nodes), "no check_parameters"
    namespace: dict[str, Any] = {"np": np, "numbers": numbers}  # what the Setup cell imports
    exec(compile(ast.Module(nodes, []), "check_parameters", "exec"), namespace)  # noqa: S102 (its own code)
    return namespace["check_parameters"]


BAD_VALUES = {  # just outside each range, and nonsense
    "one example": ({"NUM_EXAMPLES": 1}, "NUM_EXAMPLES = 1 is not allowed: it must be an integer from 2 to"),
    "too many examples": ({"NUM_EXAMPLES": 1_000_001}, "NUM_EXAMPLES = 1000001 is not allowed"),
    "fractional count": ({"NUM_EXAMPLES": 10.5}, "NUM_EXAMPLES = 10.5 is not allowed"),
    "zero epochs": ({"EPOCHS": 0}, "EPOCHS = 0 is not allowed: it must be an integer from 1 to 2,000."),
    "zero learning rate": ({"LEARNING_RATE": 0.0}, "LEARNING_RATE = 0.0 is not allowed"),
    "negative learning rate": ({"LEARNING_RATE": -1.0}, "LEARNING_RATE = -1.0 is not allowed"),
    "learning rate above 1": ({"LEARNING_RATE": 1.005},
                              "LEARNING_RATE = 1.005 is not allowed: it must be a real number from 1e-06 to 1.0."),
    "too many epochs": ({"EPOCHS": 2001}, "EPOCHS = 2001 is not allowed: it must be an integer from 1 to 2,000."),
    "too much full-batch work": ({"NUM_EXAMPLES": 10**6, "EPOCHS": 101},
                                 "NUM_EXAMPLES * EPOCHS = 101000000 is not allowed: it must be an integer from 2 to 100,000,000."),
    "too many noise draws": ({"NUM_EXAMPLES": 10**5, "REPEATS": 1001},
                             "NUM_EXAMPLES * REPEATS = 100100000 is not allowed"),
    "too many examples shuffled": ({"NUM_EXAMPLES": 10**6, "BATCH_SIZE": 10**4, "REPEATS": 100},
                                   "NUM_EXAMPLES * MINIBATCH_EPOCHS = 12000000 is not allowed"),
    "too many mini-batch steps": ({"NUM_EXAMPLES": 1001, "BATCH_SIZE": 5, "MINIBATCH_EPOCHS": 100},
                                  "MINIBATCH_EPOCHS * ceil(NUM_EXAMPLES / BATCH_SIZE) = 20100 is not allowed"),
    "NaN learning rate": ({"LEARNING_RATE": math.nan}, "LEARNING_RATE = nan is not allowed"),
    "text learning rate": ({"LEARNING_RATE": "fast"}, "LEARNING_RATE = 'fast' is not allowed"),
    "boolean learning rate": ({"LEARNING_RATE": True}, "LEARNING_RATE = True is not allowed: it must be a real number"),
    "negative noise": ({"NOISE_STD": -1.0}, "NOISE_STD = -1.0 is not allowed: it must be a real number from 0"),
    "infinite noise": ({"NOISE_STD": math.inf}, "NOISE_STD = inf is not allowed"),
    "NaN slope": ({"TRUE_W": math.nan}, "TRUE_W = nan is not allowed"),
    "huge slope": ({"TRUE_W": 1000.5}, "TRUE_W = 1000.5 is not allowed"),
    "huge intercept": ({"TRUE_B": -1001}, "TRUE_B = -1001 is not allowed"),
    "tiny input spread": ({"X_STD": 0.0009}, "X_STD = 0.0009 is not allowed"),
    "inputs too far from 0": ({"X_MEAN": 201.0, "X_STD": 2.0},
                              "abs(X_MEAN) / X_STD = 100.5 is not allowed: it must be a real number from 0.0 to 100.0."),
    "seed too large": ({"SEED": 2**31}, "SEED = 2147483648 is not allowed"),
    "negative seed": ({"SEED": -1}, "SEED = -1 is not allowed"),
    "too few repeats": ({"REPEATS": 99}, "REPEATS = 99 is not allowed"),
    "float repeats": ({"REPEATS": 1000.0}, "REPEATS = 1000.0 is not allowed: it must be an integer"),
    "too many mini-batch epochs": ({"MINIBATCH_EPOCHS": 101}, "MINIBATCH_EPOCHS = 101 is not allowed"),
    "zero batch": ({"BATCH_SIZE": 0}, "BATCH_SIZE = 0 is not allowed"),
    "NumPy boolean": ({"EPOCHS": np.True_}, "EPOCHS = np.True_ is not allowed: it must be an integer"),
    "NumPy NaN": ({"TRUE_B": np.float32("nan")}, "TRUE_B = np.float32(nan) is not allowed"),
    "NumPy float count": ({"EPOCHS": np.float64(60.0)}, "EPOCHS = np.float64(60.0) is not allowed"),
    "work that wraps to 0 in int32": ({"NUM_EXAMPLES": np.int32(2**16), "REPEATS": np.int32(2**16)},  # 2**32
                                      "NUM_EXAMPLES * REPEATS = 4294967296 is not allowed"),
    "complex slope": ({"TRUE_W": 3 + 0j}, "TRUE_W = (3+0j) is not allowed: it must be a real number"),
}


def test_defaults_and_range_edges_are_allowed():
    check = check_parameters()
    check(defaults())
    for edge in ({"NUM_EXAMPLES": 2}, {"LEARNING_RATE": 1}, {"X_MEAN": -200.0, "X_STD": 2.0}, {"NOISE_STD": 0},
                 {"BATCH_SIZE": 1_000_000}, {"SEED": 2**31 - 1}, {"TRUE_W": -1000}, {"X_STD": 0.001, "X_MEAN": 0.1},
                 *CORNERS.values()):
        check({**defaults(), **edge})


@pytest.mark.parametrize(("change", "message"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_stops_at_the_check_with_its_message(change, message):
    with pytest.raises(ValueError, match="is not allowed") as failure:
        check_parameters()({**defaults(), **change})
    assert message in str(failure.value)


def test_numbers_of_every_type_are_accepted_and_come_back_as_python_numbers():
    """A whole number where a float is expected, and NumPy scalars, are numbers: Keras then gets a Python float."""
    checked = check_parameters()({**defaults(), **NUMPY_SCALARS})
    assert checked["LEARNING_RATE"] == pytest.approx(0.1) and type(checked["LEARNING_RATE"]) is float
    assert checked["NUM_EXAMPLES"] == 500 and type(checked["NUM_EXAMPLES"]) is int
    checked = check_parameters()({**defaults(), "LEARNING_RATE": 1, "TRUE_W": 3})
    assert (checked["LEARNING_RATE"], checked["TRUE_W"]) == (1.0, 3.0)
    assert {type(value) for value in checked.values()} <= {int, float}, checked
    assert all(type(checked[name]) is type(value) for name, value in defaults().items() if name in checked)


def test_the_check_runs_right_after_the_parameters():
    """Between the constants and their check stand only the imports and LIMITS: no cell uses a constant unchecked."""
    cells = notebook_cells()
    imports, limits, check = [c for c in cells[parameters_index(cells) + 1:] if c.cell_type == "code"][:3]
    assert "import tensorflow as tf" in imports.source, "the imports should follow the parameters"
    assert not [name for name in defaults() if re.search(rf"\b{name}\b", imports.source)], "the imports use a constant"
    assert "LIMITS = {" in limits.source and "check_parameters(globals())" in check.source


def draw_set(rng: random.Random) -> dict[str, Any]:
    """One random parameter set from the documented ranges, leaning towards small, fast runs."""
    def signed(low_exp, high_exp):
        return rng.choice([-1, 1]) * 10 ** rng.uniform(low_exp, high_exp) if rng.random() > 0.1 else 0.0

    x_std = 10 ** rng.uniform(-3, 3)
    values = {
        "TRUE_W": signed(-2, 3), "TRUE_B": signed(-2, 3),
        "X_STD": x_std, "X_MEAN": rng.uniform(-1, 1) * min(1000, 100 * x_std),
        "NOISE_STD": 10 ** rng.uniform(-3, 3) if rng.random() > 0.1 else 0.0,
        "NUM_EXAMPLES": int(10 ** rng.uniform(math.log10(2), 3.7)),
        "LEARNING_RATE": rng.uniform(0.01, 1.0) if rng.random() > 0.1 else 10 ** rng.uniform(-6, -2),
        "EPOCHS": rng.randint(1, 120), "SEED": rng.randint(0, 2**31 - 1), "REPEATS": rng.randint(100, 300),
        "BATCH_SIZE": rng.randint(1, 300), "MINIBATCH_EPOCHS": rng.randint(1, 6),
    }
    return {name: in_another_type(rng, value) for name, value in values.items()}


def in_another_type(rng: random.Random, value):
    """The same number, sometimes as a NumPy scalar (what a loop over np.linspace gives) or a whole float as an int."""
    if isinstance(value, int):
        return rng.choice([value, value, np.int64(value), np.int32(value)])
    return rng.choice([value, value, np.float64(value), int(value) if value == int(value) else value])


CORNERS = {  # the work limits at their largest: the slowest runs the random draws would rarely reach
    "largest N with the most repeats it allows, largest noise, rate 0.9": {
        "NUM_EXAMPLES": 10**6, "REPEATS": 100, "EPOCHS": 100, "BATCH_SIZE": 10**5, "MINIBATCH_EPOCHS": 2,
        "NOISE_STD": 1000.0,
        "TRUE_W": 0.0, "TRUE_B": 0.0, "X_MEAN": 0.0, "X_STD": 1.0, "LEARNING_RATE": 0.9},
    "smallest batch, most epochs it allows": {"NUM_EXAMPLES": 200, "BATCH_SIZE": 1, "MINIBATCH_EPOCHS": 100},
    "largest noise": {"NOISE_STD": 1000.0, "TRUE_W": 0.0, "TRUE_B": 0.0, "X_MEAN": 0.0, "X_STD": 1.0},
}


NUMPY_SCALARS = {"TRUE_W": np.float32(3.0), "TRUE_B": np.float64(2.0), "X_MEAN": np.float32(5.0), "X_STD": np.int64(2),
                 "NOISE_STD": np.float16(1.0), "LEARNING_RATE": np.float32(0.1), "NUM_EXAMPLES": np.int64(500),
                 "EPOCHS": np.int32(60), "SEED": np.uint32(7), "REPEATS": np.int16(100), "BATCH_SIZE": np.uint8(50),
                 "MINIBATCH_EPOCHS": np.int8(3)}
EDGE_SETS = {
    "no noise": {"NOISE_STD": 0.0},
    "slope 0": {"TRUE_W": 0.0},
    "intercept 0": {"TRUE_B": 0.0},
    "slope and intercept 0": {"TRUE_W": 0.0, "TRUE_B": 0.0},
    "slope 0, no noise": {"TRUE_W": 0.0, "NOISE_STD": 0.0},
    "intercept 0, no noise": {"TRUE_B": 0.0, "NOISE_STD": 0.0},
    "two examples": {"NUM_EXAMPLES": 2, "BATCH_SIZE": 100},
    "odd N, batch 64": {"NUM_EXAMPLES": 1001, "BATCH_SIZE": 64, "LEARNING_RATE": 0.5},
    "inputs 100 spreads from 0": {"X_MEAN": -1000.0, "X_STD": 10.0},
    "largest line": {"TRUE_W": 1000.0, "TRUE_B": -1000.0, "X_MEAN": 1000.0, "X_STD": 1000.0, "EPOCHS": 300},
    "rate just below 1": {"LEARNING_RATE": 0.999},
    "rate 1": {"LEARNING_RATE": 1.0},
    "smallest rate": {"LEARNING_RATE": 1e-6},
    "one epoch": {"EPOCHS": 1},
    "batch of one, rate 0.5": {"BATCH_SIZE": 1, "LEARNING_RATE": 0.5, "NUM_EXAMPLES": 200},
    "batch of one, rate 0.9 (mini-batches diverge first)": {"BATCH_SIZE": 1, "LEARNING_RATE": 0.9, "NUM_EXAMPLES": 200},
    "seed 14365": {"SEED": 14365},
    "whole numbers for every float, rate 1": {"TRUE_W": 3, "TRUE_B": -2, "X_MEAN": 5, "X_STD": 2, "NOISE_STD": 1,
                                              "LEARNING_RATE": 1},
    "NumPy scalars": {**NUMPY_SCALARS},
    "no signal at all": {"NOISE_STD": 0.0, "TRUE_W": 0.0, "TRUE_B": 0.0},
    **CORNERS,
}
_rng = random.Random(DRAW_SEED)
PARAMETER_SETS = {**EDGE_SETS, **{f"random {k}": draw_set(_rng) for k in range(RANDOM_SETS)}}


SKIP_SAVING = """
def save_and_show(fig, name, alt):
    fig.canvas.draw()  # everything saving does but the PNG: a figure that cannot be drawn fails here too
    plt.close(fig)


def save_and_show_animation(fig, draw_frame, frames, name, alt):
    for frame in (frames[0], frames[-1]):
        draw_frame(frame)
        fig.canvas.draw()
    plt.close(fig)
"""


# Each warning a student would see, every time, not only the first time at each line. Like Python's defaults,
# deprecations raised inside libraries stay hidden (gast, under TensorFlow, raises some on Python 3.13).
SHOW_EVERY_WARNING = """
import warnings
warnings.simplefilter("always")
for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
    warnings.filterwarnings("ignore", category=category)
warnings.filterwarnings("always", category=DeprecationWarning, module="__main__")
"""


def run_with(live, parameters: dict[str, Any], until: int | None = None):
    """Re-run the notebook after its parameters cell (up to cell `until`) with new constants.

    Returns (error cell index, error) or None, the text the cells printed, and what they wrote to stderr
    (warnings a student would see), by cell.
    """
    cells = live.nb.cells
    start = parameters_index(cells)
    assignments = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    live.execute(f"{assignments}\nFIGURES_DIR = {str(live.folder / 'figures')!r}")
    live.execute(SHOW_EVERY_WARNING)
    printed, warned = [], []
    for index in range(start + 1, len(cells) if until is None else until + 1):
        cell = cells[index]
        if cell.cell_type != "code" or is_volatile(cell) or "multi-worker" in cell.metadata.get("tags", []):
            continue  # the worker processes have their own tests, in test_multi_worker.py
        ran = live.execute(cell.source, index)
        printed += [o["text"] for o in ran.outputs if o["output_type"] == "stream" and o["name"] == "stdout"]
        warned += [(index, o["text"]) for o in ran.outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
        errors = [o for o in ran.outputs if o["output_type"] == "error"]
        if errors:
            return (index, errors[0]), "".join(printed), warned
        if "def save_and_show" in cell.source:  # draw every figure, but skip the slow saving
            live.execute(SKIP_SAVING)
    return None, "".join(printed), warned


def code_cell_with(text: str) -> int:
    return next(i for i, c in enumerate(notebook_cells()) if c.cell_type == "code" and text in c.source)


@pytest.fixture(scope="session")
def parameter_kernel(tmp_path_factory):
    """A kernel that has run the imports cell (the first code cell after the parameters), and nothing else."""
    with notebook_kernel(tmp_path_factory.mktemp("parameters")) as kernel:
        start = parameters_index(kernel.nb.cells)
        index, cell = next((i, c) for i, c in kernel.code_cells() if i > start)
        kernel.client.execute_cell(cell, index)
        yield kernel


QUICK_SETS = ("no signal at all", "whole numbers for every float, rate 1", "NumPy scalars")  # for `make quick`


@pytest.mark.parametrize("name", [name if name in QUICK_SETS else pytest.param(name, marks=pytest.mark.slow)
                                  for name in PARAMETER_SETS])
def test_every_assert_holds_inside_the_allowed_space(parameter_kernel, name):
    parameters = {**defaults(), **PARAMETER_SETS[name]}
    started = time.perf_counter()
    failure, printed, warned = run_with(parameter_kernel, parameters)
    print(f"{name}: {time.perf_counter() - started:.1f} s")
    if failure is not None:
        index, error = failure
        pytest.fail(f"cell {index} failed with {parameters}:\n{error['ename']}: {error['evalue']}")
    stopped = ("Training diverged",  # the guard's
               "LossScaleOptimizer   : kernel")  # Part 4's overflow on fixed data, which the cell asserts is infinite
    results = [line for line in printed.splitlines() if not any(words in line for words in stopped)]
    silent = [line for line in results if re.search(r"\b(nan|inf)\b", line, flags=re.IGNORECASE)]
    assert not silent, f"results that are not numbers, with no check stopping them, with {parameters}: {silent}"
    assert not warned, f"warnings (cell, text) with {parameters}: {warned}"


def defaults_with(**changes) -> dict[str, Any]:
    values = {**defaults(), **changes}
    return values


def test_the_trained_line_check_fails_for_a_model_that_never_moved(parameter_kernel):
    """With one epoch, parameters put back to 0 must fail the check (an allowance of what is left let them pass)."""
    check = code_cell_with("training stands where least squares")
    assert run_with(parameter_kernel, defaults_with(EPOCHS=1), until=check)[0] is None
    parameter_kernel.execute("W_n.assign(0.0)\nb_n.assign(0.0)")
    errors = [o for o in parameter_kernel.execute(notebook_cells()[check].source).outputs if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "AssertionError", "the check let an untrained model pass"


def test_a_check_that_an_untrained_model_passes_says_it_cannot_tell(parameter_kernel):
    check = code_cell_with("training stands where least squares")
    failure, printed, _ = run_with(parameter_kernel, defaults_with(EPOCHS=1, LEARNING_RATE=1e-6), until=check)
    assert failure is None and "so would a model that never moved: it cannot tell" in printed, printed


def test_a_rate_that_is_not_positive_gets_its_own_words(parameter_kernel):
    """Training cells run without the check cell (a kernel that ran before) must not call -1 too large."""
    check = code_cell_with("check_not_diverging(losses, LEARNING_RATE)")
    assert run_with(parameter_kernel, defaults_with(), until=check)[0] is None
    parameter_kernel.execute("LEARNING_RATE = -1")
    loop = code_cell_with("W_n.assign_sub(LEARNING_RATE * dW)")
    ran = parameter_kernel.execute(notebook_cells()[loop].source + "\n" + notebook_cells()[check].source)
    errors = [o for o in ran.outputs if o["output_type"] == "error"]
    assert errors and "The learning rate -1 is not positive" in errors[0]["evalue"], errors


def test_checks_on_targets_of_zeros_say_they_cannot_tell(parameter_kernel):
    """With no slope, intercept or noise every result is 0, so a check passes whatever the code: it must say so."""
    check = code_cell_with("the tape's gradients equal the formulas")
    failure, printed, _ = run_with(parameter_kernel, defaults_with(TRUE_W=0.0, TRUE_B=0.0, NOISE_STD=0.0), until=check)
    assert failure is None, failure
    assert "✓ the tape's gradients equal the formulas; but with these constants so would a model that never moved: " \
           "it cannot tell" in printed, printed
