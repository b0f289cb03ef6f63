"""The notebook's `check_close`, on its own: shapes compared as well as values, a tolerance from its arguments only.

The function is taken from the notebook's source and run with NumPy alone in its namespace, so any global it
read (the data's mean and spread, say) would fail here with a NameError.
"""

import ast
from collections.abc import Callable

import nbformat
import numpy as np
import pytest
from conftest import NOTEBOOK


def notebook_function(name: str, *helpers: str) -> Callable:
    """The notebook's function `name`, defined with the helpers it calls and NumPy, and nothing else."""
    namespace = {"np": np}
    for wanted in (*helpers, name):
        cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                    if c.cell_type == "code" and f"def {wanted}(" in c.source)
        nodes = [node for node in ast.parse(cell.source).body if getattr(node, "name", None) == wanted]
        exec(compile(ast.Module(nodes, []), wanted, "exec"), namespace)  # noqa: S102 (its own code)
    return namespace[name]


check_close = notebook_function("check_close", "float32_tolerance")


def test_equal_values_of_the_same_shape_pass(capsys):
    check_close("sixty losses", np.linspace(1, 2, 60), np.linspace(1, 2, 60))
    assert capsys.readouterr().out == "✓ sixty losses\n"


@pytest.mark.parametrize(("got", "expected"), [([1.0] * 60, [1.0]), ([1.0] * 59, [1.0] * 60), ([[1.0, 2.0]], [1.0, 2.0]),
                                               (1.0, [1.0])],
                         ids=["60 against 1", "a truncated history", "a column against a row", "a scalar against a list"])
def test_shapes_that_would_broadcast_fail(got, expected):
    with pytest.raises(AssertionError, match=r"history: expected shape \("):
        check_close("history", got, expected)


def test_an_untrained_model_of_another_shape_is_refused():
    with pytest.raises(AssertionError, match="expected shape"):
        check_close("W and b", [1.0, 2.0], [1.0, 2.0], untrained=[0.0])


def test_the_tolerance_comes_from_the_arguments():
    check_close("about 1e-5 off", 1.0 + 1.5e-5, 1.0)  # allowed: 1e-5·(1 + 1)
    with pytest.raises(AssertionError, match=r"expected 1.0 \(± 2e-05\), got 1.00003"):
        check_close("3e-5 off", 1.0 + 3e-5, 1.0)
    check_close("3e-5 off, from inputs with magnified rounding", 1.0 + 3e-5, 1.0, magnify=2)
    check_close("3e-5 off after ten steps", 1.0 + 3e-5, 1.0, steps=10)
    check_close("3e-5 off, as expected for another reason", 1.0 + 3e-5, 1.0, also_allow=1e-5)


def test_it_says_when_a_model_that_never_moved_would_pass_too(capsys):
    check_close("a step of 1e-7", [1e-7, 0.0], [1e-7, 0.0], untrained=[0.0, 0.0])
    assert "so would a model that never moved: it cannot tell" in capsys.readouterr().out
    check_close("a step of 1", [1.0, 0.5], [1.0, 0.5], untrained=[0.0, 0.0])
    assert "cannot tell" not in capsys.readouterr().out


def test_it_says_so_when_everything_compared_is_zero(capsys):
    """Targets that are all 0 make every result 0: the check then passes whatever the code, and must say so."""
    check_close("gradients on data of zeros", [0.0, -0.0], [0.0, 0.0], size=0.0)
    assert "it cannot tell" in capsys.readouterr().out
    check_close("a zero gradient at a minimum of real data", [0.0, 0.0], [0.0, 0.0], size=3.5)
    assert "cannot tell" not in capsys.readouterr().out
    check_close("a size given as a NumPy float", 0.0, 0.0, size=np.float64(0.0))
    assert "it cannot tell" in capsys.readouterr().out
