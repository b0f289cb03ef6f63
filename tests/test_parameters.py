"""The notebook under other parameters: its checks hold, and nonsense fails early and clearly."""

import math

import papermill
import pytest

OTHER_EXPERIMENTS = {
    "another seed": {"SEED": 7},
    "other line, fewer and noisier examples": {
        "TRUE_W": -1.5, "TRUE_B": 10.0, "NOISE_STD": 1.0, "NUM_EXAMPLES": 200, "SEED": 3,
    },
    "inputs far from 0, larger step": {
        "X_MEAN": -20.0, "X_STD": 0.5, "NUM_EXAMPLES": 5000, "LEARNING_RATE": 0.3, "EPOCHS": 60,
    },
    "no noise at all": {"NOISE_STD": 0.0},
    "the one-step learning rate, odd N, other sweep": {
        "LEARNING_RATE": 0.5, "NUM_EXAMPLES": 1001, "SWEEP_RATES": [0.2, 0.7], "BATCH_SIZE": 64,
    },
}

BAD_VALUES = {
    "one example": ("NUM_EXAMPLES", 1, "NUM_EXAMPLES = 1 is not allowed: NUM_EXAMPLES must be an integer >= 2"),
    "fractional count": ("NUM_EXAMPLES", 10.5, "NUM_EXAMPLES = 10.5 is not allowed"),
    "zero epochs": ("EPOCHS", 0, "EPOCHS = 0 is not allowed: EPOCHS must be an integer >= 1"),
    "zero learning rate": ("LEARNING_RATE", 0.0, "LEARNING_RATE = 0.0 is not allowed: LEARNING_RATE must be a positive finite number"),
    "negative learning rate": ("LEARNING_RATE", -0.1, "LEARNING_RATE = -0.1 is not allowed"),
    "NaN learning rate": ("LEARNING_RATE", math.nan, "LEARNING_RATE = nan is not allowed"),
    "text learning rate": ("LEARNING_RATE", "fast", "LEARNING_RATE = 'fast' is not allowed"),
    "negative noise": ("NOISE_STD", -1.0, "NOISE_STD = -1.0 is not allowed: NOISE_STD must be a finite number >= 0"),
    "infinite noise": ("NOISE_STD", math.inf, "NOISE_STD = inf is not allowed"),
    "NaN slope": ("TRUE_W", math.nan, "TRUE_W = nan is not allowed: TRUE_W must be a finite number"),
    "sweep rates as text": ("SWEEP_RATES", "fast", "SWEEP_RATES = 'fast' is not allowed"),
    "too few sweep epochs": ("SWEEP_EPOCHS", 3, "SWEEP_EPOCHS = 3 is not allowed: SWEEP_EPOCHS must be an integer >= 4"),
}


@pytest.mark.parametrize("parameters", OTHER_EXPERIMENTS.values(), ids=OTHER_EXPERIMENTS.keys())
def test_every_check_holds_for_other_experiments(run_notebook, parameters):
    run_notebook(**parameters)  # raises if any assert in the notebook fails


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_parameter_fails_early_with_its_message(run_notebook, name, value, message):
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        run_notebook(**{name: value})
    assert failure.value.ename == "ValueError"
    assert message in failure.value.evalue
    assert failure.value.exec_count <= 10, "the parameters must be checked before any real work"


@pytest.mark.parametrize("learning_rate", [1.2, 5.0])
def test_diverging_learning_rate_stops_training_with_advice(run_notebook, learning_rate):
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        run_notebook(LEARNING_RATE=learning_rate)
    assert failure.value.ename == "FloatingPointError"
    assert "Training diverged at epoch" in failure.value.evalue
    assert f"The learning rate {learning_rate:g} is too large" in failure.value.evalue
