"""The multi-worker launcher: equal to one process for 2 and 3 workers, every failure path stops every
worker it started with a readable message, and a relaunch after a lost worker resumes from the checkpoint.

Each test starts real worker processes (each imports TensorFlow), so this module takes a few minutes.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "multi_worker"))
import launcher

DATA = {"true-w": 3.0, "true-b": 2.0, "examples": 1000, "x-mean": 5.0, "x-std": 2.0, "noise-std": 1.0,
        "learning-rate": 0.1, "seed": 42}


EXTREME = {"true-w": -1000.0, "true-b": 1000.0, "examples": 3, "x-mean": 1000.0, "x-std": 1000.0, "noise-std": 0.0,
           "learning-rate": 0.999, "seed": 2**31 - 1}  # allowed edges of the notebook's constants


def arguments(epochs: int, data: dict | None = None, **extra) -> list[str]:
    options = {**(data or DATA), "epochs": epochs, **extra}
    return [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]


def alone(epochs: int, folder: Path, data: dict | None = None) -> dict:
    """The same step in one plain process, on all the data (no TF_CONFIG)."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    subprocess.run([sys.executable, str(launcher.WORKER), *arguments(epochs, data), "--folder", str(folder)],
                   env=env, check=True, capture_output=True, timeout=300)
    return json.loads((folder / "result.json").read_text())


def all_gone(pids: list[int]) -> bool:
    """True when none of the processes runs any more (reaped, or a zombie that its new parent has yet to reap)."""
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            continue
        return False
    return True


def assert_same_run(result: dict, reference: dict) -> None:
    """Equal up to float32 rounding: the sums over the shards round differently from one sum over all the data.

    Every number in a step is computed from targets of size about √L₀ (the loss at W = b = 0 is their mean
    square), so the allowance is 1e-5 of that size on top of 1e-5 relative.
    """
    size = np.sqrt(reference["losses"][0])
    np.testing.assert_allclose(result["losses"], reference["losses"], rtol=1e-5, atol=1e-5 * size**2)
    np.testing.assert_allclose([result["W"], result["b"]], [reference["W"], reference["b"]], rtol=1e-5,
                               atol=1e-5 * size)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> dict:
    return alone(20, tmp_path_factory.mktemp("alone"))


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_match_one_process(workers, one_process, tmp_path):
    started = time.perf_counter()
    result = launcher.launch(workers, arguments(20), tmp_path)
    print(f"\n{workers} workers: {time.perf_counter() - started:.1f} s wall")
    assert (result["processes"], result["replicas"], result["covered"]) == (workers, workers, True)
    assert_same_run(result, one_process)


@pytest.mark.parametrize("processes", [2, 3])
def test_a_cluster_with_a_chief_task_matches_one_process(processes, one_process, tmp_path):
    """A `chief` task and `worker` tasks, as Kubeflow writes them: one chief, and shares that cover every example."""
    result = launcher.launch(processes, arguments(20), tmp_path, chief=True)
    assert (result["processes"], result["replicas"], result["covered"]) == (processes, processes, True)
    assert_same_run(result, one_process)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["arguments.json", "checkpoints", "result.json", "chief-0.log"]
        + [f"worker-{index}.log" for index in range(processes - 1)]), "no scratch folder is left behind"


def test_workers_match_one_process_at_the_edges_of_the_constants(tmp_path):
    """Three examples on two workers (one gets two, the other one), the largest line, a rate just below 1."""
    result = launcher.launch(2, arguments(30, EXTREME), tmp_path / "workers")
    single = alone(30, tmp_path / "alone", EXTREME)
    assert_same_run(result, single)


def failure(tmp_path, **launch_options) -> tuple[str, list[int], float]:
    started = time.perf_counter()
    with pytest.raises(launcher.LaunchError) as raised:
        launcher.launch(2, arguments(launch_options.pop("epochs", 20), **launch_options.pop("extra", {})), tmp_path,
                        **launch_options)
    return str(raised.value), raised.value.pids, time.perf_counter() - started


def test_a_busy_port_is_reported(tmp_path):
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message, pids, seconds = failure(tmp_path, ports=[launcher.free_ports(1)[0], port])
    print(f"\n{message} ({seconds:.1f} s)")
    assert f"could not listen on port {port}: the port is busy" in message
    assert all_gone(pids)


def test_a_killed_worker_is_reported(tmp_path):
    message, pids, seconds = failure(tmp_path, extra={"signal_worker": 1, "signal_at_epoch": 3})
    print(f"\n{message} ({seconds:.1f} s)")
    assert "worker 1 (pid" in message and "was killed by SIGKILL" in message
    assert all_gone(pids)


def test_a_peer_that_never_comes_is_stopped_at_the_deadline(tmp_path):
    message, pids, seconds = failure(tmp_path, start=[0], deadline=15, grace=2)
    print(f"\n{message} ({seconds:.1f} s)")
    assert "the deadline of 15 s passed with worker 0 (pid" in message and "waiting for its peers" in message
    assert all_gone(pids) and seconds < 15 + 2 + 10


def test_a_deadline_stops_every_worker(tmp_path):
    message, pids, seconds = failure(tmp_path, deadline=1, grace=1)
    print(f"\n{message} ({seconds:.1f} s)")
    assert "the deadline of 1 s passed with worker 0 (pid" in message and "worker 1 (pid" in message
    assert all_gone(pids)


def test_a_relaunch_resumes_from_the_last_checkpoint(tmp_path):
    message, pids, _ = failure(tmp_path / "lost", epochs=20, extra={"signal_worker": 1, "signal_at_epoch": 12})
    assert "was killed by SIGKILL" in message and all_gone(pids)
    resumed = launcher.launch(2, arguments(20), tmp_path / "lost")  # the same folder: the chief's checkpoints
    log = (tmp_path / "lost" / "worker-0.log").read_text()
    assert "resumed from epoch 10" in log, log[-500:]
    uninterrupted = launcher.launch(2, arguments(20), tmp_path / "fresh")
    assert len(resumed["losses"]) == 10  # epochs 11 to 20
    assert [resumed["W"], resumed["b"]] == [uninterrupted["W"], uninterrupted["b"]]
    assert resumed["losses"] == uninterrupted["losses"][10:]


def test_sigterm_saves_every_process_at_one_step_and_a_relaunch_ends_where_a_straight_run_does(tmp_path):
    """PreemptionCheckpointHandler: a SIGTERM to one process makes all save at the same epoch and exit; with
    momentum the optimizer has state, so only a checkpoint that holds it resumes exactly."""
    momentum = {**DATA, "momentum": 0.9}
    with pytest.raises(launcher.Preempted) as raised:
        launcher.launch(2, arguments(60, momentum, signal_worker=1, signal_at_epoch=20, signal="SIGTERM"),
                        tmp_path / "run")
    print(f"\n{raised.value}")
    saved = [log.read_text().splitlines()[-1] for log in sorted((tmp_path / "run").glob("*.log"))]
    epochs = {line.rsplit(" ", 1)[1] for line in saved}
    assert all("preempted, saved at epoch" in line for line in saved) and len(epochs) == 1, saved
    assert all_gone(raised.value.pids)
    resumed = launcher.launch(2, arguments(60, momentum), tmp_path / "run")
    straight = launcher.launch(2, arguments(60, momentum), tmp_path / "straight")
    assert resumed["first_epoch"] == int(epochs.pop()) > 20
    assert [resumed["W"], resumed["b"]] == [straight["W"], straight["b"]]
    assert resumed["losses"] == straight["losses"][resumed["first_epoch"]:]


def test_processes_that_restored_different_epochs_stop_with_a_clear_message(tmp_path):
    """Hosts without shared storage: the chief finds its checkpoint, the worker finds none."""
    launcher.launch(2, arguments(10), tmp_path, separate_folders=True)
    with pytest.raises(launcher.LaunchError) as raised:
        launcher.launch(2, arguments(20), tmp_path, separate_folders=True)
    print(f"\n{raised.value}")
    assert "the processes restored different epochs, [0, 10]" in str(raised.value)
    assert all_gone(raised.value.pids)


def test_a_folder_from_a_run_with_other_arguments_is_refused(tmp_path):
    launcher.launch(2, arguments(5), tmp_path)
    with pytest.raises(launcher.LaunchError, match="holds checkpoints of a run with other arguments"):
        launcher.launch(2, arguments(5, {**DATA, "learning-rate": 0.05}), tmp_path)
    assert launcher.launch(2, arguments(10), tmp_path)["first_epoch"] == 5, "more epochs may follow a resume"


def test_local_processes_see_no_gpu():
    environment = launcher.worker_environment({"worker": ["localhost:1"]}, ("worker", 0))
    assert environment["CUDA_VISIBLE_DEVICES"] == "-1"
    assert json.loads(environment["TF_CONFIG"])["task"] == {"type": "worker", "index": 0}


def test_processes_exit_when_the_process_that_started_them_dies(tmp_path):
    """A kernel killed by the system must not leave its workers training."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'multi_worker')!r}); import launcher; "
            f"launcher.launch(2, {arguments(10**6)!r}, {str(tmp_path)!r}, deadline=600)")
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        pids = wait_for_pids(tmp_path, 2, seconds=120)
    finally:
        parent.kill()
        parent.wait()
    end = time.monotonic() + 15
    while not all_gone(pids) and time.monotonic() < end:
        time.sleep(0.2)
    assert all_gone(pids), f"still running after their parent died: {pids}"


def wait_for_pids(folder: Path, count: int, seconds: float) -> list[int]:
    """The pids the processes print first, once each has also printed an epoch."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        logs = [log.read_text() for log in folder.glob("*.log")]
        if len(logs) == count and all(" epoch " in text for text in logs):
            return [int(text.split(": pid ", 1)[1].split()[0]) for text in logs]
        time.sleep(0.2)
    raise AssertionError(f"the processes did not start training within {seconds} s")
