"""One worker of a multi-worker run: the notebook's line, trained under MultiWorkerMirroredStrategy.

launcher.py starts it with TF_CONFIG naming the cluster and this worker's index. Each worker makes the
notebook's data (the same seeded draws), takes every k-th example for its shard, and runs the notebook's
step; the optimizer sums the gradients of all workers, and each worker divides its loss by the global N,
so the sum is the full-batch gradient. It prints one line per epoch; the chief (worker 0) writes
checkpoints and, at the end, the result as JSON. Without TF_CONFIG it trains alone, on all the data.
"""

import argparse
import json
import os
import shutil
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # after the settings above
import tensorflow as tf


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind in (("true-w", float), ("true-b", float), ("examples", int), ("x-mean", float),
                       ("x-std", float), ("noise-std", float), ("learning-rate", float), ("epochs", int),
                       ("seed", int)):
        parser.add_argument(f"--{name}", type=kind, required=True)
    parser.add_argument("--folder", required=True, help="checkpoints and result.json go here")
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--collective-timeout", type=float, default=30.0, help="seconds before a collective fails")
    parser.add_argument("--kill-worker", type=int, default=-1, help="for tests: this worker kills itself ...")
    parser.add_argument("--kill-at-epoch", type=int, default=-1, help="... after this epoch")
    return parser.parse_args()


def notebook_data(args: argparse.Namespace) -> tuple[tf.Tensor, tf.Tensor]:
    """The notebook's x_n and y: the same seeded draws, normalized the same way."""
    x = tf.random.stateless_normal([args.examples], seed=[args.seed, 1], mean=args.x_mean, stddev=args.x_std)
    noise = tf.random.stateless_normal([args.examples], seed=[args.seed, 2], stddev=args.noise_std)
    y = args.true_w * x + args.true_b + noise
    x_mean, x_std = float(tf.reduce_mean(x)), float(tf.math.reduce_std(x))
    return (x - x_mean) / x_std, y


def main() -> None:
    args = parse_arguments()
    alone = "TF_CONFIG" not in os.environ
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=args.collective_timeout)
    strategy = tf.distribute.get_strategy() if alone else tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options)  # built before any other TensorFlow operation, as it must be
    task = 0 if alone else strategy.cluster_resolver.task_id
    workers = 1 if alone else strategy.num_replicas_in_sync
    x_n, y = notebook_data(args)
    x_part, y_part = x_n[task::workers], y[task::workers]  # this worker's shard: every workers-th example

    with strategy.scope():
        W, b = tf.Variable(0.0), tf.Variable(0.0)
        epoch = tf.Variable(0, dtype=tf.int64)
        optimizer = keras.optimizers.SGD(learning_rate=args.learning_rate)
    checkpoint = tf.train.Checkpoint(W=W, b=b, epoch=epoch)
    scratch = os.path.join(args.folder, f"scratch-{task}")  # every worker must save; only the chief's copy is kept
    manager = tf.train.CheckpointManager(checkpoint, args.folder if task == 0 else scratch, max_to_keep=1)
    if latest := tf.train.latest_checkpoint(args.folder):
        checkpoint.restore(latest)
        print(f"worker {task}: resumed from epoch {int(epoch.numpy())}", flush=True)

    def replica_step(x_part, y_part):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(y_part - (x_part * W + b))) / args.examples  # divided by the global N
        optimizer.apply(tape.gradient(loss, [W, b]), [W, b])  # sums the gradients of all workers first
        return loss

    @tf.function
    def step(x_part, y_part):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=(x_part, y_part)), axis=None)

    losses = []
    while int(epoch.numpy()) < args.epochs:
        losses.append(float(step(x_part, y_part)))
        epoch.assign_add(1)
        print(f"worker {task}: epoch {int(epoch.numpy())} loss {losses[-1]:.6f}", flush=True)
        if int(epoch.numpy()) % args.checkpoint_every == 0 or int(epoch.numpy()) == args.epochs:
            manager.save(checkpoint_number=int(epoch.numpy()))
            shutil.rmtree(scratch, ignore_errors=True)
        if task == args.kill_worker and int(epoch.numpy()) == args.kill_at_epoch:
            os.kill(os.getpid(), signal.SIGKILL)
    if task == 0:
        result = {"W": float(W.numpy()), "b": float(b.numpy()), "losses": losses, "workers": workers}
        with open(os.path.join(args.folder, "result.json"), "w", encoding="utf-8") as file:
            json.dump(result, file)


if __name__ == "__main__":
    main()
