"""Motor drivers behind one small interface: two wheels, each from -1.0 (full reverse) to 1.0.

The hardware libraries are imported inside their driver only, so the simulated driver
(and the provisioning command) work on any computer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from .config import MotorSettings

log = logging.getLogger(__name__)


class MotorDriver(Protocol):
    name: str

    def drive(self, left: float, right: float) -> None:
        """Run both wheels; values are clamped to -1.0..1.0."""

    def stop(self) -> None:
        """Stop both wheels."""

    def close(self) -> None:
        """Stop and release the hardware."""


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


class SimulatedDriver:
    """Records every call (for development and tests); optionally appends them to a JSON-lines journal."""

    name = "simulated"

    def __init__(self, *, journal: Path | None = None) -> None:
        self.calls: list[tuple[float, str, tuple[float, ...]]] = []
        self._journal = journal
        self._changed = threading.Condition()

    def _record(self, call: str, *args: float) -> None:
        entry = (time.monotonic(), call, tuple(args))
        with self._changed:
            self.calls.append(entry)
            if self._journal is not None:
                with self._journal.open("a", encoding="utf-8") as journal:
                    journal.write(json.dumps({"t": time.time(), "call": call, "args": list(args)}) + "\n")
            self._changed.notify_all()
        log.info("simulated motors: %s%s", call, tuple(round(a, 3) for a in args))

    def drive(self, left: float, right: float) -> None:
        self._record("drive", _clamp(left), _clamp(right))

    def stop(self) -> None:
        self._record("stop")

    def close(self) -> None:
        self._record("close")

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Block until ``predicate(calls)`` is true (tests and tools)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self.calls)), timeout)


class ExplorerHatDriver:
    """Pimoroni Explorer HAT (Pro): motor one is the left wheel, motor two the right; speeds -100..100."""

    name = "explorerhat"

    def __init__(self) -> None:
        import explorerhat

        self._left = explorerhat.motor.one
        self._right = explorerhat.motor.two

    def drive(self, left: float, right: float) -> None:
        self._left.speed(round(_clamp(left) * 100))
        self._right.speed(round(_clamp(right) * 100))

    def stop(self) -> None:
        self._left.stop()
        self._right.stop()

    def close(self) -> None:
        self.stop()


class MotorKitDriver:
    """Adafruit DC & Stepper Motor HAT through ``adafruit_motorkit``: motor1 left, motor2 right; throttle -1..1."""

    name = "motorkit"

    def __init__(self) -> None:
        from adafruit_motorkit import MotorKit

        kit = MotorKit()
        self._left = kit.motor1
        self._right = kit.motor2

    def drive(self, left: float, right: float) -> None:
        self._left.throttle = _clamp(left)
        self._right.throttle = _clamp(right)

    def stop(self) -> None:
        self._left.throttle = 0  # brake
        self._right.throttle = 0

    def close(self) -> None:
        self.stop()
        self._left.throttle = None  # coast: release the H-bridges
        self._right.throttle = None


def create_driver(settings: MotorSettings) -> MotorDriver:
    if settings.driver == "explorerhat":
        return ExplorerHatDriver()
    if settings.driver == "motorkit":
        return MotorKitDriver()
    if settings.driver == "simulated":
        return SimulatedDriver(journal=settings.journal)
    raise ValueError(f"unknown motor driver {settings.driver!r}")
