"""Cost of one full-batch gradient-descent step for f(x) = x·W + b, as the data grow.

Prints microseconds per step for an eager step, the same step under tf.function, the whole loop
compiled into one graph, that loop compiled by XLA (jit_compile=True), and a step through a Keras SGD
optimizer (eager and compiled), next to the floor: one NumPy pass over x and y (their dot product), the
least a step that reads every example must do. Then each one's ratio to the floor and speed-up over the
eager step, and the time of a whole fit, EPOCHS steps, next to NumPy's exact least-squares solve. Every
timed run reads a value back, so queued work (on a GPU) is counted too.
Not a test: numbers depend on the machine. Run: .venv/bin/python benchmarks/step_time.py
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import tensorflow as tf

LEARNING_RATE = 0.1
EPOCHS = 60  # steps in a whole fit, as in the notebook
SIZES = (100, 1_000, 10_000, 100_000, 1_000_000)


def make_data(n: int, seed: int = 42) -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.random.stateless_normal([n], seed=[seed, 1])
    y = 3.0 * x + 2.0 + 0.5 * tf.random.stateless_normal([n], seed=[seed, 2])
    return x, y


def loss_and_grads(x, y, W, b):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(y - (x * W + b)))
    return loss, tape.gradient(loss, [W, b])


def manual_step(x, y, W, b, learning_rate):
    loss, (dW, db) = loss_and_grads(x, y, W, b)
    W.assign_sub(learning_rate * dW)
    b.assign_sub(learning_rate * db)
    return loss


@tf.function
def compiled_loop(x, y, W, b, learning_rate, steps):
    for _ in tf.range(steps):
        manual_step(x, y, W, b, learning_rate)


@tf.function(jit_compile=True)
def xla_loop(x, y, W, b, learning_rate, steps):
    """The same loop for XLA: `while`, since XLA fixes tf.range's arguments and would compile again for each count."""
    step = tf.constant(0)
    while step < steps:
        manual_step(x, y, W, b, learning_rate)
        step += 1


def make_keras_step(optimizer: tf.keras.optimizers.Optimizer) -> Callable:
    def keras_step(x, y, W, b):
        loss, grads = loss_and_grads(x, y, W, b)
        optimizer.apply_gradients(zip(grads, [W, b], strict=True))
        return loss

    return keras_step


def seconds_per_step(run: Callable[[int], object], budget: float, repeats: int) -> float:
    """Median time per step of run(steps), with steps doubled until one repeat takes `budget` seconds.

    run returns a value that is read back (np.asarray) inside the timing. Each count is run once untimed first,
    so tracing and compiling are not counted.
    """
    def timed(count: int) -> float:
        start = time.perf_counter()
        np.asarray(run(count))
        return time.perf_counter() - start

    steps = 1
    timed(steps)
    while timed(steps) < budget:
        steps *= 2
        timed(steps)
    return statistics.median(timed(steps) / steps for _ in range(repeats))


def measure(n: int, budget: float, repeats: int) -> dict[str, float]:
    x, y = make_data(n)
    W, b = tf.Variable(0.0), tf.Variable(0.0)
    rate = tf.constant(LEARNING_RATE)
    compiled_step = tf.function(manual_step)
    keras_eager = make_keras_step(tf.keras.optimizers.SGD(LEARNING_RATE))
    keras_compiled = tf.function(make_keras_step(tf.keras.optimizers.SGD(LEARNING_RATE)))
    design = np.stack([x.numpy().astype(np.float64), np.ones(n)], axis=1)
    targets = y.numpy().astype(np.float64)

    def repeat(step: Callable, *args) -> Callable[[int], object]:
        def run(steps: int) -> object:
            for _ in range(steps):
                result = step(*args)
            return result

        return run

    def whole_loop(loop: Callable) -> Callable[[int], object]:
        def run(steps: int) -> tf.Tensor:
            loop(x, y, W, b, rate, tf.constant(steps))
            return W.read_value()

        return run

    x_np, y_np = x.numpy(), y.numpy()
    times = {"floor (NumPy x·y)": seconds_per_step(lambda s: [x_np @ y_np for _ in range(s)][-1], budget, repeats)}
    times["eager"] = seconds_per_step(repeat(manual_step, x, y, W, b, rate), budget, repeats)
    times["tf.function"] = seconds_per_step(repeat(compiled_step, x, y, W, b, rate), budget, repeats)
    times["loop in graph"] = seconds_per_step(whole_loop(compiled_loop), budget, repeats)
    times["loop with XLA"] = seconds_per_step(whole_loop(xla_loop), budget, repeats)
    times["Keras SGD eager"] = seconds_per_step(repeat(keras_eager, x, y, W, b), budget, repeats)
    times["Keras SGD tf.function"] = seconds_per_step(repeat(keras_compiled, x, y, W, b), budget, repeats)
    times["NumPy lstsq"] = seconds_per_step(lambda s: [np.linalg.lstsq(design, targets)[0] for _ in range(s)][-1],
                                               budget, repeats)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    results = {n: measure(n, args.budget, args.repeats) for n in args.sizes}
    fits = {n: row.pop("NumPy lstsq") for n, row in results.items()}
    floors = {n: row.pop("floor (NumPy x·y)") for n, row in results.items()}
    names = list(next(iter(results.values())))
    print(f"TensorFlow {tf.__version__}, NumPy {np.__version__}, {os.cpu_count()} CPUs; "
          f"median of {args.repeats} repeats\n")
    print("µs per step; the floor is one NumPy pass over x and y (x·y)")
    print(f"{'N':>10}{'floor':>12}" + "".join(f"{name:>23}" for name in names))
    for n, row in results.items():
        print(f"{n:>10,}{floors[n] * 1e6:>12,.2f}" + "".join(f"{row[name] * 1e6:>23,.2f}" for name in names))
    print("\ntimes the floor (lower is better; 1 would be one pass over the data per step)")
    print(f"{'N':>10}" + "".join(f"{name:>23}" for name in names))
    for n, row in results.items():
        print(f"{n:>10,}" + "".join(f"{row[name] / floors[n]:>22.1f}×" for name in names))
    print("\nspeed-up over the eager step (higher is faster)")
    print(f"{'N':>10}" + "".join(f"{name:>23}" for name in names[1:]))
    for n, row in results.items():
        print(f"{n:>10,}" + "".join(f"{row['eager'] / row[name]:>22.1f}×" for name in names[1:]))
    print(f"\nms for a whole fit: {EPOCHS} steps, or one exact least-squares solve")
    print(f"{'N':>10}{'eager':>14}{'loop in graph':>16}{'loop with XLA':>16}{'NumPy lstsq':>14}")
    for n, row in results.items():
        print(f"{n:>10,}{row['eager'] * EPOCHS * 1e3:>14.2f}{row['loop in graph'] * EPOCHS * 1e3:>16.2f}"
              f"{row['loop with XLA'] * EPOCHS * 1e3:>16.2f}{fits[n] * 1e3:>14.2f}")


if __name__ == "__main__":
    main()
