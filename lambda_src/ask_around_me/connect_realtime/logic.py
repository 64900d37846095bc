"""What a browser needs to open its real-time connection. Pure: no boto3.

The Cognito identity of the caller is found from the same JWT the HTTP API already
verified, so a caller can only ever be given their own identity; the IoT policy is then
attached to that identity (AWS IoT requires one for authenticated Cognito identities,
in addition to the identity pool role).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..shared.http import Unauthorized

_BEARER = "bearer "


def bearer_token(headers: Mapping[str, Any] | None) -> str:
    """The raw JWT of the ``Authorization`` header, with or without the ``Bearer`` scheme.

    Unauthorized when there is none (the authorizer should have refused the request)."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not isinstance(value, str) or not value.strip():
        raise Unauthorized("missing Authorization header")
    value = value.strip()
    if value.lower().startswith(_BEARER):
        value = value[len(_BEARER):].strip()
    if value.count(".") != 2:
        raise Unauthorized("the Authorization header does not hold a JWT")
    return value


def session(*, identity_id: str, endpoint: str, region: str, prefix: str) -> dict[str, Any]:
    """The connection settings and topic namespace for ``identity_id``."""
    return {
        "identityId": identity_id,
        "region": region,
        "iotEndpoint": endpoint,
        # Connect with clientIdPrefix + any suffix (one per tab or device).
        "clientIdPrefix": f"{prefix}-{identity_id}-",
        "topics": {
            "geo": f"{prefix}/geo/<geohash5>",
            "question": f"{prefix}/questions/<questionId>",
            "user": f"{prefix}/users/{identity_id}",
            "system": f"{prefix}/system",
        },
    }
