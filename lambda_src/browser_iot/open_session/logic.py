"""What a browser needs to open its MQTT connection to AWS IoT Core. Pure: no boto3.

The caller's Cognito identity is found from the very JWT the API's authorizer verified, so a
caller is only ever given their own identity. The system's names come from the environment:

    IDENTITY_POOL_ID    the identity pool that exchanges the token for credentials
    LOGIN_PROVIDER      the pool's name for the token's issuer (the key of ``Logins``)
    IOT_POLICY_NAME     the IoT policy attached to the caller's identity
    IOT_DATA_ENDPOINT   the ATS data endpoint the browser connects to
    CLIENT_ID_PREFIX    client ids start ``<prefix>-<identity id>-`` (what the policy allows)
    SESSION_TOPICS      JSON object: a name for each topic the browser may receive, and the
                        topic, where ``{identityId}`` stands for the caller's identity id
    ALLOWED_ORIGINS     optional JSON list of web origins (REST API proxy answers carry CORS)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

_BEARER = "bearer "
IDENTITY_PLACEHOLDER = "{identityId}"


class MissingToken(ValueError):
    """No usable JWT in the request (the authorizer should have refused it): 401."""


def bearer_token(headers: Mapping[str, Any] | None) -> str:
    """The raw JWT of the ``Authorization`` header, with or without the ``Bearer`` scheme."""
    value = next((v for k, v in (headers or {}).items() if isinstance(k, str) and k.lower() == "authorization"),
                 None)
    if not isinstance(value, str) or not value.strip():
        raise MissingToken("missing Authorization header")
    value = value.strip()
    if value.lower().startswith(_BEARER):
        value = value[len(_BEARER):].strip()
    if value.count(".") != 2:
        raise MissingToken("the Authorization header does not hold a JWT")
    return value


@dataclass(frozen=True)
class SessionSettings:
    identity_pool_id: str
    login_provider: str
    policy_name: str
    endpoint: str
    region: str
    client_id_prefix: str
    topics: Mapping[str, str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SessionSettings:
        """The settings the stack wrote; KeyError or ValueError when it wrote them wrong."""
        topics = json.loads(environ["SESSION_TOPICS"])
        if not isinstance(topics, dict) or not all(isinstance(t, str) for t in topics.values()):
            raise ValueError("SESSION_TOPICS must be a JSON object of topic names")
        return cls(identity_pool_id=environ["IDENTITY_POOL_ID"], login_provider=environ["LOGIN_PROVIDER"],
                   policy_name=environ["IOT_POLICY_NAME"], endpoint=environ["IOT_DATA_ENDPOINT"],
                   region=environ["AWS_REGION"], client_id_prefix=environ["CLIENT_ID_PREFIX"], topics=topics)


def session(settings: SessionSettings, identity_id: str) -> dict[str, Any]:
    """The connection settings and topics for ``identity_id``: connect with ``clientIdPrefix``
    and any suffix (one per tab), subscribe to ``topics``."""
    return {
        "identityId": identity_id,
        "region": settings.region,
        "iotEndpoint": settings.endpoint,
        "clientIdPrefix": f"{settings.client_id_prefix}-{identity_id}-",
        "topics": {name: topic.replace(IDENTITY_PLACEHOLDER, identity_id) for name, topic in settings.topics.items()},
    }
