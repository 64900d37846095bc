"""The camera supervisor against fake camera binaries (small scripts written here)."""

from __future__ import annotations

import json
import os
import sys
import time
from itertools import pairwise
from typing import Any

import pytest

from device.robot.camera import CameraSupervisor, backoff_delay, camera_command, camera_environment
from device.robot.config import parse_config

from .helpers import alive, fake_binary, read_values, wait_until

pytestmark = pytest.mark.usefixtures("time_limit")


@pytest.fixture
def supervise() -> Any:
    """Start supervisors (``CameraSupervisor`` keyword arguments); every one is stopped after the test."""
    started: list[CameraSupervisor] = []

    def start(**options: Any) -> CameraSupervisor:
        options.setdefault("env", dict(os.environ))
        supervisor = CameraSupervisor(**options)
        started.append(supervisor)
        supervisor.start()
        return supervisor

    yield start
    for supervisor in started:
        supervisor.stop()


def test_a_crashing_camera_is_restarted_with_increasing_delays(tmp_path, supervise):
    # The fake is Python, as the brief's crashing binary: it records when it started, then crashes.
    starts = tmp_path / "starts"
    binary = fake_binary(tmp_path / "camera", (
        f"import time\nwith open({str(starts)!r}, 'a') as f:\n    f.write(f'{{time.monotonic()}}\\n')\n"
        "raise SystemExit(3)\n"), interpreter=sys.executable)
    supervisor = supervise(command=[str(binary)], restart_delay_s=0.1, max_restart_delay_s=5, stable_after_s=60)
    read_values(starts, 4, float)
    supervisor.stop()

    assert supervisor.delays[:3] == [0.1, 0.2, 0.4]
    assert list(supervisor.exit_codes)[:3] == [3, 3, 3]
    times = read_values(starts, 4, float)
    gaps = [b - a for a, b in pairwise(times)][:3]
    # Each restart really waited its delay (a gap also holds the fake's start-up, which varies under load).
    assert all(gap >= delay for gap, delay in zip(gaps, [0.1, 0.2, 0.4], strict=False)), gaps
    assert supervisor.status()["restarts"] >= 3


def test_the_restart_delay_doubles_up_to_the_maximum():
    assert [backoff_delay(n, 1.0, 10.0) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_camera_that_ran_long_enough_restarts_after_the_base_delay_again(tmp_path, supervise):
    binary = fake_binary(tmp_path / "camera", "exit 1\n")
    supervisor = supervise(command=[str(binary)], restart_delay_s=0.05, max_restart_delay_s=5, stable_after_s=0)
    assert wait_until(lambda: len(supervisor.delays) >= 3)
    supervisor.stop()
    assert supervisor.delays[:3] == [0.05, 0.05, 0.05]


def test_a_binary_that_cannot_start_is_retried_with_backoff(tmp_path, supervise):
    supervisor = supervise(command=[str(tmp_path / "missing")], restart_delay_s=0.05, max_restart_delay_s=5)
    assert wait_until(lambda: len(supervisor.delays) >= 3)
    supervisor.stop()
    assert supervisor.delays[:3] == [0.05, 0.1, 0.2]
    assert supervisor.starts == 0


def test_stopping_ends_the_camera_and_everything_it_started(tmp_path, supervise):
    pids = tmp_path / "pids"
    # The background child ignores SIGINT (POSIX shells do that for `&` jobs): only the group kill ends it.
    binary = fake_binary(tmp_path / "camera", f'sleep 300 &\necho "$$ $!" > "{pids}"\nwait\n')
    supervisor = supervise(command=[str(binary)], stop_timeout_s=0.5)
    camera_pid, child_pid = read_values(pids, 2)
    assert alive(camera_pid) and alive(child_pid)

    supervisor.stop()

    assert wait_until(lambda: not alive(camera_pid) and not alive(child_pid), timeout=2)
    assert supervisor.status() == {"state": "stopped", "pid": None, "restarts": 0,
                                   "last_exit_code": supervisor.last_exit_code}


def test_a_camera_that_ignores_sigint_is_killed_after_the_stop_timeout(tmp_path, supervise):
    pids = tmp_path / "pids"
    # `trap '' INT` is inherited by `sleep` too: nothing in the group reacts to SIGINT.
    binary = fake_binary(tmp_path / "camera", f"trap '' INT\necho $$ > \"{pids}\"\nwhile :; do sleep 1; done\n")
    supervisor = supervise(command=[str(binary)], stop_timeout_s=0.3)
    [camera_pid] = read_values(pids, 1)

    began = time.monotonic()
    supervisor.stop()
    took = time.monotonic() - began

    assert 0.3 <= took < 3
    assert wait_until(lambda: not alive(camera_pid), timeout=2)
    assert supervisor.starts == 1  # stopping is not a crash: no restart
    assert supervisor.last_exit_code == -9  # SIGKILL


def test_the_camera_runs_with_the_channel_and_the_iot_credentials_environment(tmp_path, supervise):
    for name in ("certificate.pem", "private.key", "kvs-ca.pem"):
        (tmp_path / name).write_text(name)
    seen = tmp_path / "seen.json"
    binary = fake_binary(tmp_path / "kvsWebrtcClientMasterGstSample", (
        f"import json, os, sys, time\njson.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, "
        f"open({str(seen)!r}, 'w'))\ntime.sleep(300)\n"), interpreter=sys.executable)
    config = parse_config({
        "thing_name": "robot1", "region": "eu-west-1",
        "iot": {"endpoint": "abc-ats.iot.eu-west-1.amazonaws.com", "certificate": "certificate.pem",
                "private_key": "private.key", "root_ca": None},
        "motors": {"driver": "simulated"},
        "camera": {"enabled": True, "binary": str(binary), "channel_name": "robot1-channel",
                   "args": ["video-only", "devicesrc"],
                   "credentials_endpoint": "xyz.credentials.iot.eu-west-1.amazonaws.com",
                   "role_alias": "robot1-camera", "ca_cert": "kvs-ca.pem"},
    }, base_dir=tmp_path)
    supervise(command=camera_command(config), env=camera_environment(config))
    assert wait_until(lambda: seen.exists() and seen.stat().st_size > 0)
    observed = json.loads(seen.read_text())

    assert observed["argv"] == ["robot1-channel", "video-only", "devicesrc"]
    assert {k: observed["env"].get(k) for k in (
        "AWS_DEFAULT_REGION", "AWS_IOT_CORE_CREDENTIAL_ENDPOINT", "AWS_IOT_CORE_CERT", "AWS_IOT_CORE_PRIVATE_KEY",
        "AWS_IOT_CORE_ROLE_ALIAS", "AWS_IOT_CORE_THING_NAME", "AWS_KVS_CACERT_PATH")} == {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_IOT_CORE_CREDENTIAL_ENDPOINT": "xyz.credentials.iot.eu-west-1.amazonaws.com",
        "AWS_IOT_CORE_CERT": str((tmp_path / "certificate.pem").resolve()),
        "AWS_IOT_CORE_PRIVATE_KEY": str((tmp_path / "private.key").resolve()),
        "AWS_IOT_CORE_ROLE_ALIAS": "robot1-camera",
        "AWS_IOT_CORE_THING_NAME": "robot1",
        "AWS_KVS_CACERT_PATH": str((tmp_path / "kvs-ca.pem").resolve()),
    }
