"""Telepresence robot: moto for the drive function and provisioning, a real mosquitto for the robot.

The broker is the Debian ``mosquitto`` package on loopback, started once per session (per
xdist worker) on free ports with a generated config: a plaintext listener (anonymous, no
persistence) and a mutual-TLS listener with a throwaway CA that stands in for AWS IoT's.
If ``mosquitto`` is not on PATH and the tests run as root, it is installed with apt-get
(``apt-get update`` only when the first install attempt fails). Without it the MQTT tests
are skipped on a laptop and fail when ``CI=true``: CI never skips them.

Tests with threads or child processes run under a time limit (:func:`time_limit`): a hang
must fail one test, not stall the whole suite.
"""

from __future__ import annotations

import faulthandler
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

# The root conftest already keeps the AWS SDKs away from real accounts; these serve the drive function.
os.environ.update({
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "telepresence-robot",
    "POWERTOOLS_METRICS_NAMESPACE": "TelepresenceRobot",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import pytest

from .certificates import Pki, create_pki

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
TEST_TIME_LIMIT_S = 60.0
# If the main thread is stuck where the alarm's exception cannot reach it (inside C code), the
# process ends with a traceback this much later: under xdist the worker is replaced and reported.
HARD_LIMIT_GRACE_S = 30.0


class TimeLimitExceeded(Exception):
    pass


@pytest.fixture
def time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test (setup, call and teardown) once it has run for :data:`TEST_TIME_LIMIT_S`.

    For modules with threads or child processes: ``pytestmark = pytest.mark.usefixtures("time_limit")``
    (first in the list of fixtures, so that it also covers the others' teardown).
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeLimitExceeded(f"{request.node.nodeid} ran longer than {TEST_TIME_LIMIT_S:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIME_LIMIT_S)
    faulthandler.dump_traceback_later(TEST_TIME_LIMIT_S + HARD_LIMIT_GRACE_S, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


# --- mosquitto ------------------------------------------------------------------------------

def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"mosquitto is required in CI: {reason}")
    pytest.skip(f"mosquitto not available: {reason}")


def _apt_install_mosquitto() -> str | None:
    """Install the Debian package as root; returns why not, or None on success."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not on PATH and not running as root to apt-get install it"
    if shutil.which("apt-get") is None:
        return "not on PATH and apt-get is missing"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "mosquitto"]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return f"apt-get install mosquitto failed: {result.stderr.strip()[-500:]}"
    return None


def _mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Broker:
    host: str
    port: int  # plaintext, anonymous
    tls_port: int  # mutual TLS: a client certificate from ``pki`` is required
    pki: Pki


def _mosquitto_config(port: int, tls_port: int, pki: Pki) -> str:
    return "\n".join([
        # Run as root it would switch to the `mosquitto` user, who cannot read our temporary files.
        f"user {getpass.getuser()}",
        "per_listener_settings false", "allow_anonymous true", "persistence false",
        "log_dest stderr", "log_type error", "log_type warning",
        f"listener {port} 127.0.0.1",
        f"listener {tls_port} 127.0.0.1",
        f"cafile {pki.ca}", f"certfile {pki.server_certificate}", f"keyfile {pki.server_key}",
        "require_certificate true", "",
    ])


def _start_mosquitto(binary: str, workdir: Path, pki: Pki) -> tuple[subprocess.Popen[bytes], Broker] | str:
    """Start on two free ports; returns the process and broker, or why it did not listen."""
    port, tls_port = free_port(), free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(_mosquitto_config(port, tls_port, pki))
    log_path = workdir / "mosquitto.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([binary, "-c", str(config)], stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            return f"exited with {process.returncode}: {log_path.read_text()[-500:]}"
        try:
            for listening in (port, tls_port):
                socket.create_connection(("127.0.0.1", listening), timeout=0.2).close()
            return process, Broker("127.0.0.1", port, tls_port, pki)
        except OSError:
            if time.monotonic() > deadline:
                _stop(process)
                return "did not listen within 10 s"
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Broker]:
    binary = _mosquitto_binary()
    if binary is None:
        problem = _apt_install_mosquitto()
        binary = _mosquitto_binary()
        if binary is None:
            _unavailable(problem or "installed but not found on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="mosquitto-"))
    pki = create_pki(workdir)
    # Another process may take a port between our probe and mosquitto's bind: try again, on new ports.
    for _attempt in range(3):
        started = _start_mosquitto(binary, workdir, pki)
        if not isinstance(started, str):
            break
    else:
        _unavailable(started)
    process, broker = started
    yield broker
    _stop(process)
    shutil.rmtree(workdir, ignore_errors=True)


# --- a test-side MQTT client (paho, independent of the SDK under test) ------------------------

class TestClient:
    """Publishes commands and records what arrives on the topics it subscribed to."""

    __test__ = False

    def __init__(self, broker: Broker, *, client_id: str | None = None) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, bytes]] = []
        self._changed = threading.Condition()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"test-{uuid.uuid4().hex[:8]}",
                                   protocol=paho.MQTTv5)
        self._client.on_message = self._on_message
        self._connected = threading.Event()
        self._client.on_connect = lambda *args: self._connected.set()
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert self._connected.wait(5), "test client could not connect to mosquitto"

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self._changed:
            self.messages.append((message.topic, bytes(message.payload)))
            self._changed.notify_all()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self._client.on_subscribe = lambda *args: done.set()
        self._client.subscribe(topic, qos=1)
        assert done.wait(5), f"no SUBACK for {topic}"

    def publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        self._client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes]]], bool], timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self.messages)), timeout)

    def close(self) -> None:
        self._client.disconnect()  # first: the network loop then ends at once instead of on its 1 s tick
        self._client.loop_stop()


@pytest.fixture
def connect_client(mosquitto: Broker) -> Iterator[Callable[..., TestClient]]:
    """Connect test clients (``client_id=`` optional); all are disconnected after the test."""
    clients: list[TestClient] = []

    def connect(*, client_id: str | None = None) -> TestClient:
        clients.append(TestClient(mosquitto, client_id=client_id))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def mqtt_client(connect_client: Callable[..., TestClient]) -> TestClient:
    return connect_client()


# --- robot configuration -------------------------------------------------------------------

def robot_config_dict(broker: Broker, thing_name: str, /, **sections: Any) -> dict[str, Any]:
    """A config.json for the robot on the local broker (plaintext), simulated motors, no camera.

    A dict merges into the section of that name; anything else (``broker=None``) replaces it,
    and None removes it.
    """
    config: dict[str, Any] = {
        "thing_name": thing_name,
        "region": REGION,
        "broker": {"host": broker.host, "port": broker.port, "tls": False},
        "motors": {"driver": "simulated", "default_speed": 50, "default_duration_ms": 300, "dead_man_ms": 5000},
        "telemetry": {"interval_s": 30},
        "camera": {"enabled": False},
        "log_level": "DEBUG",
    }
    for name, values in sections.items():
        if values is None:
            config.pop(name, None)
        else:
            config[name] = {**config.get(name, {}), **values} if isinstance(values, dict) else values
    return config


def new_thing_name() -> str:
    return f"robot-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunningRobot:
    app: Any

    @property
    def thing_name(self) -> str:
        return self.app.config.thing_name

    @property
    def action_topic(self) -> str:
        return self.app.config.action_topic

    @property
    def telemetry_topic(self) -> str:
        return self.app.config.telemetry_topic

    def calls(self) -> list[tuple[float, str, tuple[float, ...]]]:
        return list(self.app.driver.calls)

    def wait_for_calls(self, predicate: Callable[[list[Any]], bool], timeout: float = 5.0) -> bool:
        return self.app.driver.wait_for(predicate, timeout)


@pytest.fixture
def start_robot(mosquitto: Broker, tmp_path: Path) -> Iterator[Callable[..., RunningRobot]]:
    """Start the application in-process on the broker: the production code path, plaintext settings.

    ``thing_name`` defaults to a new unique one; other keyword arguments replace or extend
    sections of :func:`robot_config_dict`.
    """
    from device.robot.app import RobotApp
    from device.robot.config import parse_config

    started: list[Any] = []

    def start(*, thing_name: str | None = None, **sections: Any) -> RunningRobot:
        raw = robot_config_dict(mosquitto, thing_name or new_thing_name(), **sections)
        config = parse_config(raw, base_dir=tmp_path)
        app = RobotApp(config=config)
        started.append(app)
        app.start()
        assert app.link.subscribed.wait(5), "the robot did not subscribe to its action topic"
        return RunningRobot(app=app)

    yield start
    for app in started:
        app.stop()


def python_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "device.robot", *args]
