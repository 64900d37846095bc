"""POST <session route>: the caller's Cognito identity may now receive the system's IoT topics.

1. GetId with the caller's JWT (already verified by the API's authorizer) gives the identity
   of that token and no other;
2. AttachPolicy gives that identity the system's IoT policy (idempotent);
3. 200 with the endpoint, client-id prefix and topics (logic.py). The browser then gets
   credentials for the identity (GetCredentialsForIdentity with the same token) and connects
   over MQTT on WebSocket, signed with SigV4.

Answers: 401 without a JWT; 400 when the identity pool refuses the token (not the ID token of
the system's app client); 503 when Cognito or IoT fail or are slow (the browser retries). The
SDK calls are bounded so the answer comes well inside the function's timeout. Works behind an
HTTP API (payload 2.0) or a REST API proxy integration: both carry ``headers``.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from suite_lib import cors, sdk_timeouts

from .logic import MissingToken, SessionSettings, bearer_token, session

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Two calls of at most 2 attempts of (1 s connect + 2 s read) each, backoff included: about
# 13 s in the worst case, inside the function's 20 s timeout and API Gateway's 29 s.
_BOUNDED = Config(**sdk_timeouts.api_call())
identities = boto3.client("cognito-identity", config=_BOUNDED)
iot = boto3.client("iot", config=_BOUNDED)

# GetId's answers for a token the identity pool will not accept (wrong token type or audience).
REFUSED_TOKEN = ("NotAuthorizedException", "InvalidParameterException", "ResourceNotFoundException")
REFUSED_TOKEN_MESSAGE = "the identity pool does not accept this token: send the ID token issued to the app's client"
UNAVAILABLE_MESSAGE = "the real-time service could not be reached; try again"


def _answer(event: dict[str, Any], status: int, body: dict[str, Any]) -> dict[str, Any]:
    return cors.json_response(event, status, body, origins_setting=os.environ.get("ALLOWED_ORIGINS", ""))


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: Any, context: Any) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    settings = SessionSettings.from_environment(os.environ)
    try:
        token = bearer_token(event.get("headers") if isinstance(event.get("headers"), dict) else None)
    except MissingToken as error:
        _count("MissingTokens")
        return _answer(event, 401, {"message": str(error)})
    try:
        identity_id = identities.get_id(IdentityPoolId=settings.identity_pool_id,
                                        Logins={settings.login_provider: token})["IdentityId"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in REFUSED_TOKEN:
            return _unavailable(event, "GetId")
        logger.warning("identity pool refused the token", extra={"error": code})
        _count("RefusedTokens")
        return _answer(event, 400, {"message": REFUSED_TOKEN_MESSAGE})
    except BotoCoreError:
        return _unavailable(event, "GetId")
    try:
        iot.attach_policy(policyName=settings.policy_name, target=identity_id)
    except (BotoCoreError, ClientError):
        return _unavailable(event, "AttachPolicy")
    _count("RealtimeSessions")
    return _answer(event, 200, session(settings, identity_id))


def _unavailable(event: dict[str, Any], call: str) -> dict[str, Any]:
    logger.exception("the session could not be set up", extra={"call": call})
    _count("SessionFailures")
    return _answer(event, 503, {"message": UNAVAILABLE_MESSAGE})
