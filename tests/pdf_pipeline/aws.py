"""A moto world for the PDF pipeline's workers: buckets, queues with DLQs, the environment the
stack sets, Lambda SQS events built from real receives, and a pump that drives queues through
the real handlers the way Lambda's event source mapping does.

The environment is set at import time, before any handler (and its boto3 clients) is imported.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from unittest import mock
from urllib.parse import parse_qs, urlsplit

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "pdf-pipeline",
    "POWERTOOLS_METRICS_NAMESPACE": "PdfPipeline", "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from tests.support.lambda_context import FakeLambdaContext

REGION = "us-east-1"
STAGING, WORK, IMAGES, PARTNER = "pdf-staging", "pdf-work", "pdf-images", "partner-docs"
# Queue names as the stack's roles: (name, fifo, has a DLQ)
QUEUES = {
    "list": ("pdf-list.fifo", True, True),
    "ingest": ("pdf-ingest", False, True),
    "large": ("pdf-large", False, True),
    "small": ("pdf-small", False, True),
    "single_page": ("pdf-single-page", False, True),
    "converted_image": ("pdf-converted-image", False, True),
    "audit": ("pdf-audit", False, True),
    "auto_ingest": ("pdf-auto-ingest", False, True),
    "quarantine": ("pdf-quarantine", False, False),
}
FAILSAFE_ORIGINS = ("ingest", "large", "small", "single_page")
MAX_RECEIVE_COUNT = 3


@dataclass
class World:
    s3: Any
    sqs: Any
    urls: dict[str, str]
    dlq_urls: dict[str, str]
    env: dict[str, str]

    def receive_all(self, role: str, *, dlq: bool = False) -> list[dict[str, Any]]:
        """Every message now visible in a queue (received, then deleted)."""
        url = (self.dlq_urls if dlq else self.urls)[role]
        found = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                              MessageSystemAttributeNames=["All"])
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.extend(messages)

    def bodies(self, role: str, *, dlq: bool = False) -> list[dict[str, Any]]:
        return [json.loads(message["Body"]) for message in self.receive_all(role, dlq=dlq)]

    def depth(self, role: str, *, dlq: bool = False) -> int:
        url = (self.dlq_urls if dlq else self.urls)[role]
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return sum(int(value) for value in attributes["Attributes"].values())

    def send(self, role: str, body: str, **extra: Any) -> None:
        self.sqs.send_message(QueueUrl=self.urls[role], MessageBody=body, **extra)

    def put(self, bucket: str, key: str, body: bytes) -> dict[str, Any]:
        return self.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        return [item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for item in page.get("Contents", [])]


def _queue(sqs: Any, name: str, fifo: bool, dlq_arn: str | None) -> str:
    attributes = {"VisibilityTimeout": "30"}
    if fifo:
        attributes["FifoQueue"] = "true"
    if dlq_arn:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn,
                                                  "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


@contextlib.contextmanager
def moto_world(**environment: str) -> Iterator[World]:
    """Buckets and queues in moto, and the stack's environment variables (``environment``
    overrides them) for as long as the block runs."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for bucket in (STAGING, WORK, IMAGES, PARTNER):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=STAGING, VersioningConfiguration={"Status": "Enabled"})
        urls, dlq_urls = {}, {}
        for role, (name, fifo, has_dlq) in QUEUES.items():
            dlq_arn = None
            if has_dlq:
                dlq_name = name.replace(".fifo", "-dlq.fifo") if fifo else f"{name}-dlq"
                dlq_urls[role] = _queue(sqs, dlq_name, fifo, None)
                dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_urls[role],
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            urls[role] = _queue(sqs, name, fifo, dlq_arn)
        env = {
            "STAGING_BUCKET": STAGING, "WORK_BUCKET": WORK, "IMAGES_BUCKET": IMAGES,
            "ALLOWED_SOURCE_BUCKETS": PARTNER,
            "LIST_QUEUE_URL": urls["list"], "INGEST_QUEUE_URL": urls["ingest"], "LARGE_QUEUE_URL": urls["large"],
            "SMALL_QUEUE_URL": urls["small"], "SINGLE_PAGE_QUEUE_URL": urls["single_page"],
            "AUDIT_QUEUE_URL": urls["audit"], "QUARANTINE_QUEUE_URL": urls["quarantine"],
            "DEAD_LETTER_QUEUE_URLS": ",".join(f"{origin}={dlq_urls[origin]}" for origin in FAILSAFE_ORIGINS),
            "LARGE_BYTES": str(10 * 1024 * 1024), "LARGE_PAGES": "10", "CHUNK_PAGES": "10",
            "LIST_PAGE_SIZE": "1000", "DPI": "150", "MAX_PIXELS": str(40_000_000),
            "INFERENCE_URL": "http://127.0.0.1:9/inference", "AWS_REGION": REGION,
            **environment,
        }
        with mock.patch.dict(os.environ, env):
            yield World(s3=s3, sqs=sqs, urls=urls, dlq_urls=dlq_urls, env=env)


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received SQS message as Lambda's event source mapping delivers it."""
    attributes = dict(message.get("Attributes", {}))
    attributes.setdefault("ApproximateReceiveCount", "1")
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": attributes, "messageAttributes": {}, "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION}


def sqs_event(bodies: list[str], *, queue: str = "arn:aws:sqs:us-east-1:123456789012:q",
              group_id: str | None = None) -> dict[str, Any]:
    """A Lambda SQS event of made-up messages (for handlers tested without a queue)."""
    records = []
    for index, body in enumerate(bodies):
        message = {"MessageId": f"m-{index}", "ReceiptHandle": f"r-{index}", "Body": body, "Attributes": {}}
        if group_id:
            message["Attributes"]["MessageGroupId"] = group_id
        records.append(lambda_record(message, queue))
    return {"Records": records}


def context(remaining_ms: int = 30_000) -> FakeLambdaContext:
    return FakeLambdaContext(remaining_ms=remaining_ms)


def failed_ids(response: dict[str, Any] | None) -> list[str]:
    return [item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])]


@dataclass
class Pump:
    """Drives queues through Lambda handlers like an event source mapping: batches of up to
    ``batch_size`` received messages, successes deleted, reported failures made visible again
    (SQS moves a message to its DLQ after maxReceiveCount receives)."""
    world: World
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]]
    batch_size: int = 10
    remaining_ms: dict[str, int] = field(default_factory=dict)   # per role: the invocation's time
    invocations: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    delivered: list[tuple[str, str]] = field(default_factory=list)   # (role, body) of every delivery

    def _arn(self, role: str) -> str:
        return self.world.sqs.get_queue_attributes(QueueUrl=self.world.urls[role],
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def once(self, role: str) -> int:
        """One invocation of ``role``'s handler with what one receive returns; messages handled."""
        url = self.world.urls[role]
        messages = self.world.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=self.batch_size,
                                                  WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
                                                  ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [lambda_record(message, self._arn(role)) for message in messages]}
        self.invocations[role] = self.invocations.get(role, 0) + 1
        self.delivered.extend((role, message["Body"]) for message in messages)
        try:
            failed = set(failed_ids(self.handlers[role](event, context(self.remaining_ms.get(role, 30_000)))))
        except Exception:  # noqa: BLE001 - a function error fails the whole batch, as in Lambda
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self.failures[role] = self.failures.get(role, 0) + 1
                self.world.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                         VisibilityTimeout=0)
            else:
                self.world.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def drain(self, roles: list[str] | None = None, *, limit: int = 10_000) -> int:
        """Until every queue of ``roles`` (default: all with a handler) is empty; messages handled."""
        roles = roles or list(self.handlers)
        total = 0
        for _ in range(limit):
            handled = sum(self.once(role) for role in roles)
            total += handled
            if not handled:
                return total
        raise AssertionError(f"queues {roles} still not empty after {limit} rounds")


class RecordingSqs:
    """An SQS client that remembers the body of every message it receives (for a worker loop)."""

    def __init__(self, sqs: Any, roles_by_url: dict[str, str]) -> None:
        self._sqs, self._roles = sqs, roles_by_url
        self.delivered: list[tuple[str, str]] = []

    def receive_message(self, **request: Any) -> dict[str, Any]:
        answer = self._sqs.receive_message(**request)
        role = self._roles.get(request["QueueUrl"], request["QueueUrl"])
        self.delivered.extend((role, message["Body"]) for message in answer.get("Messages", []))
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


# --- SigV4 on the server side, for the local HTTP servers standing in for API Gateway -----------

def signature_is_valid(method: str, url: str, headers: dict[str, str], body: bytes,
                       credentials: Credentials, region: str = REGION) -> bool:
    """Recomputes the request's SigV4 signature (service execute-api) with the caller's keys."""
    authorization = headers.get("Authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return False
    fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","))
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method=method, url=url, data=body,
                         headers={name: value for name, value in headers.items() if name.lower() in signed})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(credentials, "execute-api", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return fields["Signature"] == expected and fields["Credential"].startswith(f"{credentials.access_key}/")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalApi:
    """A loopback HTTP server standing in for an API Gateway stage: each request is recorded
    and answered by ``respond(recorded) -> (status, json body)``."""

    def __init__(self, respond: Callable[[Recorded], tuple[int, Any]]) -> None:
        self.requests: list[Recorded] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                owner.requests.append(recorded)
                status, answer = respond(recorded)
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalApi":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- injected failures ----------------------------------------------------------------------

@contextlib.contextmanager
def failing_calls(client: Any, operation: str, *, times: int, code: str = "SlowDown",
                  status: int = 503) -> Iterator[list[int]]:
    """The next ``times`` calls of ``operation`` (``s3.GetObject``) through ``client`` fail as
    S3 or SQS would after botocore's own retries; the list counts the failures injected."""
    from botocore.exceptions import ClientError

    injected: list[int] = []

    def fail(**_: Any) -> None:
        if len(injected) < times:
            injected.append(1)
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, operation.split(".")[-1])

    event = f"before-call.{operation}"
    client.meta.events.register_first(event, fail)
    try:
        yield injected
    finally:
        client.meta.events.unregister(event, fail)


@contextlib.contextmanager
def failing_requests(client: Any, operation: str, when: Callable[[dict[str, Any]], bool], *,
                     code: str = "InternalError", status: int = 500) -> Iterator[list[dict[str, Any]]]:
    """Every call of ``operation`` (``s3.PutObject``) through ``client`` whose parameters satisfy
    ``when`` fails, for as long as the block runs (a fault that retrying does not cure)."""
    from botocore.exceptions import ClientError

    failed: list[dict[str, Any]] = []

    def fail(params: dict[str, Any], **_: Any) -> None:
        if when(params):
            failed.append(dict(params))
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, operation.split(".")[-1])

    event = f"before-parameter-build.{operation}"
    client.meta.events.register_first(event, fail)
    try:
        yield failed
    finally:
        client.meta.events.unregister(event, fail)


class FlakyBatches:
    """An SQS client whose SendMessageBatch answers report entries as failed on the service's
    side (``SenderFault`` false) the first ``times`` calls, as SQS does under pressure; every
    other call goes to the real (moto) client."""

    def __init__(self, sqs: Any, *, times: int, sender_fault: bool = False) -> None:
        self._sqs, self._left, self._sender_fault = sqs, times, sender_fault
        self.calls: list[int] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Entries))
        if self._left <= 0:
            return self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries)
        self._left -= 1
        sent, failed = Entries[: len(Entries) // 2], Entries[len(Entries) // 2:]
        answer = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=sent) if sent else {}
        return {"Successful": answer.get("Successful", []),
                "Failed": [{"Id": entry["Id"], "SenderFault": self._sender_fault, "Code": "InternalError",
                            "Message": "injected by the test"} for entry in failed]}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


# --- documents: real PDFs from the corpus generator (tests/pdf_pipeline/corpus.py) -------------

from tests.pdf_pipeline import corpus  # noqa: E402


def pdf_of(pages: int, *, first_number: int = 1, size: tuple[float, float] = corpus.LETTER) -> bytes:
    """A document of ``pages`` text pages; page i says ``Page 0000<first_number + i - 1>``."""
    return corpus.build_pdf([corpus.PageSpec("text", size=size)] * pages, seed=pages, first_number=first_number)


BROKEN = {"empty": lambda: b"", "not_pdf": corpus.png_bytes, "encrypted": corpus.DOCUMENTS["encrypted"],
          "corrupt": corpus.DOCUMENTS["truncated"], "no_pages": corpus.zero_page_pdf}


def broken(kind: str) -> bytes:
    """A document the pipeline must reject for ``kind`` (a RejectReason value)."""
    return BROKEN[kind]()


def page_labels(document: bytes) -> list[str]:
    """The first line of each page's text: which page of the original it is."""
    return [text.strip().splitlines()[0] for text in corpus.page_texts(document)]


# --- the REST API, in-process: API Gateway's IAM auth and proxy events ---------------------------

def rest_event(method: str, resource: str, path: str, *, body: bytes = b"", path_parameters=None,
               query: dict[str, list[str]] | None = None,
               caller: str = "arn:aws:iam::123456789012:user/operator") -> dict[str, Any]:
    """A REST API Lambda proxy event of a request authorized with IAM (SigV4)."""
    return {"resource": resource, "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {}, "pathParameters": path_parameters,
            "queryStringParameters": None if query is None else {name: values[-1] for name, values in query.items()},
            "multiValueQueryStringParameters": query,
            "requestContext": {"resourcePath": resource, "httpMethod": method, "stage": "prod",
                               "requestId": "req-" + os.urandom(4).hex(),
                               "identity": {"userArn": caller, "caller": "AIDAEXAMPLE"}},
            "body": body.decode() if body else None, "isBase64Encoded": False}


def caller_credentials() -> Credentials:
    """The keys boto3 finds (in moto: the fake ones mock_aws sets), to verify signatures with."""
    frozen = boto3.Session().get_credentials().get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


class Gateway:
    """Routes a signed request like the stack's REST API: IAM auth (a bad signature is 403),
    then the method's Lambda proxy integration, or ``integrations`` for the others (the
    inference method's SageMaker integration). ``stage`` is the path prefix."""

    def __init__(self, routes: dict[tuple[str, str], Callable[[dict[str, Any], Any], dict[str, Any]]],
                 integrations: dict[tuple[str, str], Callable[[Recorded], tuple[int, Any]]] | None = None,
                 *, stage: str = "/prod") -> None:
        self.routes, self.integrations, self.stage = routes, integrations or {}, stage
        self.url = ""   # set once the server listens

    def __call__(self, recorded: Recorded) -> tuple[int, Any]:
        if not signature_is_valid(recorded.method, f"{self.url}{recorded.path}", recorded.headers, recorded.body,
                                  caller_credentials()):
            return 403, {"message": "The request signature we calculated does not match the signature you provided."}
        parts = urlsplit(recorded.path)
        path = parts.path.removeprefix(self.stage)
        for (method, resource), target in {**self.routes, **self.integrations}.items():
            parameters = _match(resource, path)
            if method != recorded.method or parameters is None:
                continue
            if (method, resource) in self.integrations:
                return target(recorded)
            query = parse_qs(parts.query) or None
            answer = target(rest_event(method, resource, path, body=recorded.body, path_parameters=parameters,
                                       query=query), context())
            return answer["statusCode"], json.loads(answer["body"])
        return 404, {"message": "Missing Authentication Token"}


def _match(resource: str, path: str) -> dict[str, str] | None:
    """Path parameters of ``path`` under a resource like ``/batches/{batchId}``, or None."""
    wanted, given = resource.strip("/").split("/"), path.strip("/").split("/")
    if len(wanted) != len(given):
        return None
    parameters = {}
    for expected, actual in zip(wanted, given, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            parameters[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return parameters or {}


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among captured output lines (Powertools log records and EMF metrics)."""
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


@contextlib.contextmanager
def captured_logs(logger: Any) -> Iterator[io.StringIO]:
    """What a Powertools logger writes while the block runs (its handler's stream, swapped)."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        yield stream
    finally:
        logger.registered_handler.setStream(previous)
