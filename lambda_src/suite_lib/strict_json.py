"""Reading a request body that attackers and broken clients wrote: strictly, with limits.

Refused, each with a message a caller can act on (:class:`InvalidBody`): no body when one is
required; a body over the size limit (checked before any decoding, base64 included); invalid
base64 or UTF-8; invalid JSON; NaN or Infinity; a key repeated in any object (json.loads would
keep the last one silently); nesting deeper than the limit (checked before parsing, since
json.loads recurses once per level); a number literal longer than the limit (int() of thousands
of digits is slow, and huge numbers overflow float checks downstream); an unpaired UTF-16
surrogate escape (no UTF-8 encoder, DynamoDB included, can write it); anything but an object.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any, Mapping

MAX_SHOWN = 40
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class InvalidBody(ValueError):
    """The body breaks a rule; the message says which (and is safe to show the caller)."""


def shown(value: Any) -> str:
    """``repr(value)`` for a message, clipped (repr of a 4,300-digit int raises, so not that)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_SHOWN:
        return f"an integer of more than {MAX_SHOWN} digits"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def body_text(event: Mapping[str, Any], *, max_bytes: int, required: bool = True) -> str:
    """The proxy event's body as text (base64 decoded when ``isBase64Encoded``)."""
    body = event.get("body")
    if body is None or body == "":
        if required:
            raise InvalidBody("request body is required")
        return ""
    if not isinstance(body, str):
        raise InvalidBody("request body must be text")
    too_large = InvalidBody(f"request body must be at most {max_bytes} bytes")
    if event.get("isBase64Encoded") is not True:
        # Characters never outnumber bytes: the first test spares encoding a huge body.
        if len(body) > max_bytes or len(body.encode("utf-8", "surrogatepass")) > max_bytes:
            raise too_large
        return body
    if len(body) > 4 * math.ceil(max_bytes / 3):
        raise too_large
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise InvalidBody("request body is marked base64 but is not valid base64") from None
    if len(raw) > max_bytes:
        raise too_large
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidBody("request body must be UTF-8") from None


def parse_object(text: str, *, max_nesting: int, max_number_length: int) -> dict[str, Any]:
    """``text`` as a JSON object, by the rules above."""
    if nesting(text) > max_nesting:
        raise InvalidBody(f"request body nests deeper than {max_nesting} levels")
    try:
        parsed = json.loads(text, object_pairs_hook=_object_without_repeated_keys, parse_constant=_refuse_constant,
                            parse_int=_bounded(int, max_number_length), parse_float=_bounded(float, max_number_length))
    except json.JSONDecodeError as error:
        raise InvalidBody(f"request body must be valid JSON ({error.msg} at line {error.lineno} "
                          f"column {error.colno})") from None
    if not isinstance(parsed, dict):
        raise InvalidBody("request body must be a JSON object")
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidBody("request body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff) that is not "
                          "a character") from None
    return parsed


def read_object(event: Mapping[str, Any], *, max_bytes: int, max_nesting: int,
                max_number_length: int) -> dict[str, Any]:
    """The proxy event's body as a JSON object: :func:`body_text`, then :func:`parse_object`."""
    return parse_object(body_text(event, max_bytes=max_bytes), max_nesting=max_nesting,
                        max_number_length=max_number_length)


def nesting(text: str) -> int:
    """How deep arrays and objects nest, brackets inside strings aside."""
    depth = deepest = 0
    for bracket in _NOT_A_BRACKET.sub("", _JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidBody(f"request body repeats the key {shown(key)}: each key may appear once per object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise InvalidBody("request body must be valid JSON (NaN and Infinity are not JSON numbers)")


def _bounded(convert: Any, max_length: int) -> Any:
    def number(literal: str) -> Any:
        if len(literal) > max_length:
            raise InvalidBody(f"numbers in the request body may have at most {max_length} characters, "
                              f"got one of {len(literal)}")
        return convert(literal)
    return number
