"""The HTTP API (payload format 2.0): JWT on every route, CORS, throttling, JSON access log."""
from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.ask_around_me.functions import ask_around_me_function
from stacks.ask_around_me.processing import QuestionQueues
from stacks.ask_around_me.storage import AskAroundMeTables
from stacks.common.api_logging import ApiAccessLog, ApiFlavor
from stacks.common.lambda_function import PythonFunction

GET, POST, DELETE = apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST, apigwv2.HttpMethod.DELETE
# Routes whose every call writes: throttled below the stage default.
WRITE_ROUTES = ("POST /questions", "POST /answers", "DELETE /answers/{questionId}", "POST /realtime/session")
MAX_SEARCH_RESULTS = 100


# The encryption context of an answers page token (lambda_src/ask_around_me/get_answers/logic.py).
PAGE_TOKEN_PURPOSE = "answers-page"
PAGE_TOKEN_CONTEXT_KEYS = ("questionId", "purpose")


def page_token_context_condition() -> dict:
    """The key may be used only under the page-token context: this purpose, a question id,
    and no other key, so the grant cannot serve any other encryption."""
    return {"StringEquals": {"kms:EncryptionContext:purpose": PAGE_TOKEN_PURPOSE},
            "Null": {"kms:EncryptionContext:questionId": "false"},
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": list(PAGE_TOKEN_CONTEXT_KEYS)}}


@dataclass(frozen=True)
class JwtIssuer:
    """Who signs the tokens the API accepts: the issuer URL (the ``iss`` claim, verbatim), the
    audiences (client ids), and the name the identity pool knows it by (its ``Logins`` key)."""
    url: str
    audience: tuple[str, ...]
    login_provider: str


class AskAroundMeApi(Construct):
    """The HTTP API; CORS answers ``allowed_origins`` (the configured ones, with the stack's own
    web client first: ``stacks.common.static_site.cors_origins``)."""

    def __init__(self, scope: Construct, id_: str, *, config: AskAroundMeConfig, issuer: JwtIssuer,
                 tables: AskAroundMeTables, queues: QuestionQueues, allowed_origins: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        retention = config.observability.log_retention_days
        questions, answers = tables.questions, tables.answers

        self.api = apigwv2.HttpApi(
            self, "HttpApi", description="Ask Around Me: location-based questions and answers",
            create_default_stage=False,
            default_authorizer=authorizers.HttpJwtAuthorizer("Jwt", issuer.url, jwt_audience=list(issuer.audience)),
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(allowed_origins),
                allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST,
                               apigwv2.CorsHttpMethod.DELETE, apigwv2.CorsHttpMethod.OPTIONS],
                allow_headers=["authorization", "content-type"],
                max_age=cdk.Duration.hours(1)))
        self.access_log = ApiAccessLog(self, "AccessLog", flavor=ApiFlavor.HTTP, api_name="ask-around-me",
                                       retention_days=retention)
        self.stage = apigwv2.HttpStage(
            self, "DefaultStage", http_api=self.api, stage_name="$default", auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=config.throttle_rate_limit,
                                              burst_limit=config.throttle_burst_limit))
        cfn_stage: apigwv2.CfnStage = self.stage.node.default_child  # type: ignore[assignment]
        cfn_stage.access_log_settings = self.access_log.http_settings
        # A free-form JSON property: CloudFormation's own key names, not a typed struct.
        cfn_stage.route_settings = {
            route: {"ThrottlingRateLimit": config.post_rate_limit, "ThrottlingBurstLimit": config.post_burst_limit}
            for route in WRITE_ROUTES}
        self.url = self.api.api_endpoint

        def function(id_: str, name: str, description: str, environment: dict[str, str]) -> PythonFunction:
            return ask_around_me_function(self, id_, name=name, description=description,
                                          log_retention_days=retention, environment=environment)

        self.post_question = function("PostQuestion", "post_question", "POST /questions: queue a new question",
                                      {"QUESTIONS_QUEUE_URL": queues.questions.queue.queue_url})
        self.post_question.function.add_to_role_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[queues.questions.queue.queue_arn]))

        self.post_answer = function("PostAnswer", "post_answer", "POST /answers: queue an answer by type", {
            "STAR_ANSWERS_QUEUE_URL": queues.star_answers.queue.queue_url,
            "GEO_ANSWERS_QUEUE_URL": queues.geo_answers.queue.queue_url,
            "QUESTIONS_TABLE_NAME": questions.table_name})
        self.post_answer.function.add_to_role_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"],
            resources=[queues.star_answers.queue.queue_arn, queues.geo_answers.queue.queue_arn]))
        self.post_answer.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem"], resources=[questions.table_arn]))

        self.list_questions = function("ListQuestions", "list_questions",
                                       "GET /questions: open questions within 8 km, nearest first", {
                                           "QUESTIONS_TABLE_NAME": questions.table_name,
                                           "QUESTIONS_CELL_INDEX_NAME": tables.CELL_INDEX,
                                           "QUESTION_OPEN_HOURS": str(config.question_open_hours),
                                           "MAX_RESULTS": str(MAX_SEARCH_RESULTS)})
        self.list_questions.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[tables.cell_index_arn]))

        # Page tokens are the next page's start key (another user's id) encrypted under a
        # context naming the question: opaque to clients and valid for that question only.
        self.page_token_key = kms.Key(
            self, "PageTokenKey", enable_key_rotation=True, pending_window=cdk.Duration.days(7),
            removal_policy=cdk.RemovalPolicy.DESTROY,  # tokens only: nothing else is encrypted with it
            description=f"Encrypts the answers page tokens of {cdk.Stack.of(self).stack_name}")
        self.get_answers = function("GetAnswers", "get_answers", "GET /questions/{id}/answers",
                                    {"ANSWERS_TABLE_NAME": answers.table_name,
                                     "QUESTIONS_TABLE_NAME": questions.table_name,
                                     "PAGE_TOKEN_KEY_ARN": self.page_token_key.key_arn})
        self.get_answers.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[answers.table_arn]))
        # One GetItem tells an unknown question (404) from one without answers.
        self.get_answers.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem"], resources=[questions.table_arn]))
        self.get_answers.function.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt"], resources=[self.page_token_key.key_arn],
            conditions=page_token_context_condition()))

        self.get_heatmap = function("GetHeatmap", "get_heatmap", "GET /questions/{id}/heatmap",
                                    {"QUESTIONS_TABLE_NAME": questions.table_name})
        self.get_heatmap.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem"], resources=[questions.table_arn]))

        self.delete_answer = function("DeleteAnswer", "delete_answer",
                                      "DELETE /answers/{questionId}: remove the caller's own answer",
                                      {"ANSWERS_TABLE_NAME": answers.table_name})
        self.delete_answer.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:DeleteItem"], resources=[answers.table_arn]))

        for path, method, handler in (
                ("/questions", GET, self.list_questions),
                ("/questions", POST, self.post_question),
                ("/questions/{id}/answers", GET, self.get_answers),
                ("/questions/{id}/heatmap", GET, self.get_heatmap),
                ("/answers", POST, self.post_answer),
                ("/answers/{questionId}", DELETE, self.delete_answer)):
            self.route(path, method, handler)

    def route(self, path: str, method: apigwv2.HttpMethod, handler: PythonFunction) -> None:
        integration = integrations.HttpLambdaIntegration(f"{handler.node.id}Integration", handler.function)
        for route in self.api.add_routes(path=path, methods=[method], integration=integration):
            # The stage's per-route settings name routes that must exist when it is created.
            self.stage.node.add_dependency(route)
