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
import re
import uuid
from typing import Any, Mapping

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
    text = _body_text(event)
    if _nesting(text) > MAX_NESTING:
        raise BadRequest(f"request body nests deeper than {MAX_NESTING} levels")
    try:
        parsed = json.loads(text, object_pairs_hook=_object_without_repeated_keys,
                            parse_constant=_refuse_constant, parse_int=_bounded(int), parse_float=_bounded(float))
    except json.JSONDecodeError as error:
        raise BadRequest(f"request body must be valid JSON ({error.msg} at line {error.lineno} "
                         f"column {error.colno})") from None
    if not isinstance(parsed, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("request body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff) that is not "
                         "a character") from None
    return parsed


def _body_text(event: Mapping[str, Any]) -> str:
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("request body is required")
    if not isinstance(body, str):
        raise BadRequest("request body must be text")
    too_large = BadRequest(f"request body must be at most {MAX_BODY_BYTES} bytes")
    if event.get("isBase64Encoded") is not True:
        # Characters never outnumber bytes: the first test spares encoding a huge body.
        if len(body) > MAX_BODY_BYTES or len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
            raise too_large
        return body
    if len(body) > 4 * math.ceil(MAX_BODY_BYTES / 3):
        raise too_large
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise BadRequest("request body is marked base64 but is not valid base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body must be UTF-8") from None


def _nesting(text: str) -> int:
    """How deep arrays and objects nest, brackets inside strings aside (checked before parsing,
    as json.loads recurses once per level)."""
    depth = deepest = 0
    for bracket in _NOT_A_BRACKET.sub("", _JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"request body repeats the key {shown(key)}: each key may appear once per object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise BadRequest("request body must be valid JSON (NaN and Infinity are not JSON numbers)")


def _bounded(convert: Any) -> Any:
    def number(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_LENGTH:
            raise BadRequest(f"numbers in the request body may have at most {MAX_NUMBER_LENGTH} characters, "
                             f"got one of {len(literal)}")
        return convert(literal)
    return number


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
