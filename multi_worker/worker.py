"""One process of a multi-worker run: Part 3's line and step, trained under MultiWorkerMirroredStrategy.

launcher.py starts it with TF_CONFIG naming the cluster (`worker` tasks, and at most one `chief` task) and
this process's task. Every process makes the notebook's data (the same seeded draws). Replica r of the R
replicas of the whole cluster (one per worker on CPUs, one per GPU otherwise) takes examples r, r + R, ...,
so the shares cover the data once, and runs Part 3's step (train_step.py), which divides by the global N:
the summed gradient is the full-batch one. The chief (the `chief` task, else worker 0) writes checkpoints
(the line, the optimizer and the epoch) and, at the end, result.json. On SIGTERM, PreemptionCheckpointHandler
has every process save at the same step and exit with code 42; run again with the same folder to resume.
Without TF_CONFIG it trains alone, on all the data.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the notebook's exact numbers; "1" (oneDNN) may be faster

import keras  # after the settings above
import tensorflow as tf
from train_step import make_train_step  # Part 3's step, which the notebook writes next to this file

PREEMPTED = 42  # exit code after a preemption checkpoint: launch again to resume


class Line(tf.Module):
    """Part 3's line ŷ = x·W + b."""

    def __init__(self):
        super().__init__()
        self.W, self.b = tf.Variable(0.0, name="W"), tf.Variable(0.0, name="b")

    def __call__(self, x, training=False):
        return x * self.W + self.b


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind in (("true-w", float), ("true-b", float), ("examples", int), ("x-mean", float),
                       ("x-std", float), ("noise-std", float), ("learning-rate", float), ("epochs", int),
                       ("seed", int)):
        parser.add_argument(f"--{name}", type=kind, required=True)
    parser.add_argument("--momentum", type=float, default=0.0, help="SGD's momentum: 0 keeps no state")
    parser.add_argument("--folder", required=True, help="checkpoints and result.json go here")
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the process that started it dies")
    parser.add_argument("--collective-timeout", type=float, help="seconds before a collective fails (for debugging)")
    parser.add_argument("--signal-worker", type=int, default=-1, help="for tests: the process with this index ...")
    parser.add_argument("--signal-at-epoch", type=int, default=-1, help="... sends itself a signal after this epoch:")
    parser.add_argument("--signal", default="SIGKILL", help="... this one")
    return parser.parse_args()


def notebook_data(args: argparse.Namespace) -> tuple[tf.Tensor, tf.Tensor]:
    """The notebook's x_n and y: the same seeded draws, normalized the same way."""
    x = tf.random.stateless_normal([args.examples], seed=[args.seed, 1], mean=args.x_mean, stddev=args.x_std)
    noise = tf.random.stateless_normal([args.examples], seed=[args.seed, 2], stddev=args.noise_std)
    y = args.true_w * x + args.true_b + noise
    mu, sigma = float(tf.reduce_mean(x)), float(tf.math.reduce_std(x))
    return (x - mu) / sigma, y


def remove(folder: str) -> None:
    """Delete a folder if it is there, on local disk or on storage that tf.io.gfile reaches (gs://...)."""
    if tf.io.gfile.exists(folder):
        tf.io.gfile.rmtree(folder)


def exit_when_orphaned(parent: int) -> None:
    """A thread: exit once the starting process is gone, so that a dead kernel leaves no worker behind."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def main() -> None:
    args = parse_arguments()
    if args.exit_with_parent:
        threading.Thread(target=exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    alone = "TF_CONFIG" not in os.environ
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=args.collective_timeout)
    strategy = tf.distribute.get_strategy() if alone else tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options)  # built before any other TensorFlow operation, as it must be
    resolver = None if alone else strategy.cluster_resolver
    jobs = {} if alone else resolver.cluster_spec().as_dict()
    task = "alone" if alone else f"{resolver.task_type} {resolver.task_id}"
    is_chief = alone or resolver.task_type == "chief" or (resolver.task_type, resolver.task_id, "chief" in jobs) == (
        "worker", 0, False)  # the chief task, or worker 0 of a cluster without one
    index = 0 if alone else [*(("chief", i) for i in range(len(jobs.get("chief", [])))),
                             *(("worker", i) for i in range(len(jobs.get("worker", []))))].index(
        (resolver.task_type, resolver.task_id))  # this process's place in the cluster
    print(f"{task}: pid {os.getpid()}", flush=True)

    x_n, y = notebook_data(args)
    every = tf.range(args.examples)

    devices = [None] if alone else strategy.extended.worker_devices  # one replica on each device of this process

    def share(values):  # replica r of R: every R-th value from r, for all the replicas of the cluster
        def on_its_device(context):  # copied to the replica's device once, not at every step
            # TensorFlow numbers worker w's k-th replica w·len(devices) + k: the same device count on every worker
            with tf.device(devices[context.replica_id_in_sync_group % len(devices)]):
                return tf.identity(values[context.replica_id_in_sync_group::context.num_replicas_in_sync])

        return strategy.experimental_distribute_values_from_function(on_its_device)

    x_shares, y_shares = share(x_n), share(y)
    covered = sorted(strategy.gather(share(every), axis=0).numpy().tolist()) == list(range(args.examples))

    folder = os.path.join(args.folder, "checkpoints")
    with strategy.scope():
        line = Line()
        optimizer = keras.optimizers.SGD(learning_rate=args.learning_rate, momentum=args.momentum)
        optimizer.build(line.trainable_variables)  # its state exists before a restore fills it
        epoch = tf.Variable(0, dtype=tf.int64, name="epoch")
    checkpoint = tf.train.Checkpoint(line=line, optimizer=optimizer, epoch=epoch)
    if alone:
        handler = None
        if latest := tf.train.latest_checkpoint(folder):
            checkpoint.restore(latest)
    else:  # restores the latest checkpoint in `folder`, then saves on SIGTERM
        def preempted() -> None:
            print(f"{task}: preempted, saved at epoch {int(epoch.numpy())}", flush=True)
            sys.exit(PREEMPTED)

        handler = tf.distribute.experimental.PreemptionCheckpointHandler(
            resolver, checkpoint, folder, tf.distribute.experimental.TerminationConfig(exit_fn=preempted))
    first = int(epoch.numpy())
    restored = strategy.gather(strategy.experimental_distribute_values_from_function(
        lambda context: tf.reshape(epoch.read_value(), [1])), axis=0).numpy().tolist()  # every replica's epoch
    if len(set(restored)) > 1:
        raise RuntimeError(f"{task}: the processes restored different epochs, {sorted(set(restored))}: each reads "
                           f"{folder}, which must be storage they all share (or start afresh in a new folder)")
    if first:
        print(f"{task}: resumed from epoch {first}", flush=True)
    scratch = os.path.join(args.folder, f"scratch-{index}")  # every process saves; only the chief's copy is kept
    # not given to the handler: it would restore from it too, and each non-chief process from its own scratch
    manager = tf.train.CheckpointManager(checkpoint, folder if is_chief else scratch, max_to_keep=1)

    replica_step = make_train_step(line, optimizer, global_batch_size=args.examples)

    @tf.function
    def step(x_shares, y_shares):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=(x_shares, y_shares)),
                               axis=None)

    losses = []
    while int(epoch.numpy()) < args.epochs:
        losses.append(float(handler.run(step, x_shares, y_shares) if handler else step(x_shares, y_shares)))
        epoch.assign_add(1)
        print(f"{task}: epoch {int(epoch.numpy())} loss {losses[-1]:.6f}", flush=True)
        if int(epoch.numpy()) % args.checkpoint_every == 0 or int(epoch.numpy()) == args.epochs:
            manager.save(checkpoint_number=int(epoch.numpy()))
            remove(scratch)
        if index == args.signal_worker and int(epoch.numpy()) == args.signal_at_epoch:
            os.kill(os.getpid(), signal.Signals[args.signal])
    if not is_chief:  # PreemptionCheckpointHandler's folder for this process's saves
        remove(os.path.join(args.folder, f"workertemp_{resolver.task_id}"))
    if is_chief:
        result = {"W": float(line.W.numpy()), "b": float(line.b.numpy()), "losses": losses, "first_epoch": first,
                  "processes": len(jobs.get("chief", [])) + len(jobs.get("worker", [])) or 1,
                  "replicas": strategy.num_replicas_in_sync, "covered": covered}
        with tf.io.gfile.GFile(os.path.join(args.folder, "result.json"), "w") as file:
            json.dump(result, file)


if __name__ == "__main__":
    main()
