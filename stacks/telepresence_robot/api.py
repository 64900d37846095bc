"""The drive API: ``POST /publish`` for signed-in users, validated, published to the robot;
``POST /session`` readies a signed-in viewer's identity for the robot's telemetry over MQTT.

API Gateway checks the Cognito id token and the body (a JSON schema model built from the
drive function's own rules) before the function runs; the function checks again and
publishes to ``<robot>/action``. A refused body gets ``400 {"message": ...}`` from API
Gateway itself, with CORS headers so the web app can read it; nothing is published.
"""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from lambda_src.telepresence_robot.drive import logic as drive
from stacks.common.json_schema import api_gateway_schema
from stacks.common.lambda_function import PythonFunction
from stacks.common.rest_api import (
    JSON,
    PREFLIGHT_REASON,
    acknowledge_unauthenticated,
    body_validator,
    cognito_authorizer,
    cors_gateway_responses,
    observed_rest_api,
)
from stacks.telepresence_robot.config import TelepresenceRobotConfig

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "telepresence_robot" / "drive"
STAGE_NAME = "prod"
PUBLISH_PATH = "publish"
SESSION_PATH = "session"

INVALID_COMMAND_MESSAGE = (
    f"Invalid drive command: send a JSON object with 'action' (one of {', '.join(drive.ACTIONS)}) and "
    f"optionally the integers 'speed' ({drive.SPEED_RANGE[0]}-{drive.SPEED_RANGE[1]}) and 'duration_ms' "
    f"({drive.DURATION_MS_RANGE[0]}-{drive.DURATION_MS_RANGE[1]}), and nothing else")


def command_schema() -> apigw.JsonSchema:
    """The request model: ``drive.logic.COMMAND_SCHEMA`` itself, so the API and the function
    can never disagree (a stop with any extra fields passes both)."""
    return api_gateway_schema(drive.COMMAND_SCHEMA)


class DriveApi(Construct):
    """REST API in front of the drive function (``POST /publish``) and the viewers' session
    function (``POST /session``, stacks/common/browser_iot.py), both for signed-in users.

    ``allowed_origins`` are the CORS origins, the primary first: the one on responses API
    Gateway generates itself, which cannot echo one of several (the configured origins with the
    stack's own web client first, ``stacks.common.static_site.cors_origins``)."""

    def __init__(self, scope: Construct, id_: str, *, config: TelepresenceRobotConfig, robot_name: str,
                 user_pool: cognito.IUserPool, data_endpoint: str, action_topic_arn: str,
                 allowed_origins: tuple[str, ...], session_function: PythonFunction) -> None:
        super().__init__(scope, id_)
        self.function = PythonFunction(
            self, "Drive", entry=FUNCTION_DIR, service_name=f"telepresence-robot-{robot_name}",
            metrics_namespace="TelepresenceRobot", log_retention_days=config.observability.log_retention_days,
            description=f"POST /publish: publishes drive commands to {robot_name}/action",
            environment={"ROBOT_NAME": robot_name, "IOT_DATA_ENDPOINT": data_endpoint,
                         "ALLOWED_ORIGINS": json.dumps(list(allowed_origins))})
        self.function.role.add_to_principal_policy(iam.PolicyStatement(
            sid="PublishToOwnRobotsActionTopicOnly", actions=["iot:Publish"], resources=[action_topic_arn]))

        rest = observed_rest_api(
            self, api_name="drive", description=f"Drive robot {robot_name}: POST /publish, POST /session",
            stage_name=STAGE_NAME,
            rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit,
            log_retention_days=config.observability.log_retention_days,
            waf_requests_per_ip_per_5_min=config.waf_requests_per_ip_per_5_min)
        self.api, self.access_log, self.firewall = rest.api, rest.access_log, rest.firewall
        self.authorizer = cognito_authorizer(self, user_pool)
        self.validator = body_validator(self.api)
        self.command_model = self.api.add_model(
            "DriveCommandModel", content_type=JSON, model_name="DriveCommand", schema=command_schema())
        # Gateway response templates are not VTL: $context.error.validationErrorString would be
        # pasted in raw and its quotes would break the JSON, so the message is a fixed one.
        cors_gateway_responses(self.api, primary_origin=allowed_origins[0],
                               bad_request_body=json.dumps({"message": INVALID_COMMAND_MESSAGE}))

        publish = self.api.root.add_resource(PUBLISH_PATH)
        self.publish_method = publish.add_method(
            "POST", apigw.LambdaIntegration(self.function.function, proxy=True),
            authorization_type=apigw.AuthorizationType.COGNITO, authorizer=self.authorizer,
            request_validator=self.validator, request_models={JSON: self.command_model})
        self._allow_browsers(publish, allowed_origins)
        self.publish_url = self.api.url_for_path(f"/{PUBLISH_PATH}")

        # No body is read: the caller's id token is all the session function needs.
        session = self.api.root.add_resource(SESSION_PATH)
        self.session_method = session.add_method(
            "POST", apigw.LambdaIntegration(session_function.function, proxy=True),
            authorization_type=apigw.AuthorizationType.COGNITO, authorizer=self.authorizer)
        self._allow_browsers(session, allowed_origins)
        self.session_url = self.api.url_for_path(f"/{SESSION_PATH}")

    @staticmethod
    def _allow_browsers(resource: apigw.Resource, allowed_origins: tuple[str, ...]) -> None:
        preflight = resource.add_cors_preflight(
            allow_origins=list(allowed_origins), allow_methods=["POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"], max_age=cdk.Duration.minutes(10), status_code=204)
        acknowledge_unauthenticated(preflight, PREFLIGHT_REASON)
