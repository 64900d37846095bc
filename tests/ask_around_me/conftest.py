"""A moto world for Ask Around Me: tables with streams, queues, IoT data plane, event builders.

The environment is set at import time, before any handler module (and its
module-level boto3 clients) is imported by the tests.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # moto's DynamoDB Streams endpoint is not reachable through account-id based endpoints.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "ask-around-me",
    "POWERTOOLS_METRICS_NAMESPACE": "AskAroundMe",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import boto3
import boto3.session
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from tests.conftest import SynthesizedSuite, project_context, synth_suite
from tests.support.lambda_context import FakeLambdaContext

REGION = "us-east-1"
QUESTIONS_TABLE = "Questions"
ANSWERS_TABLE = "Answers"
LEDGER_TABLE = "AggregationLedger"
CELL_INDEX = "byCell"
QUEUES = ("Questions", "StarAnswers", "GeoAnswers")
IOT_ENDPOINT = "data-ats.iot.us-east-1.amazonaws.com"  # moto answers on the data-ats host


def http_event(method: str, route: str, *, user: str | None = "alice", body: Any = None, raw_body: str | None = None,
               query: dict[str, str] | None = None, path: dict[str, str] | None = None,
               base64_body: bool = False) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event as a JWT-authorized route receives it."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None and base64_body:
        text = base64.b64encode(text.encode()).decode()
    authorizer = {"jwt": {"claims": {"sub": user, "iss": "https://issuer.example.com/"}, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": route,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json"},
        "queryStringParameters": query,
        "pathParameters": path,
        "requestContext": {
            "accountId": DEFAULT_ACCOUNT_ID, "apiId": "api", "requestId": str(uuid.uuid4()),
            "http": {"method": method, "path": route, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
                     "userAgent": "pytest"},
            "authorizer": authorizer if user is not None else {},
            "stage": "$default", "routeKey": f"{method} {route}", "timeEpoch": 0,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def _stream_record_to_lambda(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """boto3 dynamodbstreams get_records record -> the record shape Lambda delivers."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": dynamodb,
            "eventSourceARN": stream_arn}


class AskAroundMeWorld:
    """The moto resources the functions talk to, plus helpers to feed them events."""

    # Clients are built once (loading botocore's models is the slow part); moto intercepts
    # their calls whenever a mock is active, and each test gets a fresh mock.
    _session = boto3.session.Session(region_name=REGION)
    _clients: dict[str, Any] = {}

    @classmethod
    def _client(cls, name: str) -> Any:
        if name not in cls._clients:
            cls._clients[name] = (cls._session.resource("dynamodb") if name == "tables"
                                  else cls._session.client(name))
        return cls._clients[name]

    def __init__(self) -> None:
        self.dynamodb = self._client("dynamodb")
        self.tables = self._client("tables")
        self.sqs = self._client("sqs")
        self.streams = self._client("dynamodbstreams")
        self._iterators: dict[str, str] = {}
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        self.dynamodb.create_table(
            TableName=QUESTIONS_TABLE, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream,
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                                  for name in ("questionId", "cell", "created")],
            KeySchema=[{"AttributeName": "questionId", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{
                "IndexName": CELL_INDEX,
                "KeySchema": [{"AttributeName": "cell", "KeyType": "HASH"},
                              {"AttributeName": "created", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": [
                    "type", "text", "author", "lat", "lng", "answerCount", "totalScore"]},
            }],
        )
        for name, with_stream in ((ANSWERS_TABLE, True), (LEDGER_TABLE, False)):
            self.dynamodb.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("questionId", "userId")],
                KeySchema=[{"AttributeName": "questionId", "KeyType": "HASH"},
                           {"AttributeName": "userId", "KeyType": "RANGE"}],
                **({"StreamSpecification": stream} if with_stream else {}),
            )
        self.queue_urls = {name: self.sqs.create_queue(QueueName=name)["QueueUrl"] for name in QUEUES}
        self.kms = self._client("kms")
        self.page_token_key_arn = self.kms.create_key(Description="answers page tokens")["KeyMetadata"]["Arn"]

    # --- environment of the functions -------------------------------------------------
    def environment(self) -> dict[str, str]:
        return {
            "QUESTIONS_QUEUE_URL": self.queue_urls["Questions"],
            "STAR_ANSWERS_QUEUE_URL": self.queue_urls["StarAnswers"],
            "GEO_ANSWERS_QUEUE_URL": self.queue_urls["GeoAnswers"],
            "QUESTIONS_TABLE_NAME": QUESTIONS_TABLE,
            "QUESTIONS_CELL_INDEX_NAME": CELL_INDEX,
            "ANSWERS_TABLE_NAME": ANSWERS_TABLE,
            "AGGREGATION_LEDGER_TABLE_NAME": LEDGER_TABLE,
            "IOT_DATA_ENDPOINT": IOT_ENDPOINT,
            "TOPIC_PREFIX": "askaroundme",
            "PAGE_TOKEN_KEY_ARN": self.page_token_key_arn,
        }

    # --- SQS --------------------------------------------------------------------------
    def receive(self, queue: str, max_messages: int = 10) -> list[dict[str, Any]]:
        """Messages as Lambda's SQS poller would hand them over (and leave them in flight)."""
        url = self.queue_urls[queue]
        arn = f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT_ID}:{queue}"
        received = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=max_messages,
                                            AttributeNames=["All"]).get("Messages", [])
        return [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION,
        } for m in received]

    def queue_depth(self, queue: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_urls[queue],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    # --- DynamoDB Streams ---------------------------------------------------------------
    def stream_records(self, table: str) -> list[dict[str, Any]]:
        """Stream records written since the last call, read through moto's DynamoDB Streams API."""
        stream_arn = self.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        iterator = self._iterators.get(table)
        if iterator is None:
            shard = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
            iterator = self.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            iterator = page["NextShardIterator"]
            records.extend(_stream_record_to_lambda(r, stream_arn) for r in page["Records"])
            if not page["Records"]:
                break
        self._iterators[table] = iterator
        return records

    # --- IoT Core ---------------------------------------------------------------------
    @staticmethod
    def published() -> list[tuple[str, dict[str, Any]]]:
        from moto.iotdata.models import iotdata_backends

        payloads = iotdata_backends[DEFAULT_ACCOUNT_ID][REGION].published_payloads
        return [(topic, json.loads(payload)) for topic, payload in payloads]

    # --- tables -----------------------------------------------------------------------
    def question(self, question_id: str) -> dict[str, Any] | None:
        return self.tables.Table(QUESTIONS_TABLE).get_item(Key={"questionId": question_id}).get("Item")

    def answers(self, question_id: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        return self.tables.Table(ANSWERS_TABLE).query(KeyConditionExpression=Key("questionId").eq(question_id))["Items"]


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch):
    with mock_aws():
        aws = AskAroundMeWorld()
        for name, value in aws.environment().items():
            monkeypatch.setenv(name, value)
        yield aws


# -- the stack with an external identity provider (Auth0), synthesized once per session -------

EXTERNAL_ISSUER = "https://example.eu.auth0.com/"
EXTERNAL_AUDIENCE = ["https://api.example.com"]
COGNITO_ONLY_KEYS = ("callbackUrls", "logoutUrls", "requireMfa", "cognitoFeaturePlan", "cognitoDomainPrefix")


@pytest.fixture(scope="session")
def external_suite() -> SynthesizedSuite:
    block = {k: v for k, v in project_context()["askAroundMe"].items() if k not in COGNITO_ONLY_KEYS}
    block.update(identityProvider="external", jwtIssuer=EXTERNAL_ISSUER, jwtAudience=EXTERNAL_AUDIENCE,
                 dataRemovalPolicy="destroy")
    return synth_suite(context={"askAroundMe": block})
