"""Supervise the camera: the Kinesis Video Streams WebRTC master sample as a child process.

The sample (``kvsWebrtcClientMasterGstSample <channel>``, built with
``-DIOT_CORE_ENABLE_CREDENTIALS=ON``) gets temporary AWS credentials from the IoT
credentials provider with the thing's certificate; :func:`camera_environment` sets the
variables it reads. When it exits it is started again after an exponential backoff
(``restart_delay_s`` doubling up to ``max_restart_delay_s``; reset once a run lasted
``stable_after_s``). It runs in its own process group so that stopping it - SIGINT (the
sample's clean shutdown), then SIGKILL after ``stop_timeout_s`` - also ends anything it
started: no orphan keeps the camera busy.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Any, Sequence

from .config import RobotConfig

log = logging.getLogger(__name__)


def camera_environment(config: RobotConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The sample's environment: the parent's plus the IoT credentials provider settings."""
    env = dict(os.environ if base is None else base)
    camera = config.camera
    env.update({
        "AWS_DEFAULT_REGION": config.region,
        "AWS_IOT_CORE_CREDENTIAL_ENDPOINT": camera.credentials_endpoint,
        "AWS_IOT_CORE_CERT": str(camera.certificate),
        "AWS_IOT_CORE_PRIVATE_KEY": str(camera.private_key),
        "AWS_IOT_CORE_ROLE_ALIAS": camera.role_alias,
        "AWS_IOT_CORE_THING_NAME": config.thing_name,
        "AWS_KVS_CACERT_PATH": str(camera.ca_cert),
    })
    return env


def camera_command(config: RobotConfig) -> list[str]:
    """``<binary> <channel name> [args...]``: the master sample takes the channel as its first argument."""
    return [str(config.camera.binary), config.camera.channel_name, *config.camera.args]


def backoff_delay(failures: int, base_s: float, max_s: float) -> float:
    """Delay before restart number ``failures`` (1, 2, ...): base, 2*base, 4*base ... capped."""
    return min(max_s, base_s * (2 ** max(0, failures - 1)))


class CameraSupervisor:
    def __init__(self, *, command: Sequence[str], env: dict[str, str], restart_delay_s: float = 1.0,
                 max_restart_delay_s: float = 60.0, stable_after_s: float = 30.0,
                 stop_timeout_s: float = 5.0) -> None:
        self.command = list(command)
        self.env = env
        self.restart_delay_s = restart_delay_s
        self.max_restart_delay_s = max_restart_delay_s
        self.stable_after_s = stable_after_s
        self.stop_timeout_s = stop_timeout_s
        self.state = "stopped"
        self.starts = 0
        self.restarts = 0
        self.delays: list[float] = []  # every backoff delay waited, in order
        self.last_exit_code: int | None = None
        self.exit_codes: deque[int] = deque(maxlen=20)  # the most recent exits, oldest first
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "pid": self.pid, "restarts": self.restarts,
                "last_exit_code": self.last_exit_code}

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("camera supervisor already started")
        self._thread = threading.Thread(target=self._supervise, name="camera-supervisor", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    break
                try:
                    self._process = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL,
                                                     start_new_session=True)
                except (OSError, ValueError, subprocess.SubprocessError) as error:
                    # Retried like a crash: a binary installed later, or a full process table, recovers.
                    log.error("camera could not start %s: %s", self.command[0], error)
                    self._process = None
                else:
                    self.starts += 1
                    self.state = "running"
                    log.info("camera started (pid %d)", self._process.pid)
            process = self._process
            started = time.monotonic()
            if process is not None:
                self.last_exit_code = process.wait()
                self.exit_codes.append(self.last_exit_code)
                _kill_group(process.pid, signal.SIGKILL)  # whatever it left behind
                if self._stopping.is_set():
                    break
                log.warning("camera exited with %s after %.1f s", self.last_exit_code, time.monotonic() - started)
                if time.monotonic() - started >= self.stable_after_s:
                    failures = 0
            failures += 1
            delay = backoff_delay(failures, self.restart_delay_s, self.max_restart_delay_s)
            self.delays.append(delay)
            self.state = "backoff"
            log.info("camera restart in %.2f s", delay)
            if self._stopping.wait(delay):
                break
            self.restarts += 1
        self.state = "stopped"

    def stop(self) -> None:
        """Stop the camera and wait for it: SIGINT, then SIGKILL to the whole group after the timeout."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            _kill_group(process.pid, signal.SIGINT)
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("camera ignored SIGINT for %.1f s; killing it", self.stop_timeout_s)
                _kill_group(process.pid, signal.SIGKILL)
                process.wait()
        if self._thread is not None:
            self._thread.join()
        self.state = "stopped"
        log.info("camera stopped")


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class DisabledCamera:
    """Stands in for the supervisor when ``camera.enabled`` is false."""

    def status(self) -> dict[str, Any]:
        return {"state": "disabled"}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
