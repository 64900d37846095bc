"""Drive commands: the JSON schema, validation and the MQTT payload. Pure: no boto3.

A command is a JSON object::

    {"action": "forward", "speed": 60, "duration_ms": 800}

``action`` is required and one of :data:`ACTIONS`; ``speed`` (percent of full motor power)
and ``duration_ms`` (how long the motors run before the robot stops them) are optional
integers within :data:`SPEED_RANGE` and :data:`DURATION_MS_RANGE`; when left out the robot
applies its own configured defaults. No other field is accepted.

A stop is never refused for what else it carries: a body whose ``action`` is ``"stop"`` is
published as ``{"action": "stop"}`` and the other fields are reported back as ignored.

The body is read strictly (RFC 8259): at most :data:`MAX_BODY_BYTES`, one JSON object, no
field twice (``{"action": "stop", "action": "forward"}`` has no meaning anyone can rely
on), no ``NaN`` or ``Infinity``, no nesting deeper than the parser's stack. A body that
cannot be read so is refused even when it mentions ``stop``: the caller learns that
nothing was sent and sends a plain stop again.

:data:`COMMAND_SCHEMA` is the same rule set as a draft-04 JSON schema: the stack uses it
for the API Gateway request model, the function checks again here (defence in depth, and
the function can be invoked without API Gateway).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Mapping

STOP = "stop"
MOVING_ACTIONS = ("forward", "backwards", "left", "right")
ACTIONS = (*MOVING_ACTIONS, STOP)
SPEED_RANGE = (0, 100)
DURATION_MS_RANGE = (1, 10_000)
FIELDS = ("action", "speed", "duration_ms")
MAX_BODY_BYTES = 1024

COMMAND_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "DriveCommand",
    "description": "A drive command for the telepresence robot. A stop is never refused: its other fields are ignored.",
    "type": "object",
    "properties": {"action": {"type": "string", "enum": list(ACTIONS)}},
    "required": ["action"],
    "anyOf": [
        {"properties": {"action": {"enum": [STOP]}}},
        {
            "properties": {
                "action": {"enum": list(MOVING_ACTIONS)},
                "speed": {"type": "integer", "minimum": SPEED_RANGE[0], "maximum": SPEED_RANGE[1]},
                "duration_ms": {"type": "integer", "minimum": DURATION_MS_RANGE[0],
                                "maximum": DURATION_MS_RANGE[1]},
            },
            "additionalProperties": False,
        },
    ],
}


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


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


_JSON_TYPE_NAMES = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}


@dataclass(frozen=True)
class DriveCommand:
    action: str
    speed: int | None = None
    duration_ms: int | None = None
    ignored_fields: tuple[str, ...] = ()  # a stop's other fields, dropped from the payload

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


def read_json_object(body: Any, is_base64: bool = False) -> dict[str, Any]:
    """The proxy event's ``body`` (a string, base64 when ``is_base64``) as a JSON object, read strictly."""
    if body is None or body == "":
        raise BadRequest("request body is required")
    if not isinstance(body, str):
        # Already decoded by someone else's parser: duplicates and size are no longer ours to check.
        kind = _JSON_TYPE_NAMES.get(type(body), type(body).__name__)
        raise BadRequest(f"the event's body must be the request body as a string of JSON, got {kind}")
    try:
        raw = base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
    except ValueError:  # binascii.Error, non-ASCII base64, lone surrogates: all ValueErrors
        raise BadRequest("request body must be valid JSON") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"request body must be at most {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(raw.decode("utf-8"), object_pairs_hook=_object_without_duplicates,
                            parse_constant=_refuse_constant)
    except _DuplicateField as duplicate:
        raise BadRequest(f"request body has the field {ascii(duplicate.name)} more than once") from None
    except _NonStandardNumber as number:
        raise BadRequest(f"request body must be valid JSON: {number.literal} is not a JSON number") from None
    except RecursionError:
        raise BadRequest("request body is nested too deeply") from None
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
    if body.get("action") == STOP:
        return DriveCommand(action=STOP, ignored_fields=tuple(sorted(set(body) - {"action"})))
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(map(ascii, unknown))}")
    if "action" not in body:
        raise BadRequest("'action' is required")
    action = body["action"]
    if not isinstance(action, str) or action not in ACTIONS:
        raise BadRequest(f"'action' must be one of {', '.join(ACTIONS)}")
    return DriveCommand(action=action, speed=_bounded_integer(body, "speed", SPEED_RANGE),
                        duration_ms=_bounded_integer(body, "duration_ms", DURATION_MS_RANGE))
