"""How long a Run All takes at the corners of the allowed space, where the work limits bind.

Each corner runs the whole notebook (worker processes included) with papermill, in a scratch folder,
and its wall time is printed next to the 10-minute bound the allowed space promises on two cores.
`make test-slowest` runs the slowest one as a test (every check must hold), without timing it.
Not a test: the numbers depend on the machine. Run: .venv/bin/python benchmarks/slowest_corners.py
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "linear_regression_training_loops.ipynb"
BOUND_SECONDS = 600
CORNERS = {  # every work limit at its largest, for a middling and for the largest data set
    "N = 50,000: EPOCHS 2,000, REPEATS 2,000, MINIBATCH_EPOCHS 40 (20,000 steps)":
        {"NUM_EXAMPLES": 50_000, "EPOCHS": 2000, "REPEATS": 2000, "BATCH_SIZE": 100, "MINIBATCH_EPOCHS": 40},
    "N = 1,000,000: EPOCHS 100, REPEATS 100, MINIBATCH_EPOCHS 2":
        {"NUM_EXAMPLES": 1_000_000, "EPOCHS": 100, "REPEATS": 100, "BATCH_SIZE": 100, "MINIBATCH_EPOCHS": 2},
}


def papermill_command(parameters: dict[str, int], folder: str) -> list[str]:
    options = [item for name, value in parameters.items() for item in ("-p", name, str(value))]
    return [sys.executable, "-m", "papermill", "--no-progress-bar", "-k", "python3", "--cwd", folder,
            str(NOTEBOOK), str(Path(folder) / "out.ipynb"), *options]


def main() -> None:
    for name, parameters in CORNERS.items():
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            subprocess.run(papermill_command(parameters, folder), check=True, capture_output=True)
            seconds = time.perf_counter() - started
        print(f"{name}: {seconds:6.1f} s, {seconds / BOUND_SECONDS:.2f} of the {BOUND_SECONDS} s bound")


if __name__ == "__main__":
    main()
