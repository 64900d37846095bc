"""Drive commands: the JSON schema, validation and the MQTT payload. Pure: no boto3.

A command is a JSON object::

    {"action": "forward", "speed": 60, "duration_ms": 800}

``action`` is required and one of :data:`ACTIONS`; ``speed`` (percent of full motor power)
and ``duration_ms`` (how long the motors run before the robot stops them) are optional
integers within :data:`SPEED_RANGE` and :data:`DURATION_MS_RANGE`; when left out the robot
applies its own configured defaults. No other field is accepted. ``stop`` accepts the
same fields and ignores speed and duration.

:data:`COMMAND_SCHEMA` is the same rule set as a draft-04 JSON schema: the stack uses it
for the API Gateway request model, the function checks again here (defence in depth, and
the function can be invoked without API Gateway).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Mapping

ACTIONS = ("forward", "backwards", "left", "right", "stop")
SPEED_RANGE = (0, 100)
DURATION_MS_RANGE = (1, 10_000)
MAX_BODY_BYTES = 1024

COMMAND_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "DriveCommand",
    "description": "A drive command for the telepresence robot.",
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": list(ACTIONS)},
        "speed": {"type": "integer", "minimum": SPEED_RANGE[0], "maximum": SPEED_RANGE[1]},
        "duration_ms": {"type": "integer", "minimum": DURATION_MS_RANGE[0], "maximum": DURATION_MS_RANGE[1]},
    },
    "required": ["action"],
    "additionalProperties": False,
}


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


@dataclass(frozen=True)
class DriveCommand:
    action: str
    speed: int | None = None
    duration_ms: int | None = None

    def payload(self) -> dict[str, Any]:
        """The message published to ``<robot>/action``: only the fields the caller gave."""
        message: dict[str, Any] = {"action": self.action}
        if self.speed is not None:
            message["speed"] = self.speed
        if self.duration_ms is not None:
            message["duration_ms"] = self.duration_ms
        return message


def action_topic(robot_name: str) -> str:
    """The topic the robot subscribes to (and the only one its IoT policy lets it receive)."""
    return f"{robot_name}/action"


def read_json_object(body: str | None, is_base64: bool = False) -> dict[str, Any]:
    if body is None or body == "":
        raise BadRequest("request body is required")
    try:
        raw = base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        raise BadRequest("request body must be valid JSON") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"request body must be at most {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("request body must be valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("request body must be a JSON object")
    return parsed


def _bounded_integer(body: Mapping[str, Any], name: str, bounds: tuple[int, int]) -> int | None:
    if name not in body:
        return None
    value = body[name]
    low, high = bounds
    # bool is an int in Python but not an integer in JSON schema; 5.0 is not one in draft-04.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer between {low} and {high}")
    if not low <= value <= high:
        raise BadRequest(f"'{name}' must be between {low} and {high}, got {value}")
    return value


def parse_command(body: Mapping[str, Any]) -> DriveCommand:
    """Validate a decoded body against the rules of :data:`COMMAND_SCHEMA`."""
    unknown = sorted(set(body) - set(COMMAND_SCHEMA["properties"]))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    if "action" not in body:
        raise BadRequest("'action' is required")
    action = body["action"]
    if not isinstance(action, str) or action not in ACTIONS:
        raise BadRequest(f"'action' must be one of {', '.join(ACTIONS)}")
    return DriveCommand(action=action, speed=_bounded_integer(body, "speed", SPEED_RANGE),
                        duration_ms=_bounded_integer(body, "duration_ms", DURATION_MS_RANGE))
