"""Child processes of ``python -m local``: the moto server, mosquitto, the stacks' services.

Each child is started in its own process group (the terminal's Ctrl-C reaches only the
supervisor, which stops the children in order) and, on Linux, with ``PR_SET_PDEATHSIG`` so
that it is sent SIGTERM if the supervisor dies without stopping it. A child is stopped by its
own PID: SIGTERM, then SIGKILL after a grace period.
"""
from __future__ import annotations

import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from local.settings import BIND_HOST, ROOT

STOP_GRACE_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child between fork and exec (no threads exist in the parent yet)."""
    os.setpgrp()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # best effort: without it an orphaned child still exits when its port is needed again


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_file: Path | None = None

    def log_tail(self, lines: int = 20) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(name: str, command: Sequence[str], *, env: dict[str, str] | None = None,
          log_file: Path | None = None) -> Child:
    output = open(log_file, "ab") if log_file else None  # the child keeps its own copy
    try:
        process = subprocess.Popen(list(command), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT if output else None,
                                   preexec_fn=_die_with_parent)  # started before any thread
    finally:
        if output:
            output.close()
    return Child(name, process, log_file)


def port_open(port: int, host: str = BIND_HOST) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def port_free(port: int, host: str = BIND_HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(child: Child, port: int, timeout: float, *, cancel: threading.Event | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if cancel is not None and cancel.is_set():
            return
        if not child.alive():
            raise RuntimeError(f"{child.name} exited with status {child.process.returncode} before listening "
                               f"on port {port}" + (f":\n{child.log_tail()}" if child.log_file else ""))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not listen on port {port} within {timeout:.0f} s")
        time.sleep(0.05)


# -- mosquitto -----------------------------------------------------------------------------

def mosquitto_binary(*, install: bool = True) -> str:
    """mosquitto's path; installed with apt-get when running as root and it is missing."""
    found = _find_mosquitto()
    if found:
        return found
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "--no-install-recommends", "mosquitto"]
        if subprocess.run(command, env=env, capture_output=True, timeout=600).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
            subprocess.run(command, env=env, capture_output=True, timeout=600)
        found = _find_mosquitto()
        if found:
            return found
    raise RuntimeError("mosquitto (the local MQTT broker) is not installed: `sudo apt-get install mosquitto` "
                       "(Debian/Ubuntu) or your system's package, then run again")


def _find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None)


def mosquitto_config(tcp_port: int, websocket_port: int) -> str:
    """Anonymous listeners on loopback, no persistence: an MQTT 5 TCP listener (the functions,
    the robot) and a WebSocket one (the browsers)."""
    return "\n".join([
        # Run as root it would switch to the `mosquitto` user, who may not read our files.
        f"user {getpass.getuser()}",
        "per_listener_settings false", "allow_anonymous true", "persistence false",
        "log_dest stderr", "log_type error", "log_type warning",
        f"listener {tcp_port} {BIND_HOST}",
        f"listener {websocket_port} {BIND_HOST}", "protocol websockets", "",
    ])
