"""`make notebook` starts Jupyter with no extra argument, as root too, and says where to go without a browser.

The test takes the command `make -n` prints, adds only a free port and an empty token, starts it in a
scratch folder, waits for the server's status page, and stops it by the PID it started.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import NOTEBOOK, ROOT, free_port


def make_dry_run(env: dict[str, str], extra: str = "") -> list[str]:
    result = subprocess.run(["make", "-n", "-s", "notebook", f"JUPYTER_ARGS={extra}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()


def without_display() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def test_root_and_no_display_are_detected():
    lines = make_dry_run(without_display())
    command = lines[-1]
    assert ("--allow-root" in command) == (os.geteuid() == 0), command
    if os.uname().sysname == "Linux":
        assert "--no-browser" in command, command
        assert any("no browser opens" in line and "ssh -L" in line for line in lines), lines
    with_display = make_dry_run({**without_display(), "DISPLAY": ":0"})[-1]
    assert "--no-browser" not in with_display, with_display


def test_the_printed_command_starts_a_server(tmp_path: Path):
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv/bin/jupyter: `make notebook` creates it")
    port = free_port()
    extra = f"--port={port} --ServerApp.port_retries=0 --IdentityProvider.token= --ServerApp.root_dir={tmp_path}"
    command = shlex.split(make_dry_run(without_display(), extra)[-1])
    command[0] = str(ROOT / command[0])
    command[-1] = str(shutil.copy(NOTEBOOK, tmp_path))  # Jupyter opens files under its root folder only
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, status = time.monotonic() + 60, None
        while status is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as response:
                    status = json.load(response)
            except OSError:
                time.sleep(0.5)
        assert status is not None, f"no server on port {port}:\n{(tmp_path / 'server.log').read_text()}"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
