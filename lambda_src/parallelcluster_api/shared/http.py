"""HTTP for the REST API routes (Lambda proxy integration): errors, responses, the caller, the
body and the parameters. Pure: no boto3.

A route raises :class:`ApiError` (or a subclass); ``handlers.api_handler`` turns it into its
status and body, ``{"message": ...}`` plus any fields of the spec's richer error bodies.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Mapping

from ..routes import Parameter, Route
from ..schema import ModelError, parse, python_pattern, shown

MAX_NESTING = 16
MAX_NUMBER_LENGTH = 40
MAX_SUBJECT_LENGTH = 256  # a tag value's limit: the subject becomes the owner tag of the cluster
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE, _FALSE = frozenset({"true"}), frozenset({"false"})


class ApiError(Exception):
    """A request answered with ``status`` and ``{"message": message, **fields}``."""

    status = 500
    metric = "Errors"

    def __init__(self, message: str, *, status: int | None = None, **fields: Any) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.fields = {key: value for key, value in fields.items() if value is not None}

    @property
    def body(self) -> dict[str, Any]:
        return {"message": str(self), **self.fields}


class BadRequest(ApiError):
    status = 400
    metric = "RejectedRequests"


class Unauthorized(ApiError):
    status = 401
    metric = "Unauthorized"


class Forbidden(ApiError):
    status = 403
    metric = "Forbidden"


class NotFound(ApiError):
    status = 404
    metric = "NotFound"


class Conflict(ApiError):
    status = 409
    metric = "Conflicts"


class GatewayTimeout(ApiError):
    status = 504
    metric = "UpstreamTimeouts"


def json_response(status: int, body: Any = None) -> dict[str, Any]:
    """A Lambda proxy response; a ``None`` body has neither body nor content type."""
    response: dict[str, Any] = {"statusCode": status, "headers": {"Cache-Control": "no-store"}}
    if body is not None:
        response["headers"]["Content-Type"] = "application/json"
        response["body"] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return response


@dataclass(frozen=True)
class Caller:
    """Who calls, as the TOKEN authorizer verified it (``requestContext.authorizer``)."""

    sub: str
    scopes: frozenset[str]
    client_id: str | None
    admin: bool

    def may_see(self, owner: str | None) -> bool:
        return self.admin or (owner is not None and owner == self.sub)


def caller_of(event: Mapping[str, Any], *, admin_scope: str) -> Caller:
    """The caller, or :class:`Unauthorized` when the authorizer left no usable subject (the API is
    misconfigured: every method has the authorizer)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    sub = context.get("sub") if isinstance(context, Mapping) else None
    if (not isinstance(sub, str) or not sub or len(sub) > MAX_SUBJECT_LENGTH or _CONTROL.search(sub)
            or sub != sub.strip()):
        raise Unauthorized("missing or unusable caller identity")
    raw_scopes = context.get("scopes")
    scopes = frozenset(raw_scopes.split()) if isinstance(raw_scopes, str) else frozenset()
    client_id = context.get("clientId")
    return Caller(sub=sub, scopes=scopes, client_id=client_id if isinstance(client_id, str) and client_id else None,
                  admin=admin_scope in scopes)


def read_body_text(event: Mapping[str, Any], *, max_bytes: int, required: bool = True) -> str:
    """The request body as text, refused when missing (if ``required``), larger than ``max_bytes``
    (checked before any decoding), invalid base64 (``isBase64Encoded``) or not UTF-8."""
    body = event.get("body")
    if body is None or body == "":
        if required:
            raise BadRequest("request body is required")
        return ""
    if not isinstance(body, str):
        raise BadRequest("request body must be text")
    too_large = BadRequest(f"request body must be at most {max_bytes} bytes")
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
        raise BadRequest("request body is marked base64 but is not valid base64") from None
    if len(raw) > max_bytes:
        raise too_large
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body must be UTF-8") from None


def read_json_object(event: Mapping[str, Any], *, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object. Refused besides :func:`read_body_text`'s cases: invalid JSON,
    NaN or Infinity, a key repeated in any object, nesting deeper than MAX_NESTING, a number literal
    longer than MAX_NUMBER_LENGTH, an unpaired surrogate escape, anything but an object."""
    text = read_body_text(event, max_bytes=max_bytes)
    if _nesting(text) > MAX_NESTING:
        raise BadRequest(f"request body nests deeper than {MAX_NESTING} levels")
    try:
        parsed = json.loads(text, object_pairs_hook=_object_without_repeated_keys, parse_constant=_refuse_constant,
                            parse_int=_bounded(int), parse_float=_bounded(float))
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


def read_model(event: Mapping[str, Any], model: type, *, max_bytes: int) -> Any:
    """The JSON body as an instance of ``model`` (``schema.parse``), or BadRequest."""
    try:
        return parse(model, read_json_object(event, max_bytes=max_bytes))
    except ModelError as error:
        raise BadRequest(str(error)) from None


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


def header(event: Mapping[str, Any], name: str) -> str | None:
    """The header ``name`` (any case); BadRequest when it is sent more than once."""
    values = [value for key, value in (event.get("multiValueHeaders") or {}).items() if key.lower() == name.lower()
              for value in (value if isinstance(value, list) else [value])]
    if not values:
        values = [value for key, value in (event.get("headers") or {}).items() if key.lower() == name.lower()]
    if len(values) > 1:
        raise BadRequest(f"header {name} may be sent once")
    return values[0] if values else None


def _query_values(event: Mapping[str, Any]) -> dict[str, list[str]]:
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        return {key: list(values) for key, values in multi.items()}
    return {key: [value] for key, value in (event.get("queryStringParameters") or {}).items()}


def parameters(route: Route, event: Mapping[str, Any]) -> dict[str, Any]:
    """The route's path, query and header parameters that the request carries, validated and
    converted (bool, int, Enum member; a list for a repeatable query parameter).

    Refused with BadRequest: a query parameter the route does not have, a single-valued one
    repeated, a value of the wrong type, outside its enum, pattern, length or range, or holding a
    control character; a missing required parameter.
    """
    query = _query_values(event)
    known = {parameter.name for parameter in route.parameters_in("query")}
    unknown = sorted(name for name in query if name not in known)
    if unknown:
        raise BadRequest(f"unknown query parameter {shown(unknown[0])} (this route takes: "
                         f"{', '.join(sorted(known)) or 'none'})")
    values: dict[str, Any] = {}
    for parameter in route.parameters:
        if parameter.location == "query":
            raw = query.get(parameter.name)
            if raw is not None and not parameter.multi and len(raw) > 1:
                raise BadRequest(f"query parameter {parameter.name} may be given once")
        elif parameter.location == "path":
            value = (event.get("pathParameters") or {}).get(parameter.name)
            raw = None if value is None else [value]
        else:
            value = header(event, parameter.name)
            raw = None if value is None else [value]
        if raw is None:
            if parameter.required:
                raise BadRequest(f"{parameter.location} parameter {parameter.name} is required")
            continue
        converted = [convert(parameter, item) for item in raw]
        values[parameter.name] = list(dict.fromkeys(converted)) if parameter.multi else converted[0]
    return values


def convert(parameter: Parameter, raw: Any) -> Any:
    """One value of ``parameter`` from its text, or BadRequest naming the parameter."""
    where = f"{parameter.location} parameter {parameter.name}"
    if not isinstance(raw, str):
        raise BadRequest(f"{where} must be text")
    if parameter.max_length is not None and len(raw) > parameter.max_length:
        raise BadRequest(f"{where} may have at most {parameter.max_length} characters, got {len(raw)}")
    if _CONTROL.search(raw) or any(unicodedata.category(char) in ("Cf", "Cs", "Co") for char in raw):
        raise BadRequest(f"{where} holds a control or invisible character")
    kind = parameter.type
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise BadRequest(f"{where} must be true or false, got {shown(raw)}")
    if kind is int:
        if not re.fullmatch(r"-?[0-9]{1,10}", raw):
            raise BadRequest(f"{where} must be an integer, got {shown(raw)}")
        number = int(raw)
        if parameter.minimum is not None and number < parameter.minimum:
            raise BadRequest(f"{where} must be at least {parameter.minimum}, got {number}")
        if parameter.maximum is not None and number > parameter.maximum:
            raise BadRequest(f"{where} must be at most {parameter.maximum}, got {number}")
        return number
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(raw)
        except ValueError:
            raise BadRequest(f"{where} must be one of {', '.join(member.value for member in kind)}, "
                             f"got {shown(raw)}") from None
    if parameter.pattern is not None and not python_pattern(parameter.pattern).search(raw):
        raise BadRequest(f"{where} must match {parameter.pattern}, got {shown(raw)}")
    if parameter.format == "date-time":
        _check_timestamp(where, raw)
    return raw


def _check_timestamp(where: str, raw: str) -> None:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{where} must be an ISO 8601 date-time such as 2021-01-01T20:00:00Z, "
                         f"got {shown(raw)}") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{where} must carry a time zone (e.g. Z), got {shown(raw)}")
