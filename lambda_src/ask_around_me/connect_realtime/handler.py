"""POST /realtime/session: the caller's Cognito identity, allowed to use the app's IoT topics.

1. GetId with the caller's JWT (already verified by the HTTP API authorizer) gives the
   identity of that token and no other;
2. AttachPolicy gives that identity the app's IoT policy (idempotent);
3. 200 with the endpoint, client-id prefix and topics. The browser then gets credentials
   for the identity (GetCredentialsForIdentity with the same token) and connects over
   MQTT/WebSocket with SigV4.

Environment: IDENTITY_POOL_ID, JWT_ISSUER (login provider of the identity pool),
IOT_POLICY_NAME, IOT_DATA_ENDPOINT, TOPIC_PREFIX.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from .logic import Unauthorized, bearer_token, login_provider_name, session

logger = Logger()
tracer = Tracer()
metrics = Metrics()

identities = boto3.client("cognito-identity")
iot = boto3.client("iot")

# GetId's answers for a token the identity pool will not accept (wrong token type or audience).
_REFUSED_TOKEN = ("NotAuthorizedException", "InvalidParameterException", "ResourceNotFoundException")


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        token = bearer_token(event.get("headers"))
    except Unauthorized as error:
        metrics.add_metric(name="Unauthorized", unit=MetricUnit.Count, value=1)
        return _response(401, {"message": str(error)})
    try:
        identity_id = identities.get_id(
            IdentityPoolId=os.environ["IDENTITY_POOL_ID"],
            Logins={login_provider_name(os.environ["JWT_ISSUER"]): token})["IdentityId"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in _REFUSED_TOKEN:
            raise
        logger.warning("identity pool refused the token", extra={"error": error.response["Error"]["Code"]})
        metrics.add_metric(name="RefusedTokens", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": "the identity pool does not accept this token: send the ID token "
                                          "issued to the app's client"})
    iot.attach_policy(policyName=os.environ["IOT_POLICY_NAME"], target=identity_id)
    metrics.add_metric(name="RealtimeSessions", unit=MetricUnit.Count, value=1)
    return _response(200, session(identity_id=identity_id, endpoint=os.environ["IOT_DATA_ENDPOINT"],
                                  region=os.environ["AWS_REGION"], prefix=os.environ["TOPIC_PREFIX"]))
