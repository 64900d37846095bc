"""A moto world for the ParallelCluster API: its two tables and its state machine, pcluster.lib faked
at the adapter's edge, API Gateway REST proxy events with the TOKEN authorizer's context, and an
in-process run of the ClusterOperation workflow.

The environment is set at import time, before any function module is imported.
"""
from __future__ import annotations

import base64
import importlib
import json
import os
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

REGION = "us-east-1"
ACCOUNT = "123456789012"
OPERATIONS_TABLE = "Operations"
CLUSTERS_TABLE = "Clusters"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ClusterOperation"

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    "OPERATIONS_TABLE": OPERATIONS_TABLE, "CLUSTERS_TABLE": CLUSTERS_TABLE, "STATE_MACHINE_ARN": STATE_MACHINE_ARN,
    "ADMIN_SCOPE": "parallelcluster/admin", "OWNER_TAG_KEY": "parallelcluster-api:owner",
    "DRYRUN_WAIT_SECONDS": "2", "MAX_BODY_BYTES": str(128 * 1024),
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "parallelcluster-api",
    "POWERTOOLS_METRICS_NAMESPACE": "ParallelClusterApi", "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import boto3  # noqa: E402 - after the environment above is set
import jsonschema  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from lambda_src.parallelcluster_api import routes, schema  # noqa: E402
from lambda_src.parallelcluster_api.models import OperationStatus  # noqa: E402
from lambda_src.parallelcluster_api.shared import aws, operations, pcluster  # noqa: E402
from lambda_src.parallelcluster_api.shared.settings import settings  # noqa: E402
from tests.parallelcluster_api.fake_pcluster import FakeParallelCluster  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402

CONFIGURATION = """\
Region: us-east-1
Image:
  Os: alinux2023
HeadNode:
  InstanceType: t3.micro
  Networking:
    SubnetId: subnet-0123456789abcdef0
  Ssh:
    KeyName: hpc
Scheduling:
  Scheduler: slurm
  SlurmQueues:
    - Name: compute
      ComputeResources:
        - Name: c5
          InstanceType: c5.large
          MinCount: 0
          MaxCount: 4
      Networking:
        SubnetIds:
          - subnet-0fedcba9876543210
Tags:
  - Key: project
    Value: genomics
"""
INI_CONFIGURATION = """\
[aws]
aws_region_name = us-east-1

[global]
cluster_template = default

[cluster default]
key_name = hpc
master_instance_type = t2.micro
"""


@dataclass(frozen=True)
class Identity:
    sub: str
    scopes: str
    client_id: str = "app-client-people"


ALICE = Identity("4f1c2d3e-0000-4000-8000-00000000a11c", "parallelcluster/read parallelcluster/write")
BOB = Identity("4f1c2d3e-0000-4000-8000-000000000b0b", "parallelcluster/read parallelcluster/write")
ADMIN = Identity("4f1c2d3e-0000-4000-8000-0000000ad111",
                 "parallelcluster/read parallelcluster/write parallelcluster/admin", "app-client-machines")


def rest_event(function: str, *, path: dict[str, str] | None = None, query: dict[str, Any] | None = None,
               headers: dict[str, Any] | None = None, body: Any = None, raw_body: str | None = None,
               base64_body: bool = False, caller: Identity | None = ALICE, request_id: str | None = None
               ) -> dict[str, Any]:
    """An API Gateway REST API Lambda proxy event for the route of ``function``, as it reaches the
    function after the TOKEN authorizer allowed it (context: sub, scopes, clientId). ``query``
    values may be lists (repeated parameters)."""
    route = routes.route(function)
    resource_path = route.path
    actual_path = route.path
    for name, value in (path or {}).items():
        actual_path = actual_path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    multi_query = {name: value if isinstance(value, list) else [value] for name, value in (query or {}).items()}
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None and base64_body:
        text = base64.b64encode(text.encode("utf-8")).decode("ascii")
    all_headers = {"Accept": "application/json", "Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
                   "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "User-Agent": "pytest",
                   "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    if text is not None:
        all_headers["Content-Type"] = "application/json"
    multi_headers = {name: [value] for name, value in all_headers.items()}
    for name, value in (headers or {}).items():
        values = value if isinstance(value, list) else [value]
        all_headers[name] = values[-1]
        multi_headers[name] = values
    request_id = request_id or str(uuid.uuid4())
    authorizer = ({"principalId": caller.sub, "integrationLatency": 12, "sub": caller.sub, "scopes": caller.scopes,
                   "clientId": caller.client_id} if caller is not None else None)
    return {
        "resource": resource_path,
        "path": actual_path,
        "httpMethod": route.method,
        "headers": all_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path) if path else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3", "resourcePath": resource_path, "httpMethod": route.method,
            "extendedRequestId": "Ab1CdEfGhIJKLmN=", "requestTime": "01/Dec/2026:09:30:00 +0000",
            "path": f"/prod{actual_path}", "accountId": ACCOUNT, "protocol": "HTTP/1.1", "stage": "prod",
            "domainPrefix": "abcdef1234", "requestTimeEpoch": 1796117400000, "requestId": request_id,
            "identity": {"cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None, "caller": None,
                         "sourceIp": "198.51.100.7", "principalOrgId": None, "accessKey": None,
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None, "userArn": None,
                         "userAgent": "pytest", "user": None},
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com", "deploymentId": "dep123",
            "apiId": "abcdef1234", **({"authorizer": authorizer} if authorizer is not None else {}),
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def handler_of(function: str) -> Callable[..., Any]:
    return importlib.import_module(f"lambda_src.parallelcluster_api.{function}.handler").handler


def invoke(function: str, event: dict[str, Any], *, remaining_ms: int = 29_000) -> Answer:
    response = handler_of(function)(event, FakeLambdaContext(function_name=function, remaining_ms=remaining_ms))
    body = response.get("body")
    return Answer(response["statusCode"], json.loads(body) if body else None, response.get("headers") or {})


def call(function: str, *, remaining_ms: int = 29_000, **event: Any) -> Answer:
    """Invoke the function of a route with :func:`rest_event` (``event`` its keyword arguments)."""
    return invoke(function, rest_event(function, **event), remaining_ms=remaining_ms)


def assert_model(model: type, body: Any) -> None:
    """``body`` is valid for ``model``'s JSON Schema (the one API Gateway and the OpenAPI use)."""
    jsonschema.Draft4Validator(schema.json_schema(model)).validate(body)


@dataclass
class World:
    fake: FakeParallelCluster
    dynamodb: Any
    stepfunctions: Any
    workflow_runs: list[dict[str, Any]] = field(default_factory=list)

    def cluster_item(self, name: str) -> dict[str, Any] | None:
        return self.dynamodb.Table(CLUSTERS_TABLE).get_item(Key={"clusterName": name}).get("Item")

    def operation(self, operation_id: str) -> dict[str, Any] | None:
        return operations.get(operation_id)

    def own(self, name: str, owner: Identity, *, status: str = "CREATE_COMPLETE", scheduler: str = "slurm") -> None:
        """A cluster that ``owner`` created through the API."""
        self.fake.add_cluster(name, status=status, owner_tag=owner.sub, scheduler=scheduler)
        self.dynamodb.Table(CLUSTERS_TABLE).put_item(Item={"clusterName": name, "owner": owner.sub,
                                                           "createdAt": "2026-01-01T00:00:00.000Z"})

    def executions(self) -> list[dict[str, Any]]:
        listed = self.stepfunctions.list_executions(stateMachineArn=STATE_MACHINE_ARN)["executions"]
        return [self.stepfunctions.describe_execution(executionArn=execution["executionArn"]) for execution in listed]

    def run_workflow(self, execution_input: dict[str, Any], *,
                     progress: Callable[[int], None] | None = None, max_polls: int = 20) -> dict[str, Any]:
        """Run the ClusterOperation state machine's states in-process, as the stack wires them:
        SubmitOperation; while IN_PROGRESS: Wait, then PollCluster (``progress(poll)`` moves the fake
        cluster first); RecordOutcome. A failing state is caught into RecordOutcome with "error"."""
        state = dict(execution_input)
        try:
            state = workflow_step("submit_operation", state)
            polls = 0
            while state["status"] == OperationStatus.IN_PROGRESS.value:
                polls += 1
                assert polls <= max_polls, "the workflow did not end"
                if progress is not None:
                    progress(polls)
                state = workflow_step("poll_cluster", state)
        except Exception as error:  # noqa: BLE001 - a Catch on States.ALL, as in the state machine
            state = {**state, "error": {"Error": type(error).__name__, "Cause": str(error)}}
        outcome = workflow_step("record_outcome", state)
        self.workflow_runs.append(outcome)
        return outcome

    def run_started_workflows(self, **options: Any) -> list[dict[str, Any]]:
        return [self.run_workflow(json.loads(execution["input"]), **options) for execution in self.executions()]


def workflow_step(function: str, state: dict[str, Any]) -> dict[str, Any]:
    """One workflow state's Lambda function; the JSON round trip is what Step Functions does."""
    result = handler_of(function)(json.loads(json.dumps(state)), FakeLambdaContext(function_name=function))
    return json.loads(json.dumps(result))


@pytest.fixture
def world() -> Any:
    with mock_aws():
        aws.reset()
        settings.cache_clear()
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        for name, key in ((OPERATIONS_TABLE, "operationId"), (CLUSTERS_TABLE, "clusterName")):
            dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        stepfunctions = boto3.client("stepfunctions", region_name=REGION)
        stepfunctions.create_state_machine(
            name="ClusterOperation", roleArn=f"arn:aws:iam::{ACCOUNT}:role/ClusterOperationRole",
            definition=json.dumps({"StartAt": "Submit", "States": {"Submit": {"Type": "Pass", "End": True}}}))
        fake = FakeParallelCluster()
        pcluster.use_library(fake.library())
        try:
            yield World(fake=fake, dynamodb=dynamodb, stepfunctions=stepfunctions)
        finally:
            fake.released.set()
            pcluster.use_library(None)
            aws.reset()
            settings.cache_clear()


@pytest.fixture
def fast_workflow(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Step Functions runs each started workflow at once (before the API function reads the
    operation again), as when validation ends within the dry-run wait."""
    start = operations.start_workflow

    def start_and_run(item: dict[str, Any]) -> None:
        start(item)
        world.run_workflow(operations.execution_input(item))

    monkeypatch.setattr(operations, "start_workflow", start_and_run)
    return world


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change the functions' environment for one test."""
    def change(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield change
    settings.cache_clear()
