"""``python -m local`` as a user runs it: every service answers on its port, Ctrl-C stops all of
it (ports free, no process left), and a second run on the same ports starts right after."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from local.oidc.client import http
from local.processes import port_free
from tests.support.local_suite import LocalRun, Subscriber, choose_ports, require_mosquitto, start_local

HTTP_CHECKS = {  # port name -> (method, path, expected status): what each service answers unauthenticated
    "oidc": ("GET", "/", 200),
    "shortener_api": ("GET", "/app", 401),
    "askaroundme_api": ("GET", "/questions", 401),
    "robot_api": ("POST", "/publish", 401),
    "mars_api": ("GET", "/mars", 403),
    "shortener_web": ("GET", "/config.json", 200),
    "askaroundme_web": ("GET", "/config.json", 200),
    "robot_web": ("GET", "/config.json", 200),
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory):
    require_mosquitto()
    workdir = tmp_path_factory.mktemp("smoke")
    return choose_ports(), workdir / "cdk.out", workdir


def statuses(run: LocalRun) -> dict[str, int]:
    return {name: http(method, run.url(name, path)).status for name, (method, path, _) in HTTP_CHECKS.items()}


def processes_of(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = entry.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in command and str(os.getpid()) != entry.parent.name:
            found.append(command)
    return found


def run_once(ports, assembly, workdir) -> tuple[LocalRun, dict[str, int], bool, bool]:
    run = start_local(ports, assembly, workdir)
    try:
        run.wait_ready()
        answered = statuses(run)
        brokers = []
        for port, websocket in ((ports["mqtt"], False), (ports["mqtt_ws"], True)):
            client = Subscriber(port, websocket=websocket)
            brokers.append(True)
            client.close()
        moto = http("GET", f"http://127.0.0.1:{ports['moto']}/moto-api/data.json").status == 200
    finally:
        exit_status = run.interrupt()
    assert exit_status == 0, run.output()
    return run, answered, all(brokers), moto


def test_every_service_answers_and_ctrl_c_stops_everything_twice_in_a_row(smoke):
    ports, assembly, workdir = smoke
    expected = {name: status for name, (_, _, status) in HTTP_CHECKS.items()}
    for attempt in (1, 2):  # the second run starts on the same ports right after the first stopped
        run, answered, brokers, moto = run_once(ports, assembly, workdir)
        assert answered == expected, f"run {attempt}: {answered}\n{run.output()}"
        assert brokers and moto, f"run {attempt}: broker or moto did not answer\n{run.output()}"
        assert run.lines[-1] == "Stopped.", run.output()
        assert [name for name, port in ports.items() if not port_free(port)] == [], f"run {attempt}"
        if Path("/proc").exists():
            assert processes_of(str(assembly)) == [] and processes_of(f"-p {ports['moto']}") == []


def test_a_taken_port_is_named_with_its_variable_and_nothing_starts(smoke):
    ports, assembly, workdir = smoke
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", ports["mars_api"]))
        blocker.listen()
        run = start_local(ports, assembly, workdir)
        status = run.process.wait(120)
    assert status == 2
    assert any(f"{ports['mars_api']} (LOCAL_MARS_API_PORT)" in line for line in run.lines), run.output()
    assert processes_of(f"-p {ports['moto']}") == []
