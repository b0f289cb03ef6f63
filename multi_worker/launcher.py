"""Start the processes of a multi-worker run on free localhost ports, wait with a deadline, stop them all on failure.

    result = launch(2, worker_arguments, folder)   # the chief's result.json, as a dict

`chief=True` makes the first process a `chief` task and the others `worker` tasks, as Kubeflow's TFJob does when
a Chief replica is declared. On failure (a port already taken, a process that exited or was killed, a deadline
passed) every process this call started is stopped, SIGTERM first and SIGKILL after a grace period, and
LaunchError says which and why; its `pids` are the processes it started, all gone by then. After a SIGTERM, the
processes save a checkpoint at the same step and exit: Preempted says so, and launching again with the same
folder resumes there. The processes exit if the process that started them dies. They reach each other at localhost,
but TensorFlow's gRPC servers listen on every interface of the machine: keep the ports closed to other machines.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
PREEMPTED = 42  # worker.py's exit code after it saved on SIGTERM
MAY_CHANGE = ("--epochs=", "--checkpoint-every=", "--collective-timeout=", "--signal")  # between a run and its resume


class LaunchError(RuntimeError):
    def __init__(self, message: str, pids: list[int]):
        super().__init__(message)
        self.pids = pids


class Preempted(LaunchError):
    """Every process saved a checkpoint after a SIGTERM and exited: launch again with the same folder."""


def free_ports(count: int) -> list[int]:
    """Ports that were free a moment ago (the operating system picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("", 0))  # every interface, as TensorFlow's servers bind
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def tasks(processes: int, chief: bool) -> list[tuple[str, int]]:
    """The (type, index) of each process: a chief and workers, or workers alone."""
    return [("chief", 0)] + [("worker", i) for i in range(processes - 1)] if chief else [
        ("worker", i) for i in range(processes)]


def worker_environment(cluster: dict, task: tuple[str, int]) -> dict[str, str]:
    """The environment of one local process: its TF_CONFIG, and no GPU (processes on one host would share it)."""
    config = {"cluster": cluster, "task": {"type": task[0], "index": task[1]}}
    return {**os.environ, "TF_CONFIG": json.dumps(config), "CUDA_VISIBLE_DEVICES": "-1"}


def last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(it printed nothing)"


def why_it_failed(name: str, process: subprocess.Popen, log: Path, port: int) -> str:
    text = log.read_text(errors="replace")
    if "Could not start gRPC server" in text:
        return f"{name} (pid {process.pid}) could not listen on port {port}: the port is busy"
    if process.returncode < 0:
        return f"{name} (pid {process.pid}) was killed by {signal.Signals(-process.returncode).name}"
    return f"{name} (pid {process.pid}) exited with code {process.returncode}: {last_line(log)}"


def stop(processes: list[subprocess.Popen], grace: float) -> None:
    """SIGTERM to every process still running, then SIGKILL to any left after `grace` seconds; reap them all."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    end = time.monotonic() + grace
    while any(process.poll() is None for process in processes) and time.monotonic() < end:
        time.sleep(0.1)
    for process in processes:
        if process.poll() is None:
            process.kill()  # TensorFlow takes SIGTERM as a notice to save at the next step, not as a reason to exit
        process.wait()


def check_folder(folder: Path, arguments: list[str]) -> None:
    """Refuse a folder whose checkpoints come from a run with other arguments; record them in a new one."""
    kept = [part for part in arguments if not part.startswith(MAY_CHANGE)]
    record = folder / "arguments.json"
    if record.exists() and (before := json.loads(record.read_text(encoding="utf-8"))) != kept:
        raise LaunchError(f"{folder} holds checkpoints of a run with other arguments ({' '.join(before)}): "
                          "use a new folder, or delete this one to start afresh", [])
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(kept), encoding="utf-8")


def launch(processes: int, arguments: list[str], folder: str | Path, deadline: float = 180.0, grace: float = 3.0,
           ports: list[int] | None = None, start: list[int] | None = None, chief: bool = False,
           separate_folders: bool = False) -> dict:
    """Run `processes` processes with `arguments` (plus --folder) until all end; return the chief's result.

    `ports` overrides the free ports picked for them, and `start` starts only these processes (the others
    never arrive), and `separate_folders` gives each process a folder of its own inside `folder`, as hosts
    without shared storage have: they exist for tests of the failure paths. Ports picked here were free a moment before
    the processes bind them; if another program took one in between, the launch is tried again on new ports.
    Arguments take the form --name=value.
    """
    check_folder(Path(folder), arguments)
    for attempt in range(3):
        try:
            return launch_once(tasks(processes, chief), arguments, Path(folder), deadline, grace,
                               ports or free_ports(processes), start, separate_folders)
        except LaunchError as error:
            if ports is not None or "the port is busy" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def launch_once(all_tasks: list[tuple[str, int]], arguments: list[str], folder: Path, deadline: float,
                grace: float, ports: list[int], start: list[int] | None, separate_folders: bool) -> dict:
    """One launch on these ports: see launch."""
    cluster: dict[str, list[str]] = {}
    for (kind, _), port in zip(all_tasks, ports, strict=True):
        cluster.setdefault(kind, []).append(f"localhost:{port}")
    started: dict[int, tuple[subprocess.Popen, Path]] = {}
    names = [f"{kind} {index}" for kind, index in all_tasks]
    try:
        for number in range(len(all_tasks)) if start is None else start:
            log = folder / f"{names[number].replace(' ', '-')}.log"
            own = folder / f"process-{number}" if separate_folders else folder
            with open(log, "w", encoding="utf-8") as output:
                started[number] = (subprocess.Popen(
                    [sys.executable, str(WORKER), *arguments, f"--folder={own}", "--exit-with-parent"],
                    env=worker_environment(cluster, all_tasks[number]), stdout=output, stderr=subprocess.STDOUT), log)
        give_up = time.monotonic() + deadline
        while any(process.poll() is None for process, _ in started.values()):
            for number, (process, log) in started.items():
                if process.poll() not in (None, 0, PREEMPTED):
                    raise LaunchError(why_it_failed(names[number], process, log, ports[number]), pids_of(started))
            if time.monotonic() > give_up:
                waiting = [f"{names[number]} (pid {process.pid}, {progress(log)})"
                           for number, (process, log) in started.items() if process.poll() is None]
                raise LaunchError(f"the deadline of {deadline:g} s passed with {', '.join(waiting)} still running",
                                  pids_of(started))
            time.sleep(0.2)
        codes = {number: process.returncode for number, (process, _) in started.items()}
        if set(codes.values()) == {PREEMPTED}:
            saved = sorted({last_line(log) for _, log in started.values()})
            raise Preempted(f"every process saved after a SIGTERM and exited ({'; '.join(saved)}): launch again "
                            "with the same folder to resume", pids_of(started))
        for number, (process, log) in started.items():
            if process.returncode != 0:
                raise LaunchError(why_it_failed(names[number], process, log, ports[number]), pids_of(started))
    finally:
        stop([process for process, _ in started.values()], grace)
    return json.loads((folder / ("process-0" if separate_folders else "") / "result.json").read_text(encoding="utf-8"))


def progress(log: Path) -> str:
    epochs = [line for line in log.read_text(errors="replace").splitlines() if " epoch " in line]
    return epochs[-1].split(": ", 1)[-1] if epochs else "no epoch yet: starting, or waiting for its peers"


def pids_of(started: dict[int, tuple[subprocess.Popen, Path]]) -> list[int]:
    return [process.pid for process, _ in started.values()]
