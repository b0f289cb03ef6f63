"""Start workers of worker.py on free localhost ports, wait with a deadline, and stop them all on any failure.

    result = launch(2, worker_arguments, folder)   # the chief's result.json, as a dict

On failure (a port already taken, a worker that exited or was killed, a deadline passed) every worker this
call started is stopped, SIGTERM first and SIGKILL after a grace period, and LaunchError says which worker
failed and why; its `pids` are the processes it started, all gone by then.
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


class LaunchError(RuntimeError):
    def __init__(self, message: str, pids: list[int]):
        super().__init__(message)
        self.pids = pids


def free_ports(count: int) -> list[int]:
    """Ports that were free a moment ago (the operating system picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(it printed nothing)"


def why_it_failed(index: int, process: subprocess.Popen, log: Path, port: int) -> str:
    text = log.read_text(errors="replace")
    if "Could not start gRPC server" in text:
        return f"worker {index} (pid {process.pid}) could not listen on port {port}: the port is busy"
    if process.returncode < 0:
        return f"worker {index} (pid {process.pid}) was killed by {signal.Signals(-process.returncode).name}"
    return f"worker {index} (pid {process.pid}) exited with code {process.returncode}: {last_line(log)}"


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
            process.kill()  # a worker waiting for its peers ignores SIGTERM
        process.wait()


def launch(workers: int, arguments: list[str], folder: str | Path, deadline: float = 180.0, grace: float = 3.0,
           ports: list[int] | None = None, start: list[int] | None = None) -> dict:
    """Run `workers` workers with `arguments` (plus --folder) until all end; return the chief's result.

    `ports` overrides the free ports picked for them, and `start` starts only these workers (the others
    never arrive): both exist for tests of the failure paths. Ports picked here were free a moment before
    the workers bind them; if another process took one in between, the launch is tried again on new ports.
    """
    for attempt in range(3):
        try:
            return launch_once(workers, arguments, Path(folder), deadline, grace, ports or free_ports(workers), start)
        except LaunchError as error:
            if ports is not None or "the port is busy" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def launch_once(workers: int, arguments: list[str], folder: Path, deadline: float, grace: float,
                ports: list[int], start: list[int] | None) -> dict:
    """One launch on these ports: see launch."""
    folder.mkdir(parents=True, exist_ok=True)
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    started: dict[int, tuple[subprocess.Popen, Path]] = {}
    try:
        for index in range(workers) if start is None else start:
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            log = folder / f"worker-{index}.log"
            with open(log, "w", encoding="utf-8") as output:
                started[index] = (subprocess.Popen(
                    [sys.executable, str(WORKER), *arguments, "--folder", str(folder)],
                    env={**os.environ, "TF_CONFIG": json.dumps(config)}, stdout=output, stderr=subprocess.STDOUT), log)
        give_up = time.monotonic() + deadline
        while any(process.poll() is None for process, _ in started.values()):
            for index, (process, log) in started.items():
                if process.poll() not in (None, 0):
                    raise LaunchError(why_it_failed(index, process, log, ports[index]), pids_of(started))
            if time.monotonic() > give_up:
                waiting = [f"worker {index} (pid {process.pid}, {progress(log)})"
                           for index, (process, log) in started.items() if process.poll() is None]
                raise LaunchError(f"the deadline of {deadline:g} s passed with {', '.join(waiting)} still running",
                                  pids_of(started))
            time.sleep(0.2)
        for index, (process, log) in started.items():
            if process.returncode != 0:
                raise LaunchError(why_it_failed(index, process, log, ports[index]), pids_of(started))
    finally:
        stop([process for process, _ in started.values()], grace)
    return json.loads((folder / "result.json").read_text(encoding="utf-8"))


def progress(log: Path) -> str:
    epochs = [line for line in log.read_text(errors="replace").splitlines() if " epoch " in line]
    return epochs[-1].split(": ", 1)[-1] if epochs else "no epoch yet: starting, or waiting for its peers"


def pids_of(started: dict[int, tuple[subprocess.Popen, Path]]) -> list[int]:
    return [process.pid for process, _ in started.values()]
