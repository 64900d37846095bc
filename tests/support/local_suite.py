"""``python -m local`` started as a user starts it (`make local`), on ports of its own, and the
clients the tests use against it: OAuth sign-in and MQTT. Shared by tests/local and tests/web.

It needs mosquitto: ``require_mosquitto`` has it installed with apt-get when the tests run as
root (local.processes), and otherwise skips the test on a laptop, or fails it when ``CI=true``.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from local.oidc.client import CodeFlow, http
from local.processes import mosquitto_binary
from local.settings import PORTS, ROOT

STARTUP_SECONDS = 180.0  # the first start synthesizes the suite; a loaded 2-core machine is slow
STOP_SECONDS = 60.0


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def port_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def require_mosquitto() -> None:
    try:
        mosquitto_binary()
    except RuntimeError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"mosquitto is required in CI: {error}")
        pytest.skip(str(error))


@dataclass
class LocalRun:
    """One ``python -m local`` process and what it printed."""

    ports: dict[str, int]
    process: subprocess.Popen[str]
    stderr_path: Path
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Ready in"):
                self.ready.set()
        self.ended.set()

    def output(self) -> str:
        stderr = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return "stdout:\n" + "\n".join(self.lines[-40:]) + "\nstderr (end):\n" + stderr[-4000:]

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.2):
            if self.ended.is_set() or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"python -m local did not become ready:\n{self.output()}")

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the supervisor (its children are in their own process groups)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def stop(self) -> None:
        try:
            self.interrupt()
        except subprocess.TimeoutExpired:
            pass

    def url(self, name: str, path: str = "") -> str:
        return f"http://localhost:{self.ports[name]}{path}"


def start_local(ports: dict[str, int], assembly: Path, workdir: Path) -> LocalRun:
    environ = {**os.environ, "LOCAL_ASSEMBLY": str(assembly), "PYTHONUNBUFFERED": "1",
               "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    environ.update({PORTS[name][0]: str(port) for name, port in ports.items()})
    stderr_path = workdir / f"local-{uuid.uuid4().hex[:6]}.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=environ, text=True,
                                   stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
    run = LocalRun(ports, process, stderr_path)
    threading.Thread(target=run._read, daemon=True).start()
    return run


def choose_ports() -> dict[str, int]:
    return dict(zip(PORTS, free_ports(len(PORTS)), strict=True))


# -- clients of the running suite -------------------------------------------------------------

def client_config(run: LocalRun, client: str) -> dict[str, Any]:
    return http("GET", run.url(f"{client}_web", "/config.json")).json()


def sign_in(run: LocalRun, client: str, email: str = "alice@example.com") -> dict[str, Any]:
    """Tokens of ``email`` for the web client ``client`` (its config.json names issuer and app client)."""
    auth = client_config(run, client)["auth"]
    return CodeFlow(auth["authority"], auth["clientId"], auth["redirectUri"]).tokens(email)


class Subscriber:
    """An MQTT client on the local broker's TCP listener recording what arrives."""

    def __init__(self, port: int, *, websocket: bool = False) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, dict[str, Any] | bytes]] = []
        self._changed = threading.Condition()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                                   transport="websockets" if websocket else "tcp",
                                   client_id=f"test-{uuid.uuid4().hex[:8]}")
        if websocket:
            self._client.ws_set_options(path="/mqtt")
        connected = threading.Event()
        self._client.on_connect = lambda *args: connected.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert connected.wait(10), "could not connect to the local broker"

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            payload: dict[str, Any] | bytes = json.loads(message.payload)
        except ValueError:
            payload = bytes(message.payload)
        with self._changed:
            self.messages.append((message.topic, payload))
            self._changed.notify_all()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self._client.on_subscribe = lambda *args: done.set()
        self._client.subscribe(topic, qos=1)
        assert done.wait(10), f"no SUBACK for {topic}"

    def wait_for(self, predicate: Callable[[list[tuple[str, Any]]], bool], timeout: float = 30.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self.messages)), timeout)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """The first truthy result of ``check`` within ``timeout`` (pumps run in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)
