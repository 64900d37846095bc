"""CORS on responses a Lambda proxy integration of a REST API returns itself (API Gateway adds
nothing to them): the request's ``Origin`` is echoed when it is one of the allowed origins,
else the first allowed origin is sent, so a browser on another site cannot read the answer.
"""
from __future__ import annotations

import json
from functools import cache
from typing import Any, Mapping


@cache
def allowed_origins(setting: str) -> tuple[str, ...]:
    """The origins of a JSON list (the function's ``ALLOWED_ORIGINS``); none when it is not one."""
    try:
        origins = json.loads(setting) if setting else []
    except ValueError:
        return ()
    if not isinstance(origins, list):
        return ()
    return tuple(origin for origin in origins if isinstance(origin, str) and origin)


def request_origin(event: Mapping[str, Any]) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, dict):
        return None
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "origin":
            return value
    return None


def json_response(event: Mapping[str, Any], status: int, body: Any, *, origins_setting: str) -> dict[str, Any]:
    """A proxy integration's JSON answer, never cached, with the CORS headers ``origins_setting``
    allows (``["*"]`` sends ``*``; an empty or invalid setting sends none)."""
    headers = {"content-type": "application/json", "cache-control": "no-store"}
    allowed = allowed_origins(origins_setting)
    if allowed == ("*",):
        headers["access-control-allow-origin"] = "*"
    elif allowed:
        origin = request_origin(event)
        headers["access-control-allow-origin"] = origin if origin in allowed else allowed[0]
        headers["vary"] = "Origin"
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}
