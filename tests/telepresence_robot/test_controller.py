"""The control loop on its own, with a hand-driven clock: cases a broker cannot produce on demand."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from device.robot.config import MotorSettings
from device.robot.controller import Controller
from device.robot.motors import SimulatedDriver

from .helpers import wait_until

pytestmark = pytest.mark.usefixtures("time_limit")

TOPIC = "robot1/action"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FailingDriver(SimulatedDriver):
    def drive(self, left: float, right: float) -> None:
        raise OSError("I2C bus error")


def controller(*, driver: SimulatedDriver | None = None, clock: Clock | None = None,
               reports: list[dict[str, Any]] | None = None, interval_s: float = 30.0) -> Controller:
    return Controller(driver=driver or SimulatedDriver(), motors=MotorSettings(dead_man_ms=1500),
                      thing_name="robot1", action_topic=TOPIC, telemetry_interval_s=interval_s,
                      publish_telemetry=(reports if reports is not None else []).append,
                      camera_status=lambda: {"state": "disabled"}, clock=clock or Clock())


def command(**body: Any) -> bytes:
    return json.dumps(body).encode()


def test_a_command_that_expired_while_queued_does_not_move_the_motors():
    clock = Clock()
    loop = controller(clock=clock)
    loop.on_message(TOPIC, command(action="forward", duration_ms=500))
    clock.now += 0.6  # the loop was busy (or the Pi swapped) for longer than the command lasts
    loop.shutdown()

    loop.run()

    assert [call for _, call, _ in loop.driver.calls] == ["stop"]  # only the shutdown stop
    assert loop.last_command == {"action": "forward", "duration_ms": 500}


def test_a_driver_error_stops_the_motors_and_the_loop_carries_on():
    loop = controller(driver=FailingDriver())
    loop.on_message(TOPIC, command(action="left"))
    loop.on_message(TOPIC, command(action="stop"))
    loop.shutdown()

    loop.run()

    assert [call for _, call, _ in loop.driver.calls] == ["stop", "stop", "stop"]  # error, command, shutdown
    assert loop.last_stop_reason == "shutdown"


def test_a_late_loop_sends_one_telemetry_report_not_a_burst():
    clock, reports = Clock(), []
    loop = controller(clock=clock, reports=reports, interval_s=0.05)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        loop.on_connection(True)  # reports at once, then every 0.05 s of the (frozen) clock
        assert wait_until(lambda: len(reports) == 1)
        clock.now += 1.0  # twenty intervals pass at once
        loop.on_message("elsewhere/action", b"{}")  # wakes the loop
        assert wait_until(lambda: len(reports) == 2)
        assert not wait_until(lambda: len(reports) > 2, timeout=0.3)
    finally:
        loop.shutdown()
        thread.join(5)
    assert [r["state"] for r in reports] == ["running", "running", "stopping"]
    assert reports[1]["ignored_messages"] == 1


def calls(loop: Controller) -> list[str]:
    return [call for _, call, _ in loop.driver.calls]


def test_a_retained_command_is_dropped_and_never_moves_the_motors():
    loop = controller()
    loop.on_message(TOPIC, command(action="forward", duration_ms=5000), retained=True)
    loop.shutdown()

    loop.run()

    assert "drive" not in calls(loop)
    assert loop.ignored_messages == 1
    assert loop.last_command is None


STOPS_WITH_BAD_FIELDS = [
    {"action": "stop", "duration_ms": 0},
    {"action": "stop", "speed": 101},
    {"action": "stop", "speed": True},
    {"action": "stop", "speed": None, "duration_ms": "soon"},
    {"action": "stop", "target": "robot2"},
]


@pytest.mark.parametrize("stop", STOPS_WITH_BAD_FIELDS, ids=lambda body: json.dumps(body))
def test_a_stop_stops_the_motors_whatever_else_it_carries(stop):
    loop = controller()
    loop.on_message(TOPIC, command(action="forward", duration_ms=10_000))
    loop.on_message(TOPIC, json.dumps(stop).encode())
    loop.shutdown()

    loop.run()

    assert calls(loop) == ["drive", "stop", "stop"]  # the stop command, then the shutdown
    assert loop.last_command == {"action": "stop"}  # obeyed as a stop, not refused
    assert loop.ignored_messages == 0


UNREADABLE = {
    "duplicate action": b'{"action": "stop", "action": "forward"}',
    "duplicate action, escaped": b'{"action": "forward", "\\u0061ction": "forward"}',
    "duplicate speed": b'{"action": "forward", "speed": 10, "speed": 100}',
    "NaN": b'{"action": "forward", "speed": NaN}',
    "Infinity": b'{"action": "stop", "duration_ms": Infinity}',
    "nested too deeply": b'{"action": "stop", "x": ' + b"[" * 990,
    "a thousand digits": b'{"action": "forward", "speed": ' + b"9" * 900 + b"}",
    "a JSON array": b'[{"action": "stop"}]',
    "Cyrillic s in stop": '{"action": "\u0455top"}'.encode(),
    "fullwidth f in forward": '{"action": "\uff46orward"}'.encode(),
    "zero-width space after stop": '{"action": "stop\u200b"}'.encode(),
    "byte order mark": '\ufeff{"action": "stop"}'.encode(),
    "not UTF-8": b'{"action": "stop\xff"}',
}


@pytest.mark.parametrize("payload", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_message_the_robot_cannot_accept_stops_the_motors_and_moves_nothing(payload):
    loop = controller()
    loop.on_message(TOPIC, command(action="forward", duration_ms=10_000))
    loop.on_message(TOPIC, payload)
    loop.shutdown()

    loop.run()

    assert calls(loop) == ["drive", "stop", "stop"]  # refused (it might have been a stop), then the shutdown
    assert loop.ignored_messages == 1
    assert loop.last_command == {"action": "forward", "duration_ms": 10_000}
