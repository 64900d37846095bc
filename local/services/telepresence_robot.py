"""The robot's drive API: the real drive function behind the REST API's Cognito authorizer and
body model; its IoT publish goes to the local broker (``<robot>/action``), where
``python -m device.robot`` configured for the broker can receive it."""
from __future__ import annotations

from local.apigw.rest_api_emulator import RestApiEmulator
from local.services import StackRuntime, rest_api_handler
from local.settings import TELEPRESENCE_ROBOT, Settings


def start(settings: Settings) -> StackRuntime:
    runtime = StackRuntime(settings, TELEPRESENCE_ROBOT)
    functions = runtime.load_functions(mqtt=True)
    _, stage = runtime.template.one("AWS::ApiGateway::Stage")
    emulator = RestApiEmulator(runtime.template.document, resolver=runtime.resolve,
                               functions={logical_id: f.invoke for logical_id, f in functions.items()},
                               authorizer=runtime.cognito_authorizer(), stage=stage.get("StageName", "prod"))
    runtime.serve("robot-api", settings.ports["robot_api"], rest_api_handler(emulator))
    return runtime
