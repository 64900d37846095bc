"""The whole suite: one stack per system, the quality gates over all of them."""
from __future__ import annotations

import os
from typing import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw

from stacks.account.stack import STACK_NAME as API_GATEWAY_ACCOUNT
from stacks.account.stack import ApiGatewayAccountStack
from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.ask_around_me.stack import AskAroundMeStack
from stacks.common.config import ContextBlock
from stacks.common.environment import deployment_environment
from stacks.common.nag import apply_quality_gates
from stacks.mars_weather.config import MarsWeatherConfig
from stacks.mars_weather.stack import MarsWeatherStack
from stacks.parallelcluster_api.config import ParallelClusterApiConfig
from stacks.parallelcluster_api.outputs import STACK_NAME as PARALLELCLUSTER_API
from stacks.parallelcluster_api.stack import ParallelClusterApiStack
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.stack import PdfPipelineStack
from stacks.telepresence_robot.config import TelepresenceRobotConfig
from stacks.telepresence_robot.config import stack_name as telepresence_robot_stack
from stacks.telepresence_robot.stack import TelepresenceRobotStack
from stacks.url_shortener.config import UrlShortenerConfig
from stacks.url_shortener.stack import EDGE_REGION, UrlShortenerEdgeMonitoringStack, UrlShortenerStack

URL_SHORTENER = "UrlShortener"
URL_SHORTENER_EDGE = "UrlShortenerEdgeMonitoring"
ASK_AROUND_ME = "AskAroundMe"
MARS_WEATHER = "MarsWeather"
PDF_PIPELINE = "PdfPipeline"


def suite_app(**props) -> cdk.App:
    """The CDK app every entry point (app.py, tests, benchmarks) builds the suite in.

    CDK's built-in CloudFormation template validation is off: its WebAssembly rule engine
    costs about 1.5 s of every synth (85 % of the synth phase, profiled with
    ``NODE_OPTIONS=--cpu-prof``), and it checks what cfn-lint already checks, stricter, over
    every template in ``make lint`` (no warning allowed). cdk-nag runs inside synth as before.
    """
    return cdk.App(builtin_cloud_formation_validation=False, **props)


def build_suite(app: cdk.App, environ: Mapping[str, str] = os.environ) -> dict[str, cdk.Stack]:
    """Add every system's stack to ``app``; configuration errors raise before anything is built."""
    env = deployment_environment(app.node, environ)
    shortener_config = UrlShortenerConfig.from_context(app.node)
    ask_around_me_config = AskAroundMeConfig.from_context(app.node)
    mars_config = MarsWeatherConfig.from_context(app.node)
    telepresence_config = TelepresenceRobotConfig.from_context(app.node)
    pdf_config = PdfPipelineConfig.from_context(app.node)
    parallelcluster_config = ParallelClusterApiConfig.from_context(app.node)
    account_settings = ContextBlock.from_node(app.node, "apiGatewayAccount")
    manage_cloudwatch_role = account_settings.boolean("manageCloudWatchRole", True)
    account_settings.reject_unknown_keys()

    stacks: dict[str, cdk.Stack] = {}
    needs_edge_stack = env.region is not None and env.region != EDGE_REGION
    shortener = UrlShortenerStack(app, URL_SHORTENER, config=shortener_config, env=env,
                                  cross_region_references=needs_edge_stack)
    stacks[URL_SHORTENER] = shortener
    if needs_edge_stack:
        stacks[URL_SHORTENER_EDGE] = UrlShortenerEdgeMonitoringStack(
            app, URL_SHORTENER_EDGE, shortener=shortener, config=shortener_config,
            env=cdk.Environment(account=env.account, region=EDGE_REGION), cross_region_references=True)
    stacks[ASK_AROUND_ME] = AskAroundMeStack(app, ASK_AROUND_ME, config=ask_around_me_config, env=env)
    stacks[MARS_WEATHER] = MarsWeatherStack(app, MARS_WEATHER, config=mars_config, env=env)
    stacks[PDF_PIPELINE] = PdfPipelineStack(app, PDF_PIPELINE, config=pdf_config, env=env)
    stacks[PARALLELCLUSTER_API] = ParallelClusterApiStack(app, PARALLELCLUSTER_API, config=parallelcluster_config,
                                                          env=env)
    for robot in telepresence_config.robots:  # one stack per robot: TelepresenceRobot-<robot>
        name = telepresence_robot_stack(robot)
        stacks[name] = TelepresenceRobotStack(app, name, config=telepresence_config, robot_name=robot, env=env)

    if manage_cloudwatch_role:
        _give_rest_api_stages_the_account_logging_role(app, stacks, env)

    for stack in stacks.values():
        cdk.Tags.of(stack).add("project", "serverless-reference-systems")
        cdk.Tags.of(stack).add("system", stack.stack_name)
    apply_quality_gates(app)
    return stacks


def _give_rest_api_stages_the_account_logging_role(app: cdk.App, stacks: dict[str, cdk.Stack],
                                                  env: cdk.Environment) -> None:
    """One ApiGatewayAccount stack per account and region, deployed before any stack whose
    REST API stages log (the CLI deploys a stack's dependencies first)."""
    with_rest_api = [stack for stack in stacks.values()
                     if any(isinstance(child, apigw.RestApi) for child in stack.node.find_all())]
    if not with_rest_api:
        return
    account = ApiGatewayAccountStack(app, API_GATEWAY_ACCOUNT, env=env)
    for stack in with_rest_api:  # all in ``env``: only the edge monitoring stack lives elsewhere
        stack.add_stack_dependency(account, "REST API stages log through the account's API Gateway CloudWatch role")
    stacks[API_GATEWAY_ACCOUNT] = account
