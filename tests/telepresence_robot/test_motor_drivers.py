"""The hardware drivers against stand-ins for their libraries (imported only when the driver is made)."""

from __future__ import annotations

import sys
import types

import pytest

from device.robot.config import MotorSettings
from device.robot.motors import SimulatedDriver, create_driver


class FakeExplorerMotor:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def speed(self, value: int) -> None:
        self.calls.append(("speed", value))

    def stop(self) -> None:
        self.calls.append(("stop",))


class FakeDcMotor:
    throttle: float | None = None


@pytest.fixture
def explorerhat(monkeypatch):
    module = types.ModuleType("explorerhat")
    module.motor = types.SimpleNamespace(one=FakeExplorerMotor(), two=FakeExplorerMotor())
    monkeypatch.setitem(sys.modules, "explorerhat", module)
    return module


@pytest.fixture
def motorkit(monkeypatch):
    module = types.ModuleType("adafruit_motorkit")
    kit = types.SimpleNamespace(motor1=FakeDcMotor(), motor2=FakeDcMotor())
    module.MotorKit = lambda: kit
    monkeypatch.setitem(sys.modules, "adafruit_motorkit", module)
    return kit


def test_the_explorer_hat_driver_turns_left_with_motor_one_backwards(explorerhat):
    driver = create_driver(MotorSettings(driver="explorerhat"))
    driver.drive(-0.6, 0.6)
    assert explorerhat.motor.one.calls == [("speed", -60)]
    assert explorerhat.motor.two.calls == [("speed", 60)]


def test_the_explorer_hat_driver_stops_both_motors(explorerhat):
    driver = create_driver(MotorSettings(driver="explorerhat"))
    driver.stop()
    assert explorerhat.motor.one.calls == [("stop",)] and explorerhat.motor.two.calls == [("stop",)]


def test_the_motorkit_driver_sets_throttles_and_brakes_on_stop(motorkit):
    driver = create_driver(MotorSettings(driver="motorkit"))
    driver.drive(1.5, -0.25)
    assert (motorkit.motor1.throttle, motorkit.motor2.throttle) == (1.0, -0.25)
    driver.stop()
    assert (motorkit.motor1.throttle, motorkit.motor2.throttle) == (0, 0)


def test_the_motorkit_driver_releases_the_motors_on_close(motorkit):
    driver = create_driver(MotorSettings(driver="motorkit"))
    driver.close()
    assert (motorkit.motor1.throttle, motorkit.motor2.throttle) == (None, None)


def test_a_missing_hardware_library_fails_only_when_its_driver_is_chosen(monkeypatch):
    monkeypatch.setitem(sys.modules, "explorerhat", None)  # import explorerhat -> ImportError
    assert isinstance(create_driver(MotorSettings(driver="simulated")), SimulatedDriver)
    with pytest.raises(ImportError, match="explorerhat"):
        create_driver(MotorSettings(driver="explorerhat"))


def test_the_simulated_driver_journals_every_call(tmp_path):
    import json

    driver = SimulatedDriver(journal=tmp_path / "journal.jsonl")
    driver.drive(0.5, -0.5)
    driver.stop()
    entries = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [(e["call"], e["args"]) for e in entries] == [("drive", [0.5, -0.5]), ("stop", [])]
