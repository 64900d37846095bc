"""What the HTTP API routes share: request errors, the caller, the body, JSON responses. Pure: no boto3.

A route raises a :class:`RequestError`: :class:`BadRequest` (400), :class:`Unauthorized`
(401) or :class:`NotFound` (404); ``handlers.http_handler`` turns it into its JSON
response, ``{"message": str(error)}``, and counts it in its metric.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from typing import Any, Mapping


class RequestError(Exception):
    """A request answered with ``status`` (and counted in ``metric``); raise a subclass."""

    status: int
    metric: str


class BadRequest(RequestError, ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""

    status = 400
    metric = "RejectedRequests"


class Unauthorized(RequestError, ValueError):
    """The request carries no usable caller identity (401); the message is shown to the caller."""

    status = 401
    metric = "Unauthorized"


class NotFound(RequestError, LookupError):
    """What the request names does not exist (404); the message is shown to the caller."""

    status = 404
    metric = "NotFound"


def json_response(status: int, body: Any = None) -> dict[str, Any]:
    """An HTTP API response; a ``None`` body (e.g. 204) has neither body nor content type."""
    response: dict[str, Any] = {"statusCode": status}
    if body is not None:
        response.update(headers={"content-type": "application/json"}, body=json.dumps(body))
    return response


def caller_id(event: Mapping[str, Any]) -> str | None:
    """The user id: the ``sub`` claim the JWT authorizer verified (never the body or query)."""
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    except (KeyError, TypeError):
        return None
    return sub if isinstance(sub, str) and sub else None


def require_caller(event: Mapping[str, Any]) -> str:
    """:func:`caller_id`, or Unauthorized when the authorizer left none."""
    caller = caller_id(event)
    if caller is None:
        raise Unauthorized("missing caller identity")
    return caller


def read_json_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The request body (base64 or not) as a JSON object, or BadRequest."""
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("request body is required")
    try:
        text = base64.b64decode(body, validate=True).decode("utf-8") if event.get("isBase64Encoded") else body
        parsed = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("request body must be valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("request body must be a JSON object")
    return parsed


def canonical_uuid(value: Any) -> str | None:
    """The canonical form of a UUID string; None for anything else."""
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    return None


def question_id_of(path_parameters: Mapping[str, str] | None, name: str) -> str:
    """The question id in path parameter ``name``, or BadRequest."""
    raw = (path_parameters or {}).get(name)
    question_id = canonical_uuid(raw)
    if question_id is None:
        raise BadRequest(f"question id must be a UUID, got {raw!r}")
    return question_id


def coordinate(body: Mapping[str, Any], name: str, limit: float, *, required_for: str | None = None) -> float:
    """Body field ``name``: a finite number within +/- ``limit``, or BadRequest."""
    value = body.get(name)
    if value is None:
        raise BadRequest(f"'{name}' is required" + (f" for {required_for}" if required_for else ""))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"'{name}' must be a number")
    if not -limit <= value <= limit:
        raise BadRequest(f"'{name}' must be between {-limit:g} and {limit:g}, got {value}")
    return float(value)
