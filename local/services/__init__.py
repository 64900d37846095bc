"""One stack's API on loopback, in its own process: ``python -m local.services <system>``.

A process per stack, like the functions' own containers: each sets its functions'
environment (from the template) once, without the other stacks' values. The runtime here
provisions the stack's resources in moto, loads its functions with the SDK hooks in place
(:mod:`local.aws`, :mod:`local.iot`), serves the API and its event source mappings, and
stops on SIGTERM or SIGINT, or when the process that started it is gone.
"""
from __future__ import annotations

import functools
import logging
import os
import signal
import threading
from typing import Any, Callable

import boto3

from local.apigw.authorizers import CognitoUserPools
from local.apigw.http_api_emulator import HttpApiEmulator
from local.apigw.rest_api_emulator import RestApiEmulator
from local.aws import IOT_DATA_SERVICE_ID, apply_sdk_environment, install_sdk_hooks
from local.cfn import Resolver, Template
from local.httpserver import LocalServer, Request, Response
from local.iot import BrokerPublisher, publish_hook
from local.lambdas import LambdaFunction, apply_environment, functions_of
from local.provision import provision, user_pool_names
from local.pumps import Pump
from local.settings import BIND_HOST, REGION, Settings

log = logging.getLogger("local.services")

PARENT_CHECK_SECONDS = 1.0


def function_overrides() -> dict[str, str]:
    """Local settings of every function: no X-Ray daemon, metrics not printed, quieter logs."""
    return {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("LOCAL_FUNCTION_LOG_LEVEL", "WARNING")}


class StackRuntime:
    """One stack in this process: resources in moto, functions loaded, servers and pumps."""

    def __init__(self, settings: Settings, stack_name: str) -> None:
        self.settings = settings
        apply_sdk_environment(settings.moto_url)
        self.template = Template.load(settings.assembly, stack_name)
        self._session = boto3.session.Session(region_name=REGION)
        self.client: Callable[[str], Any] = functools.cache(self._session.client)
        self.names = provision(self.template, self.client, settings.issuer_base)
        self.resolve = Resolver(self.names)
        self.stop = threading.Event()
        self.publisher: BrokerPublisher | None = None
        self.servers: list[LocalServer] = []
        self.pumps: list[Pump] = []

    def load_functions(self, overrides: dict[str, str] | None = None, *, mqtt: bool = False
                       ) -> dict[str, LambdaFunction]:
        functions = functions_of(self.template, self.resolve, overrides={**function_overrides(), **(overrides or {})})
        apply_environment(functions)
        hooks = {}
        if mqtt:
            self.publisher = BrokerPublisher(BIND_HOST, self.settings.ports["mqtt"],
                                             client_id=f"local-{self.template.stack_name.lower()}")
            hooks[f"before-send.{IOT_DATA_SERVICE_ID}.Publish"] = publish_hook(self.publisher)
        install_sdk_hooks(self.settings.moto_url, hooks)
        for function in functions.values():
            function.load()
        return functions

    def cognito_authorizer(self) -> CognitoUserPools:
        pools = user_pool_names(self.template, self.settings.issuer_base).values()
        return CognitoUserPools({pool.arn: pool.issuer for pool in pools})

    def queue_urls(self) -> dict[str, str]:
        return {self.names[f"{logical_id}.Arn"]: self.names[logical_id]
                for logical_id in self.template.of_type("AWS::SQS::Queue")}

    def serve(self, name: str, port: int, handle: Callable[[Request], Response]) -> LocalServer:
        server = LocalServer(name, port, handle).start()
        self.servers.append(server)
        return server

    def run(self) -> None:
        """Serve until SIGTERM, SIGINT or the parent process's end; then stop everything."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        parent = os.getppid()
        for pump in self.pumps:
            pump.start()
        log.info("%s serving", self.template.stack_name)
        while not self.stop.wait(PARENT_CHECK_SECONDS):
            if os.getppid() != parent:
                log.warning("%s: the parent process is gone; stopping", self.template.stack_name)
                break
        self.stop.set()
        for server in self.servers:
            server.stop()
        for pump in self.pumps:
            pump.join(5)
        if self.publisher is not None:
            self.publisher.close()


def rest_api_handler(emulator: RestApiEmulator) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        headers = dict(request.header_items)
        query = {name: values[-1] for name, values in request.query.items()}
        body = request.body.decode("utf-8", "replace") if request.body else None
        answer = emulator.request(request.method, request.path, body=body, headers=headers, query=query,
                                  source_ip=request.client_ip, user_agent=request.header("user-agent") or "")
        return Response(answer.status, answer.body, answer.headers)

    return handle


def http_api_handler(emulator: HttpApiEmulator) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        answer = emulator.request(request.method, request.path, raw_query=request.raw_query,
                                  headers=request.header_items, body=request.body, source_ip=request.client_ip)
        return Response(answer.status, answer.body, answer.headers)

    return handle
