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
import sys
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


FAKE_PYTHON_314 = """#!/bin/sh
# Answers `-c CODE` as Python 3.14 would, and nothing else.
[ "$1" = "-c" ] || exit 1
exec {python} -c 'import sys; sys.version_info = (3, 14, 0, "final", 0); exec(sys.argv[1])' "$2"
"""


def make_in_scratch(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    """`make` on a copy of the Makefile, with a PATH holding only a Python 3.14 and the tools the Makefile calls."""
    for name in ("Makefile", "requirements.txt", "requirements-oldest.txt"):
        shutil.copy(ROOT / name, tmp_path)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "python3").write_text(FAKE_PYTHON_314.format(python=os.path.realpath(sys.executable)))
    (tools / "python3").chmod(0o755)
    for tool in ("grep", "uname", "id"):
        (tools / tool).symlink_to(shutil.which(tool))
    return subprocess.run([shutil.which("make"), *arguments], cwd=tmp_path, env={"PATH": str(tools)},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("goal", ["notebook", "test"])
def test_no_supported_python_stops_before_creating_anything(tmp_path: Path, goal: str):
    result = make_in_scratch(tmp_path, goal)
    assert result.returncode != 0
    assert "This needs Python 3.11 to 3.13" in result.stderr, result.stderr
    assert "none of python3.13 python3.12 python3.11 python3 on PATH is one" in result.stderr, result.stderr
    assert f"make {goal} PYTHON=/path/to/python3.13" in result.stderr, result.stderr
    assert not (tmp_path / ".venv").exists()


def test_an_unsupported_python_given_is_named_with_its_version(tmp_path: Path):
    fake = tmp_path / "bin" / "python3"
    result = make_in_scratch(tmp_path, "notebook", f"PYTHON={fake}")
    assert result.returncode != 0
    assert f"PYTHON={fake} is Python 3.14." in result.stderr, result.stderr
    assert not (tmp_path / ".venv").exists()


def test_the_oldest_versions_ask_for_a_python_they_support(tmp_path: Path):
    result = make_in_scratch(tmp_path, "test-oldest", "OLDEST_PYTHON=python3")
    assert "This needs Python 3.11 to 3.12" in result.stderr and "OLDEST_PYTHON=python3 is Python 3.14." in result.stderr
    assert not (tmp_path / ".venv-oldest").exists()
