"""How every Ask Around Me function is built: one place for its name, namespace and logs."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import aws_cdk as cdk
from constructs import Construct

from stacks.common.lambda_function import PythonFunction

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "ask_around_me"
SERVICE_NAME = "ask-around-me"
METRICS_NAMESPACE = "AskAroundMe"
DEFAULT_TIMEOUT = cdk.Duration.seconds(10)


def ask_around_me_function(scope: Construct, id_: str, *, name: str, description: str,
                           log_retention_days: int, environment: Mapping[str, str],
                           timeout: cdk.Duration = DEFAULT_TIMEOUT) -> PythonFunction:
    """The function of ``lambda_src/ask_around_me/<name>/``, bundled with the whole system
    package (its ``shared`` modules): the handler is ``ask_around_me.<name>.handler.handler``."""
    return PythonFunction(scope, id_, entry=FUNCTIONS_DIR / name, package_root=FUNCTIONS_DIR,
                          service_name=SERVICE_NAME, metrics_namespace=METRICS_NAMESPACE,
                          log_retention_days=log_retention_days, description=description,
                          environment=environment, timeout=timeout)
