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
