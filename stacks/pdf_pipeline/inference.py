"""The inference stage's edge: ``POST /inference`` as an AWS service integration to SageMaker
Runtime ``InvokeEndpoint`` (the post: calling the endpoint through API Gateway avoided throttling
and doubled throughput), and the model's read access to the page images."""
from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.common.json_schema import api_gateway_schema
from stacks.common.nag import acknowledge
from stacks.pdf_pipeline.storage import IMAGES_PREFIX

JSON = "application/json"
INFERENCE_PATH = "inference"
# The request the model endpoint receives: where the page image is (the model reads it itself).
INFERENCE_REQUEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "InferenceRequest",
    "type": "object",
    "properties": {
        "bucket": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"},
        "key": {"type": "string", "minLength": 1, "maxLength": 1024},
    },
    "required": ["bucket", "key"],
    "additionalProperties": False,
}
# SageMaker's error type header (``ThrottlingException`` arrives as a 400), passed to the caller.
ERROR_TYPE = "X-Amzn-ErrorType"
# SageMaker Runtime's statuses, by what a caller should do: 429 (ModelNotReady) and 5xx are worth
# retrying, 424 is the model's own error, any other 4xx is the request's (or throttling, see above).
# Non-Lambda integrations select a response by the backend's status code.
_ERROR_RESPONSES = (("429", "429"), ("424", "424"), (r"5\d{2}", "503"), (r"4(?!2[49])\d{2}", "400"))


@dataclass(frozen=True)
class InferenceRoute:
    method: apigw.Method
    role: iam.Role
    url: str          # what invoke_model signs and POSTs to
    invoke_arn: str   # execute-api:Invoke on exactly POST /inference of the stage


def add_inference_route(scope: Construct, api: apigw.RestApi, *, endpoint_name: str,
                        validator: apigw.RequestValidator) -> InferenceRoute:
    """``POST /inference`` (IAM auth) -> ``arn:aws:apigateway:<region>:runtime.sagemaker:path/
    endpoints/<name>/invocations``, through a role that may invoke that one endpoint."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(scope, "InferenceIntegrationRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                    description=f"API Gateway calls SageMaker endpoint {endpoint_name} for POST /{INFERENCE_PATH}")
    # SageMaker writes endpoint names in lower case in their ARNs.
    endpoint_arn = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower())
    role.add_to_principal_policy(iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[endpoint_arn]))
    error_parameters = {f"method.response.header.{ERROR_TYPE}": f"integration.response.header.{ERROR_TYPE}"}
    integration = apigw.AwsIntegration(
        service="runtime.sagemaker", path=f"endpoints/{endpoint_name}/invocations", integration_http_method="POST",
        options=apigw.IntegrationOptions(
            credentials_role=role,
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            request_parameters={"integration.request.header.Content-Type": f"'{JSON}'",
                                "integration.request.header.Accept": f"'{JSON}'"},
            request_templates={JSON: "$input.body"},
            integration_responses=[
                apigw.IntegrationResponse(status_code="200"),
                *(apigw.IntegrationResponse(status_code=status, selection_pattern=pattern,
                                            response_parameters=error_parameters)
                  for pattern, status in _ERROR_RESPONSES)]))
    model = api.add_model("InferenceRequestModel", content_type=JSON, model_name="InferenceRequest",
                          schema=api_gateway_schema(INFERENCE_REQUEST_SCHEMA))
    method = api.root.add_resource(INFERENCE_PATH).add_method(
        "POST", integration, authorization_type=apigw.AuthorizationType.IAM,
        request_validator=validator, request_models={JSON: model},
        method_responses=[apigw.MethodResponse(status_code="200"),
                          *(apigw.MethodResponse(status_code=status,
                                                 response_parameters={f"method.response.header.{ERROR_TYPE}": False})
                            for _, status in _ERROR_RESPONSES)])
    acknowledge(method, "AwsSolutions-COG4",
                "IAM (SigV4) authorization: only the pipeline's invoke_model function may call it, with its "
                "role's credentials; there are no end users to sign in through Cognito.")
    stage = api.deployment_stage.stage_name
    return InferenceRoute(method=method, role=role, url=api.url_for_path(f"/{INFERENCE_PATH}"),
                          invoke_arn=api.arn_for_execute_api("POST", f"/{INFERENCE_PATH}", stage))


def grant_model_read(images: s3.Bucket, role_arn: str) -> None:
    """The model's execution role may read the page images (a bucket policy statement, so it
    works for a role of this or another account)."""
    images.add_to_resource_policy(iam.PolicyStatement(
        sid="ModelReadsPageImages", principals=[iam.ArnPrincipal(role_arn)], actions=["s3:GetObject"],
        resources=[images.arn_for_objects(f"{IMAGES_PREFIX}*")]))
