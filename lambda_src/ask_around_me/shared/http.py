"""What the HTTP API routes share: request errors, the caller, the body, JSON responses. Pure: no boto3.

A route raises a :class:`RequestError`: :class:`BadRequest` (400), :class:`Unauthorized`
(401) or :class:`NotFound` (404); ``handlers.http_handler`` turns it into its JSON
response, ``{"message": str(error)}``, and counts it in its metric.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Mapping

from suite_lib import strict_json

from .model import is_coordinate

# Limits on a request body, far above anything a client of this API sends (a question is
# under 1.5 KB even with every character escaped) and far below what could hurt the parser.
MAX_BODY_BYTES = 16 * 1024
MAX_NESTING = 10
# A number literal longer than this is refused before Python converts it: int() of a long
# digit string is slow, and past 4,300 digits json.loads raises ValueError.
MAX_NUMBER_LENGTH = 40
# Shown values are clipped so that a message never echoes a hostile input.
MAX_SHOWN = 40
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


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


def shown(value: Any) -> str:
    """``repr(value)`` for a message, clipped so that a huge input is never echoed whole."""
    if isinstance(value, int) and abs(value) >= 10 ** MAX_SHOWN:  # repr() of 4,300+ digits raises
        return "an integer of more than 40 digits"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def read_json_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest saying what is wrong with it.

    Refused: a missing, oversized (over MAX_BODY_BYTES, before any decoding), undecodable or
    non-UTF-8 body; JSON that is invalid, holds NaN or Infinity, repeats a key in any object,
    nests deeper than MAX_NESTING, holds a number literal longer than MAX_NUMBER_LENGTH or a
    string no UTF-8 encoder can write (an unpaired surrogate escape); anything but an object.
    A base64 body (``isBase64Encoded``) is decoded first and checked the same way.
    """
    try:
        return strict_json.read_object(event, max_bytes=MAX_BODY_BYTES, max_nesting=MAX_NESTING,
                                       max_number_length=MAX_NUMBER_LENGTH)
    except strict_json.InvalidBody as error:
        raise BadRequest(str(error)) from None


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
        raise BadRequest(f"question id must be a UUID, got {shown(raw)}")
    return question_id


def coordinate(body: Mapping[str, Any], name: str, limit: float, *, required_for: str | None = None) -> float:
    """Body field ``name``: a number within +/- ``limit`` (any size of integer is compared exactly),
    or BadRequest."""
    value = body.get(name)
    if value is None:
        raise BadRequest(f"'{name}' is required" + (f" for {required_for}" if required_for else ""))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"'{name}' must be a number")
    if not is_coordinate(value, limit):
        raise BadRequest(f"'{name}' must be between {-limit:g} and {limit:g}, got {shown(value)}")
    return float(value)
