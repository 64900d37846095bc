"""The control loop: the one thread that touches the motors.

Everything else (MQTT callbacks, signal handlers) only puts events on a queue. The loop
applies commands and enforces the safety stops:

* ``duration``  - a moving command ends after its ``duration_ms`` (or the configured default);
* ``dead_man``  - no valid command for ``dead_man_ms`` while moving (a client that holds a
  button repeats its command; a client that vanished stops the robot). The dead-man time
  therefore also caps a single command: the earlier of the two stops wins;
* ``disconnect`` - the MQTT connection dropped;
* ``shutdown``  - the application is stopping (SIGINT/SIGTERM);
* ``command``   - a ``stop`` command (whatever else it carries: a stop is never refused);
* ``invalid``   - a message on the action topic that the robot refused: not a valid command
  (it might have been a stop the robot cannot read), or retained (a command is only ever
  taken from a live message; a retained one is stale by definition).

It also publishes telemetry every ``telemetry_interval_s`` while connected (and once on
connecting). Refused messages are logged and counted; nothing a message contains can raise
out of the loop.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from .commands import Command, InvalidCommand, parse_command, wheel_speeds
from .config import MotorSettings
from .motors import MotorDriver

log = logging.getLogger(__name__)

TelemetryPublisher = Callable[[dict[str, Any]], Any]
StatusProvider = Callable[[], dict[str, Any]]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Motion:
    command: Command
    stop_at: float


class Controller:
    def __init__(self, *, driver: MotorDriver, motors: MotorSettings, thing_name: str, action_topic: str,
                 telemetry_interval_s: float, publish_telemetry: TelemetryPublisher,
                 camera_status: StatusProvider, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.driver = driver
        self._motors = motors
        self._thing_name = thing_name
        self._action_topic = action_topic
        self._interval = telemetry_interval_s
        self._publish = publish_telemetry
        self._camera_status = camera_status
        self._clock = clock
        self._wall = wall_clock
        self._events: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        self._started = clock()
        self._connected = False
        self._motion: _Motion | None = None
        self._last_valid_at: float | None = None  # monotonic, for the dead-man check
        self.last_command: dict[str, Any] | None = None
        self.last_command_time: float | None = None  # epoch seconds
        self.last_stop_reason: str | None = None
        self.ignored_messages = 0
        self._next_telemetry: float | None = None
        self.final_telemetry: Any = None  # what publish_telemetry returned for the last report
        self.finished = threading.Event()

    # --- inputs: safe from any thread -----------------------------------------------------
    def on_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        self._events.put(("message", (topic, payload, retained), self._clock()))

    def on_connection(self, connected: bool) -> None:
        self._events.put(("connection", connected, self._clock()))

    def shutdown(self) -> None:
        self._events.put(("shutdown", None, self._clock()))

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while True:
                timeout = self._seconds_to_next_deadline()
                try:
                    kind, value, received = self._events.get(timeout=timeout)
                except queue.Empty:
                    kind, value, received = "tick", None, self._clock()
                if kind == "shutdown":
                    self._halt("shutdown")
                    if self._connected:
                        self.final_telemetry = self._send_telemetry(state="stopping")
                    return
                try:
                    self._handle(kind, value, received)
                except Exception:
                    log.exception("error while handling %s; stopping the motors", kind)
                    self._halt("error")
                self._check_deadlines()
        finally:
            self.finished.set()

    def _seconds_to_next_deadline(self) -> float | None:
        deadlines = []
        if self._motion is not None:
            deadlines.append(self._motion.stop_at)
            deadlines.append(self._dead_man_at())
        if self._connected and self._next_telemetry is not None:
            deadlines.append(self._next_telemetry)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self._clock())

    def _dead_man_at(self) -> float:
        return (self._last_valid_at or self._started) + self._motors.dead_man_ms / 1000.0

    def _handle(self, kind: str, value: Any, received: float) -> None:
        if kind == "message":
            topic, payload, retained = value
            self._apply_message(topic, payload, retained, received)
        elif kind == "connection":
            if not value:
                if self._connected:
                    log.warning("MQTT connection lost")
                self._halt("disconnect")
            self._connected = bool(value)
            self._next_telemetry = self._clock() if value else None

    def _apply_message(self, topic: str, payload: bytes, retained: bool, received: float) -> None:
        if topic != self._action_topic:
            self.ignored_messages += 1
            log.warning("ignored a message on unexpected topic %r", topic)
            return
        if retained:
            self._refuse("a retained message is never a command", payload)
            return
        try:
            command = parse_command(payload)
        except InvalidCommand as error:
            self._refuse(str(error), payload)
            return
        if command.ignored_fields:
            log.warning("stop with invalid field(s) %s: stopping anyway", ", ".join(map(ascii, command.ignored_fields)))
        self._last_valid_at = received
        self.last_command = command.as_dict()
        self.last_command_time = self._wall()
        if command.action == "stop":
            self._halt("command")
            return
        speed = command.speed if command.speed is not None else self._motors.default_speed
        duration_ms = command.duration_ms if command.duration_ms is not None else self._motors.default_duration_ms
        stop_at = received + duration_ms / 1000.0
        if self._clock() >= stop_at:
            # It waited in the queue longer than it was meant to run: moving now would be a surprise.
            log.warning("ignored %s: it expired before it could be applied", command.action)
            return
        left, right = wheel_speeds(command.action, speed)
        if self._motors.invert_left:
            left = -left
        if self._motors.invert_right:
            right = -right
        log.info("drive %s at %d%% for %d ms", command.action, speed, duration_ms)
        self.driver.drive(left, right)
        self._motion = _Motion(command=command, stop_at=stop_at)

    def _refuse(self, reason: str, payload: bytes) -> None:
        self.ignored_messages += 1
        log.warning("refused a message on %s: %s (payload %r); stopping the motors", self._action_topic, reason,
                    payload[:200])
        self._halt("invalid")

    def _check_deadlines(self) -> None:
        now = self._clock()
        if self._motion is not None:
            if now >= self._dead_man_at() and self._dead_man_at() < self._motion.stop_at:
                self._halt("dead_man")
            elif now >= self._motion.stop_at:
                self._halt("duration")
        if self._connected and self._next_telemetry is not None and now >= self._next_telemetry:
            self._send_telemetry(state="running")
            # From now, not from the missed slot: a late loop sends one report, not a burst.
            self._next_telemetry = now + self._interval

    def _halt(self, reason: str) -> None:
        """Stop the motors. Always calls the driver: a stop is never skipped as redundant."""
        was_moving = self._motion is not None
        self._motion = None
        try:
            self.driver.stop()
        except Exception:
            log.exception("motor driver failed to stop (%s)", reason)
        if was_moving or reason in ("command", "shutdown", "error"):
            self.last_stop_reason = reason
            log.info("motors stopped: %s", reason)

    # --- telemetry ---------------------------------------------------------------------------
    def telemetry(self, state: str = "running") -> dict[str, Any]:
        return {
            "thing_name": self._thing_name,
            "timestamp": _iso(self._wall()),
            "state": state,
            "uptime_s": round(self._clock() - self._started, 3),
            "connection": "connected" if self._connected else "disconnected",
            "motors": "running" if self._motion is not None else "stopped",
            "last_command": self.last_command,
            "last_command_time": _iso(self.last_command_time),
            "last_stop_reason": self.last_stop_reason,
            "ignored_messages": self.ignored_messages,
            "camera": self._camera_status(),
        }

    def _send_telemetry(self, state: str) -> Any:
        try:
            return self._publish(self.telemetry(state))
        except Exception:
            log.exception("telemetry publish failed")
            return None
