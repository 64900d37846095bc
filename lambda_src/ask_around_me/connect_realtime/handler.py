"""POST /realtime/session: the caller's Cognito identity, allowed to use the app's IoT topics.

1. GetId with the caller's JWT (already verified by the HTTP API authorizer) gives the
   identity of that token and no other;
2. AttachPolicy gives that identity the app's IoT policy (idempotent);
3. 200 with the endpoint, client-id prefix and topics. The browser then gets credentials
   for the identity (GetCredentialsForIdentity with the same token) and connects over
   MQTT/WebSocket with SigV4.

Environment: IDENTITY_POOL_ID, LOGIN_PROVIDER (the identity pool's name for the JWT issuer,
the key of ``Logins``: set by the stack), IOT_POLICY_NAME, IOT_DATA_ENDPOINT, TOPIC_PREFIX.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ..shared.handlers import count, http_handler, logger
from ..shared.http import json_response
from .logic import bearer_token, session

identities = boto3.client("cognito-identity")
iot = boto3.client("iot")

# GetId's answers for a token the identity pool will not accept (wrong token type or audience).
_REFUSED_TOKEN = ("NotAuthorizedException", "InvalidParameterException", "ResourceNotFoundException")


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = bearer_token(event.get("headers"))
    try:
        identity_id = identities.get_id(
            IdentityPoolId=os.environ["IDENTITY_POOL_ID"],
            Logins={os.environ["LOGIN_PROVIDER"]: token})["IdentityId"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in _REFUSED_TOKEN:
            raise
        logger.warning("identity pool refused the token", extra={"error": error.response["Error"]["Code"]})
        count("RefusedTokens")
        return json_response(400, {"message": "the identity pool does not accept this token: send the ID token "
                                              "issued to the app's client"})
    iot.attach_policy(policyName=os.environ["IOT_POLICY_NAME"], target=identity_id)
    count("RealtimeSessions")
    return json_response(200, session(identity_id=identity_id, endpoint=os.environ["IOT_DATA_ENDPOINT"],
                                      region=os.environ["AWS_REGION"], prefix=os.environ["TOPIC_PREFIX"]))
