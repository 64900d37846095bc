"""The REST API: every route of ``routes.py``, each behind the TOKEN authorizer, one function each.

No route is public and no CORS preflight is answered: the API is for programs (CLIs, schedulers,
pipelines) that send a bearer token, not for browsers. A browser front end would need OPTIONS
methods and CORS headers on API Gateway's own error responses (``stacks.common.rest_api``).
"""
from __future__ import annotations

import json
import re
from typing import Mapping

from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from lambda_src.parallelcluster_api.routes import ROUTES, Route
from lambda_src.parallelcluster_api.schema import json_schema
from stacks.common.json_schema import api_gateway_schema
from stacks.common.lambda_function import PythonFunction
from stacks.common.rest_api import JSON, observed_rest_api
from stacks.common.token_authorizer import ThirdPartyTokenAuthorizer
from stacks.parallelcluster_api.config import ParallelClusterApiConfig

STAGE_NAME = "prod"
API_NAME = "parallelcluster"
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")

# Gateway response templates are not VTL: the validation error string would be pasted in raw
# and its quotes would break the JSON, so a refused body gets a fixed message.
INVALID_BODY_MESSAGE = ("Invalid request body: send a JSON object with the route's fields only "
                        "(clusterName matching ^[a-zA-Z][a-zA-Z0-9-]+$, clusterConfiguration as a YAML string)")
# The AWS managed common rule set blocks bodies over 8 KB (SizeRestrictions_BODY); cluster
# configurations are often larger, the legacy form's base64 a third more. That rule only
# counts here: the functions refuse bodies over MAX_BODY_BYTES themselves, with a 4xx and a message.
OVERSIZED_BODY_RULE = "SizeRestrictions_BODY"
COMMON_RULE_GROUP = "AWSManagedRulesCommonRuleSet"


_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}


def request_parameters(route: Route) -> dict[str, bool]:
    """The route's path (always required), query and header parameters, for API Gateway to check
    the required ones are there (it checks presence only; values are the function's to check)."""
    parameters = {f"method.request.path.{name}": True for name in _PATH_PARAMETER.findall(route.path)}
    parameters.update({f"method.request.{_LOCATIONS[p.location]}.{p.name}": p.required or p.location == "path"
                       for p in route.parameters})
    return parameters


class ParallelClusterRestApi(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: ParallelClusterApiConfig,
                 functions: Mapping[str, PythonFunction], authorizer: apigw.IAuthorizer) -> None:
        super().__init__(scope, id_)
        rest = observed_rest_api(
            self, api_name=API_NAME, description="ParallelCluster 3 API with multi-user ownership (/v3) and the "
                                                 "original post's POST /pcluster",
            stage_name=STAGE_NAME, rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit,
            log_retention_days=config.observability.log_retention_days,
            waf_requests_per_ip_per_5_min=config.waf_requests_per_ip_per_5_min)
        self.api, self.access_log, self.firewall = rest.api, rest.access_log, rest.firewall
        self._count_oversized_bodies()
        self.validator = self.api.add_request_validator("Validator", validate_request_body=True,
                                                        validate_request_parameters=True)
        self.models: dict[type, apigw.Model] = {}
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in ROUTES:
            model = self._model(route.request_model) if route.request_model else None
            method = self.api.root.resource_for_path(route.path).add_method(
                route.method,
                apigw.LambdaIntegration(functions[route.function].function, proxy=True, allow_test_invoke=False),
                authorization_type=apigw.AuthorizationType.CUSTOM, authorizer=authorizer,
                request_validator=self.validator, request_parameters=request_parameters(route),
                request_models={JSON: model} if model else None)
            ThirdPartyTokenAuthorizer.acknowledge_method(method)
            self.methods[(route.method, route.path)] = method
        # API Gateway's own answers (401, 403, 429, validation, 5xx) in the API's {"message"} shape;
        # its default 403 body says "Message".
        self.api.add_gateway_response("BadRequestBody", type=apigw.ResponseType.BAD_REQUEST_BODY, status_code="400",
                                      templates={JSON: json.dumps({"message": INVALID_BODY_MESSAGE})})
        for name, response_type in (("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                                    ("Default5xx", apigw.ResponseType.DEFAULT_5_XX)):
            self.api.add_gateway_response(name, type=response_type,
                                          templates={JSON: '{"message": $context.error.messageString}'})

    def _model(self, request_model: type) -> apigw.Model:
        if request_model not in self.models:
            self.models[request_model] = self.api.add_model(
                f"{request_model.__name__}Model", content_type=JSON, model_name=request_model.__name__,
                schema=api_gateway_schema(json_schema(request_model)))
        return self.models[request_model]

    def _count_oversized_bodies(self) -> None:
        rules = self.firewall.web_acl.rules
        (index,) = [i for i, rule in enumerate(rules) if rule.name == COMMON_RULE_GROUP]
        self.firewall.web_acl.add_property_override(
            f"Rules.{index}.Statement.ManagedRuleGroupStatement.RuleActionOverrides",
            [{"Name": OVERSIZED_BODY_RULE, "ActionToUse": {"Count": {}}}])
