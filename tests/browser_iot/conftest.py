"""The browser IoT functions (lambda_src/browser_iot) against moto: Cognito identity pools, IoT."""
from __future__ import annotations

import os
from typing import Iterator

# The root conftest already keeps the AWS SDKs away from real accounts; these serve the
# functions' Powertools, read when their modules are imported.
os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "browser-iot",
                   "POWERTOOLS_METRICS_NAMESPACE": "BrowserIot", "POWERTOOLS_LOG_LEVEL": "WARNING"})

import pytest
from moto import mock_aws

from tests.support.lambda_context import FakeLambdaContext

REGION = "us-east-1"
IOT_ENDPOINT = "data-ats.iot.us-east-1.amazonaws.com"


@pytest.fixture
def world() -> Iterator[None]:
    """Every AWS call of the test goes to moto (the functions' module clients included)."""
    with mock_aws():
        yield


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
