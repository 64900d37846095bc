"""The Mars API: the real display_data function, NASA replaced by a local fake serving fixtures.

The API key the usage plan requires is :data:`local.settings.MARS_API_KEY` (``x-api-key``);
the photo is converted and stored in moto's S3, and the answer's presigned URL points there.
"""
from __future__ import annotations

from local.apigw.rest_api_emulator import RestApiEmulator
from local.services import StackRuntime, rest_api_handler
from local.services.fake_nasa import FakeNasa
from local.settings import MARS_API_KEY, MARS_WEATHER, Settings


def start(settings: Settings) -> StackRuntime:
    runtime = StackRuntime(settings, MARS_WEATHER)
    nasa = FakeNasa()
    runtime.servers.append(nasa.server)
    functions = runtime.load_functions(nasa.function_environment())
    _, stage = runtime.template.one("AWS::ApiGateway::Stage")
    emulator = RestApiEmulator(runtime.template.document, resolver=runtime.resolve,
                               functions={logical_id: f.invoke for logical_id, f in functions.items()},
                               api_keys=[MARS_API_KEY], stage=stage.get("StageName", "prod"))
    runtime.serve("mars-api", settings.ports["mars_api"], rest_api_handler(emulator))
    return runtime
