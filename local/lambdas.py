"""The stack's Lambda functions, run in-process from their source as the template describes them.

A function's ``Handler`` (``ask_around_me.post_question.handler.handler``) names a module of
its bundle; the bundle's root is the folder of ``lambda_src`` holding that top-level package
(``lambda_src`` itself, or a system's folder such as ``lambda_src/telepresence_robot``), and
``suite_lib`` comes from ``lambda_src`` as in every bundle. The function's environment comes
from the template (references resolved to the local resources); a service process runs the
functions of one stack and sets their environment once, refusing two functions that need
different values for one variable.

An invocation gets a context with the function's name, memory and remaining time (from
``Timeout``). A function that raises, or runs longer than its timeout (Lambda would have
stopped it), is a function error: :class:`~local.apigw.rest_api_emulator.FunctionFailed`.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from local.apigw.rest_api_emulator import FunctionFailed
from local.cfn import Resolver, Template
from local.settings import ACCOUNT_ID, REGION, ROOT

log = logging.getLogger("local.lambda")
LAMBDA_SOURCES = ROOT / "lambda_src"


class EnvironmentConflict(ValueError):
    """Two functions of one service process need different values for one variable."""


@dataclass
class LambdaContext:
    """The context object of an invocation, with what Powertools and the handlers read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass
class LambdaFunction:
    logical_id: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: float
    memory_mb: int
    # One invocation at a time, as in a Lambda execution environment: the handlers keep
    # per-invocation state in module globals (Powertools' BatchProcessor, Logger keys), and the
    # functions of a stack share modules here, so a stack's process runs one invocation at a time.
    lock: threading.Lock = field(default_factory=threading.Lock)
    _entry: Callable[[Any, Any], Any] | None = None

    def load(self) -> None:
        module_name, _, attribute = self.handler.rpartition(".")
        _add_bundle_root(module_name.split(".")[0])
        self._entry = getattr(importlib.import_module(module_name), attribute)

    def invoke(self, event: Any) -> Any:
        if self._entry is None:
            raise RuntimeError(f"{self.logical_id} is not loaded")
        with self.lock:
            return self._invoke(self._entry, event)

    def _invoke(self, entry: Callable[[Any, Any], Any], event: Any) -> Any:
        context = LambdaContext(self.logical_id, self.memory_mb, self.timeout_seconds)
        try:
            answer = entry(event, context)
        except Exception as error:
            log.exception("%s failed (request %s)", self.logical_id, context.aws_request_id)
            raise FunctionFailed(f"{self.logical_id}: {error}") from error
        elapsed = time.monotonic() - context.started
        if elapsed > self.timeout_seconds:
            log.error("%s: Task timed out after %.2f seconds (request %s)", self.logical_id, elapsed,
                      context.aws_request_id)
            raise FunctionFailed(f"{self.logical_id} timed out")
        return answer


def functions_of(template: Template, resolve: Resolver, *,
                 overrides: Mapping[str, str] | None = None) -> dict[str, LambdaFunction]:
    """Every Python function of the stack, {logical id: function}, environment resolved and
    ``overrides`` applied (local observability settings); CDK's Node.js helpers are left out."""
    functions: dict[str, LambdaFunction] = {}
    shared = threading.Lock()
    for logical_id, props in template.of_type("AWS::Lambda::Function").items():
        if not str(props.get("Runtime", "")).startswith("python"):
            continue
        variables = (props.get("Environment") or {}).get("Variables") or {}
        environment = {name: str(value) for name, value in resolve(variables).items()}
        environment.update(overrides or {})
        functions[logical_id] = LambdaFunction(logical_id, props["Handler"], environment,
                                               float(props.get("Timeout", 3)), int(props.get("MemorySize", 128)),
                                               lock=shared)
    return functions


def apply_environment(functions: Mapping[str, LambdaFunction], environ: Any = os.environ) -> None:
    """Set the functions' variables in this process, once for all of them."""
    merged: dict[str, tuple[str, str]] = {}
    for function in functions.values():
        for name, value in function.environment.items():
            if name in merged and merged[name][1] != value:
                raise EnvironmentConflict(f"{merged[name][0]} and {function.logical_id} need different values "
                                          f"of {name} ({merged[name][1]!r}, {value!r}): run them apart")
            merged[name] = (function.logical_id, value)
    environ.update({name: value for name, (_, value) in merged.items()})


def _add_bundle_root(package: str) -> None:
    if str(LAMBDA_SOURCES) not in sys.path:
        sys.path.append(str(LAMBDA_SOURCES))  # suite_lib, and packages at the top of lambda_src
    roots = [path.parent for path in (LAMBDA_SOURCES / package, *LAMBDA_SOURCES.glob(f"*/{package}"))
             if (path / "__init__.py").exists()]
    if len(roots) != 1:
        raise LookupError(f"expected one package {package!r} under {LAMBDA_SOURCES}, found {len(roots)}")
    root = str(roots[0])
    if root not in sys.path:
        sys.path.append(root)

