"""The drive command the robot accepts on ``<thing>/action``, and how it moves the wheels.

The same rules as the drive API (lambda_src/telepresence_robot/drive/logic.py, whose JSON
schema is API Gateway's request model); a test keeps the two in step. The robot checks
again because anything that may publish to the topic can reach it, not only the API.

A payload whose ``action`` is ``"stop"`` is a stop, whatever else it carries. Everything
else must be a valid command, read strictly: at most :data:`MAX_PAYLOAD_BYTES`, one JSON
object, no field twice, no ``NaN``/``Infinity``, no deep nesting, exact action names (no
case folding or Unicode normalisation: ``"ѕtop"`` with a Cyrillic s is not ``"stop"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

STOP = "stop"
ACTIONS = ("forward", "backwards", "left", "right", STOP)
SPEED_RANGE = (0, 100)
DURATION_MS_RANGE = (1, 10_000)
FIELDS = ("action", "speed", "duration_ms")
MAX_PAYLOAD_BYTES = 1024


class InvalidCommand(ValueError):
    """A payload the robot ignores (after logging why)."""


class _DuplicateField(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _NonStandardNumber(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in pairs:
        if name in body:
            raise _DuplicateField(name)
        body[name] = value
    return body


def _refuse_constant(literal: str) -> Any:
    raise _NonStandardNumber(literal)


@dataclass(frozen=True)
class Command:
    action: str
    speed: int | None = None
    duration_ms: int | None = None
    ignored_fields: tuple[str, ...] = ()  # a stop's other fields: logged, never a reason to keep moving

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
        body = json.loads(payload.decode("utf-8"), object_pairs_hook=_object_without_duplicates,
                          parse_constant=_refuse_constant)
    except _DuplicateField as duplicate:
        raise InvalidCommand(f"field {ascii(duplicate.name)} appears more than once") from None
    except _NonStandardNumber as number:
        raise InvalidCommand(f"payload is not valid JSON: {number.literal} is not a JSON number") from None
    except RecursionError:
        raise InvalidCommand("payload is nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidCommand("payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidCommand("payload must be a JSON object")
    if body.get("action") == STOP:
        return Command(action=STOP, ignored_fields=tuple(sorted(set(body) - {"action"})))
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidCommand(f"unknown field(s): {', '.join(map(ascii, unknown))}")
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
