"""The drive command the robot accepts on ``<thing>/action``, and how it moves the wheels.

The same rules as the drive API (lambda_src/telepresence_robot/drive/logic.py, whose JSON
schema is API Gateway's request model); a test keeps the two in step. The robot checks
again because anything that may publish to the topic can reach it, not only the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ACTIONS = ("forward", "backwards", "left", "right", "stop")
SPEED_RANGE = (0, 100)
DURATION_MS_RANGE = (1, 10_000)
FIELDS = ("action", "speed", "duration_ms")
MAX_PAYLOAD_BYTES = 1024


class InvalidCommand(ValueError):
    """A payload the robot ignores (after logging why)."""


@dataclass(frozen=True)
class Command:
    action: str
    speed: int | None = None
    duration_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action}
        if self.speed is not None:
            data["speed"] = self.speed
        if self.duration_ms is not None:
            data["duration_ms"] = self.duration_ms
        return data


def _bounded_integer(body: dict[str, Any], name: str, bounds: tuple[int, int]) -> int | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise InvalidCommand(f"'{name}' must be an integer between {bounds[0]} and {bounds[1]}, got {value!r}")
    return value


def parse_command(payload: bytes | str) -> Command:
    """Decode and validate an MQTT payload; raise :class:`InvalidCommand` with the reason."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidCommand(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidCommand("payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidCommand("payload must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidCommand(f"unknown field(s): {', '.join(unknown)}")
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise InvalidCommand(f"'action' must be one of {', '.join(ACTIONS)}, got {action!r}")
    return Command(action=action, speed=_bounded_integer(body, "speed", SPEED_RANGE),
                   duration_ms=_bounded_integer(body, "duration_ms", DURATION_MS_RANGE))


def wheel_speeds(action: str, speed: int) -> tuple[float, float]:
    """(left, right) in -1.0..1.0 for a moving action at ``speed`` percent; turns spin in place."""
    power = speed / 100.0
    return {
        "forward": (power, power),
        "backwards": (-power, -power),
        "left": (-power, power),
        "right": (power, -power),
    }[action]
