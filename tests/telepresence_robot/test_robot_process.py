"""`python -m device.robot run` as a real process: what systemd and Ctrl+C do to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from .conftest import ROOT, new_thing_name, python_command, robot_config_dict
from .helpers import alive, fake_binary, read_values, wait_until

pytestmark = pytest.mark.usefixtures("time_limit")


def _journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def robot_process(tmp_path: Path) -> Iterator[Any]:
    """Start ``run --config`` with output to a file (a pipe nobody reads could fill and block the robot)."""
    processes: list[subprocess.Popen[bytes]] = []
    output = tmp_path / "robot.log"

    def start(config_path: Path, *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with output.open("wb") as log_file:
            processes.append(subprocess.Popen(python_command("run", "--config", str(config_path)), cwd=ROOT,
                                              env=env, stdout=log_file, stderr=subprocess.STDOUT))
        return processes[-1]

    start.output = lambda: output.read_text(errors="replace")[-3000:]
    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_motors_and_camera_then_exits_cleanly(signum, mosquitto, connect_client, robot_process,
                                                                  tmp_path):
    thing = new_thing_name()
    journal, camera_pids = tmp_path / "motors.jsonl", tmp_path / "camera.pid"
    for name in ("certificate.pem", "private.key", "ca.pem"):
        (tmp_path / name).write_text(name)
    camera = fake_binary(tmp_path / "camera", f'echo $$ > "{camera_pids}"\nexec sleep 300\n')
    config = robot_config_dict(
        mosquitto, thing,
        iot={"certificate": "certificate.pem", "private_key": "private.key"},
        motors={"journal": "motors.jsonl", "dead_man_ms": 60000},
        camera={"enabled": True, "binary": str(camera), "credentials_endpoint": "creds.example.com",
                "role_alias": "camera-role", "ca_cert": "ca.pem"},
        telemetry={"interval_s": 5})
    (tmp_path / "config.json").write_text(json.dumps(config))
    watcher = connect_client()
    watcher.subscribe(f"{thing}/telemetry")
    process = robot_process(tmp_path / "config.json")

    # The first report comes once the robot is subscribed: from then on commands reach it.
    assert watcher.wait_for(lambda m: len(m) >= 1, timeout=15), robot_process.output()
    [camera_pid] = read_values(camera_pids, 1)
    watcher.publish(f"{thing}/action", {"action": "forward", "duration_ms": 10000})
    assert wait_until(lambda: any(e["call"] == "drive" for e in _journal(journal))), robot_process.output()

    process.send_signal(signum)

    assert process.wait(15) == 0, robot_process.output()
    assert watcher.wait_for(lambda m: json.loads(m[-1][1]).get("state") == "stopping", timeout=2)
    last_report = json.loads(watcher.messages[-1][1])
    calls = [e["call"] for e in _journal(journal)]
    assert "stop" in calls[calls.index("drive"):]
    assert last_report["motors"] == "stopped"
    assert last_report["last_stop_reason"] == "shutdown"
    assert wait_until(lambda: not alive(camera_pid), timeout=2)


def test_an_invalid_config_exits_with_status_2_and_lists_every_problem(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({
        "thing_name": "robot 1", "region": "us-east-1", "iot": {"endpoint": "https://example.com"},
        "motors": {"driver": "lego", "default_speed": 500}}))
    started = time.monotonic()
    result = subprocess.run(python_command("run", "--config", str(tmp_path / "config.json")), cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    for problem in ("thing_name", "iot.endpoint", "iot.certificate", "iot.private_key", "motors.driver",
                    "motors.default_speed"):
        assert problem in result.stderr
    assert time.monotonic() - started < 10


def test_a_hardware_library_that_fails_to_load_exits_with_status_1(mosquitto, robot_process, tmp_path):
    # What explorerhat does on a computer that is not a Raspberry Pi: the robot must say so and leave.
    fake = tmp_path / "site" / "explorerhat"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("This library requires a Raspberry Pi")\n')
    config = robot_config_dict(mosquitto, new_thing_name(), motors={"driver": "explorerhat"})
    (tmp_path / "config.json").write_text(json.dumps(config))

    process = robot_process(tmp_path / "config.json", env={**os.environ, "PYTHONPATH": str(fake.parent)})

    assert process.wait(15) == 1
    assert "This library requires a Raspberry Pi" in robot_process.output()
