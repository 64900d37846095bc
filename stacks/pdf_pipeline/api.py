"""The pipeline's REST API: IAM (SigV4) authorization on every method, request validation, TLS 1.2+."""
from __future__ import annotations

import json

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.common.json_schema import api_gateway_schema
from stacks.common.nag import acknowledge
from stacks.common.rest_api import body_validator, observed_rest_api
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.inference import InferenceRoute, add_inference_route

JSON = "application/json"
STAGE_NAME = "prod"
MAX_PREFIXES = 100
S3_KEY_MAX_BYTES = 1024
# POST /batches: {"prefixes": [...], "bucket"?: ...}; start_batch checks the bucket against the allowlist.
START_BATCH_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "StartBatch",
    "type": "object",
    "properties": {
        "prefixes": {"type": "array", "minItems": 1, "maxItems": MAX_PREFIXES, "uniqueItems": True,
                     "items": {"type": "string", "minLength": 1, "maxLength": S3_KEY_MAX_BYTES}},
        "bucket": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"},
    },
    "required": ["prefixes"],
    "additionalProperties": False,
}
# Gateway response templates are not VTL-escaped: $context.error.validationErrorString would be
# pasted in raw and its quotes could break the JSON, so the message is a fixed one.
INVALID_BODY_MESSAGE = "Invalid request body: see the method's JSON schema in docs/pdf_pipeline.md"
_IAM_ONLY = ("IAM (SigV4) authorization: operators and the pipeline's own functions sign with their AWS "
             "credentials; there are no end users to sign in through Cognito.")


class PipelineApi(Construct):
    """``POST /batches``, ``GET /batches/{batchId}``, ``GET /reports/{name}`` and, with inference,
    ``POST /inference``; every method requires SigV4-signed requests (``execute-api:Invoke``)."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig) -> None:
        super().__init__(scope, id_)
        rest = observed_rest_api(
            self, api_name="api", description="PDF pipeline: start and watch batches, read reports, inference",
            stage_name=STAGE_NAME, rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit,
            log_retention_days=config.observability.log_retention_days,
            waf_requests_per_ip_per_5_min=config.waf_requests_per_ip_per_5_min)
        self.api, self.access_log, self.firewall = rest.api, rest.access_log, rest.firewall
        self.validator = body_validator(self.api)
        self.api.add_gateway_response("BadRequestBody", type=apigw.ResponseType.BAD_REQUEST_BODY, status_code="400",
                                      templates={JSON: json.dumps({"message": INVALID_BODY_MESSAGE})})
        self.inference: InferenceRoute | None = None
        if config.inference.enabled:
            self.inference = add_inference_route(self, self.api, endpoint_name=config.inference.endpoint_name,
                                                 validator=self.validator)
        self.url = self.api.url

    def add_batch_routes(self, *, start_batch: lambda_.IFunction, batch_status: lambda_.IFunction,
                         reports: lambda_.IFunction) -> None:
        batches = self.api.root.add_resource("batches")
        start_model = self.api.add_model("StartBatchModel", content_type=JSON, model_name="StartBatch",
                                         schema=api_gateway_schema(START_BATCH_SCHEMA))
        self.start_batch_method = self._method(batches, "POST", start_batch, request_models={JSON: start_model})
        self.batch_status_method = self._method(
            batches.add_resource("{batchId}"), "GET", batch_status,
            request_parameters={"method.request.path.batchId": True})
        self.report_method = self._method(
            self.api.root.add_resource("reports").add_resource("{name}"), "GET", reports,
            request_parameters={"method.request.path.name": True})

    def _method(self, resource: apigw.IResource, http_method: str, function: lambda_.IFunction,
                **options) -> apigw.Method:
        method = resource.add_method(http_method, apigw.LambdaIntegration(function, proxy=True),
                                     authorization_type=apigw.AuthorizationType.IAM,
                                     request_validator=self.validator, **options)
        acknowledge(method, "AwsSolutions-COG4", _IAM_ONLY)
        return method

