"""The URL shortener's REST API: its mapping templates against DynamoDB on moto, no function.

The Cognito authorizer verifies ID tokens of the local issuer's ``UrlShortener`` pool; the
stage's root is the server's root, so ``GET /{linkId}`` is also the short-link base.
"""
from __future__ import annotations

from local.apigw.rest_api_emulator import RestApiEmulator, dynamodb_service
from local.services import StackRuntime, rest_api_handler
from local.settings import URL_SHORTENER, Settings


def start(settings: Settings) -> StackRuntime:
    runtime = StackRuntime(settings, URL_SHORTENER)
    _, stage = runtime.template.one("AWS::ApiGateway::Stage")
    emulator = RestApiEmulator(runtime.template.document, resolver=runtime.resolve,
                               services={"dynamodb": dynamodb_service(runtime.client("dynamodb"))},
                               authorizer=runtime.cognito_authorizer(), stage=stage.get("StageName", "prod"))
    runtime.serve("shortener-api", settings.ports["shortener_api"], rest_api_handler(emulator))
    return runtime
