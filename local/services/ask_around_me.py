"""Ask Around Me's HTTP API: the real handlers in-process, the queues and streams pumped.

Routes, JWT authorizer and CORS come from the template; the functions write moto's DynamoDB
and SQS; the event source mappings feed the SQS consumers (save_question, save_answer) and
the stream consumers (aggregate_answers, publish_updates), whose IoT publishes go to the
local broker. ``POST /realtime/session`` runs the real session function (open_session) against moto's
Cognito identity pool and IoT policy (locally the browser connects to the broker's
WebSocket listener instead, without credentials).
"""
from __future__ import annotations

from local.apigw.http_api_emulator import HttpApiEmulator
from local.pumps import pumps_for
from local.services import StackRuntime, http_api_handler
from local.settings import ASK_AROUND_ME, Settings


def start(settings: Settings) -> StackRuntime:
    runtime = StackRuntime(settings, ASK_AROUND_ME)
    functions = runtime.load_functions(mqtt=True)
    invoke = {logical_id: function.invoke for logical_id, function in functions.items()}
    emulator = HttpApiEmulator(runtime.template, resolver=runtime.resolve, functions=invoke)
    runtime.pumps = pumps_for(runtime.template, runtime.resolve, functions=invoke, clients=runtime.client,
                              queue_urls=runtime.queue_urls(), stop=runtime.stop)
    runtime.serve("askaroundme-api", settings.ports["askaroundme_api"], http_api_handler(emulator))
    return runtime
