"""The README's two-machine recipe, run as written on two hosts simulated by Linux network namespaces.

Each namespace has its own loopback and one end of a veth pair, so the two workers reach each other only at the
addresses their TF_CONFIG names (host-a and host-b, resolved through /etc/netns/<namespace>/hosts, which
`ip netns exec` shows as /etc/hosts). Needs root and iproute2 (Debian's `iproute2`); skipped with the reason
elsewhere. Everything it creates (namespaces, veth pair, /etc/netns entries, processes) is removed at the end.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_multi_worker import all_gone, assert_same_run

HOSTS = {"host-a": "10.231.0.1", "host-b": "10.231.0.2"}
PORT = 12345  # the recipe's port
DEADLINE = 180.0


def recipe() -> str:
    """The README's bash block that starts a worker on host-a."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.DOTALL)
    found = [block for block in blocks if "TF_CONFIG" in block and "host-a" in block]
    assert len(found) == 1, f"expected one bash block in README.md that sets TF_CONFIG for host-a, found {len(found)}"
    return found[0]


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@pytest.fixture
def namespaces() -> Iterator[dict[str, str]]:
    """Two network namespaces joined by a veth pair: {host name: namespace}."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("simulating two hosts needs Linux and root")
    if shutil.which("ip") is None:
        message = "simulating two hosts needs iproute2's `ip` (apt-get install iproute2)."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " Under CI, .ci/run installs it first.")
        pytest.skip(message)
    names = {host: f"lrtl-{host}-{os.getpid()}" for host in HOSTS}
    try:
        run("ip", "netns", "add", names["host-a"])
    except subprocess.CalledProcessError as error:
        pytest.skip(f"cannot create a network namespace here: {error.stderr.decode().strip()}")
    try:
        run("ip", "netns", "add", names["host-b"])
        run("ip", "link", "add", "lrtl-a", "netns", names["host-a"], "type", "veth",
            "peer", "name", "lrtl-b", "netns", names["host-b"])
        for (host, address), device in zip(HOSTS.items(), ("lrtl-a", "lrtl-b"), strict=True):
            run("ip", "-n", names[host], "addr", "add", f"{address}/24", "dev", device)
            run("ip", "-n", names[host], "link", "set", device, "up")
            run("ip", "-n", names[host], "link", "set", "lo", "up")
            etc = Path("/etc/netns") / names[host]
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text("127.0.0.1 localhost\n" + "".join(f"{a} {h}\n" for h, a in HOSTS.items()))
        yield names
    finally:
        for name in names.values():
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=30)  # and its veth end
            shutil.rmtree(Path("/etc/netns") / name, ignore_errors=True)


def listening_addresses(namespace: str, port: int) -> list[str]:
    """The local addresses on which something in `namespace` listens on TCP `port`."""
    lines = subprocess.run(["ip", "netns", "exec", namespace, "ss", "-Hltn", f"sport = :{port}"],
                           check=True, capture_output=True, text=True, timeout=30).stdout.splitlines()
    return [line.split()[3].rsplit(":", 1)[0] for line in lines]


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM, then SIGKILL after 5 s, to each process group started here; wait until all are gone."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, sig)
        give_up = time.monotonic() + wait
        while any(process.poll() is None for process in processes) and time.monotonic() < give_up:
            time.sleep(0.1)
    assert all_gone([process.pid for process in processes]), "a worker outlived SIGKILL"


def test_the_two_machine_recipe_on_two_simulated_hosts_matches_one_process(namespaces, tmp_path):
    block = recipe().replace("/shared/run", str(tmp_path / "shared"))  # both namespaces see this file system
    assert f"host-a:{PORT}" in block and '"index": 0' in block, "the recipe's TF_CONFIG changed: update this test"
    commands = {"host-a": block, "host-b": block.replace('"index": 0', '"index": 1')}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TF_CONFIG", None)
    processes: list[subprocess.Popen] = []
    logs = {host: tmp_path / f"{host}.log" for host in HOSTS}
    try:
        for host in HOSTS:
            with open(logs[host], "w", encoding="utf-8") as log:
                processes.append(subprocess.Popen(["ip", "netns", "exec", namespaces[host], "bash", "-c", commands[host]],
                                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
            if host == "host-a":  # its server is up before host-b starts: see where it listens
                give_up = time.monotonic() + 60
                while not (addresses := listening_addresses(namespaces[host], PORT)) and time.monotonic() < give_up:
                    assert processes[0].poll() is None, f"host-a's worker ended early:\n{logs[host].read_text()}"
                    time.sleep(0.2)
                assert addresses, "host-a's worker did not listen on its port within 60 s"
                assert set(addresses) <= {"*", "0.0.0.0", "[::]"}, f"it listens on {addresses}, the README says all"
        give_up = time.monotonic() + DEADLINE
        while any(process.poll() is None for process in processes) and time.monotonic() < give_up:
            time.sleep(0.2)
        for host, process in zip(HOSTS, processes, strict=True):
            assert process.returncode == 0, f"{host}'s worker: exit code {process.returncode}\n{logs[host].read_text()}"
    finally:
        stop(processes)

    result = json.loads((tmp_path / "shared" / "result.json").read_text())
    assert (result["processes"], result["covered"]) == (2, True), result
    python_line = block[block.index("python "):].replace("\\\n", " ")
    alone = tmp_path / "alone"
    subprocess.run(python_line.replace(str(tmp_path / "shared"), str(alone)), shell=True, cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    assert_same_run(result, json.loads((alone / "result.json").read_text()))
