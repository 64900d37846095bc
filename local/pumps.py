"""Lambda's event source mappings, locally: threads that poll SQS and DynamoDB Streams on moto.

Read from each ``AWS::Lambda::EventSourceMapping`` of the template: the source, batch size,
``FunctionResponseTypes``, and for streams the starting position, ``BisectBatchOnFunctionError``,
``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds`` and the on-failure destination.

SQS (as Lambda's poller does): long-poll a batch; a function error leaves every message to
come back after the visibility timeout; otherwise every message is deleted except, with
``ReportBatchItemFailures``, those the answer lists, and an answer naming a message that is
not in the batch (or an empty or null identifier) fails the whole batch.

DynamoDB Streams: batches in shard order; a function error is retried (after halving the
batch when bisecting, which uses no retry) and a partial failure is retried from the lowest
failed sequence number (the checkpoint); when the retries or the record age run out, the
batch's description goes to the on-failure destination (Lambda's invocation record with
``DDBStreamBatchInfo``) and the shard moves on.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from abc import ABC, abstractmethod
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable

from local.apigw.rest_api_emulator import FunctionFailed
from local.cfn import Resolver, Template
from local.settings import ACCOUNT_ID, REGION

log = logging.getLogger("local.pumps")

POLL_WAIT_SECONDS = 1  # SQS long poll; short so that stopping is prompt
STREAM_IDLE_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 2.0

Invoke = Callable[[dict], Any]


class _Failures:
    """What a batch response says failed, per Lambda's partial batch response rules."""

    ALL = object()

    @staticmethod
    def of(answer: Any, identifiers: list[str], report_failures: bool) -> Any:
        """``set()`` when everything succeeded, the failed identifiers, or :attr:`ALL`."""
        if not report_failures or answer is None:
            return set()
        if not isinstance(answer, dict):
            return set()
        failures = answer.get("batchItemFailures")
        if not failures:
            return set()
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or not identifier or identifier not in identifiers:
                return _Failures.ALL
            failed.add(identifier)
        return failed


class Pump(threading.Thread, ABC):
    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop = stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a poller survives a failed poll (moto restarting, a bug) and retries
                log.exception("%s: polling failed; retrying", self.name)
                self.stop.wait(MAX_BACKOFF_SECONDS)

    @abstractmethod
    def poll_once(self) -> None:
        """One poll of the source, its records handed to the function."""


class SqsPump(Pump):
    def __init__(self, *, sqs: Any, queue_url: str, queue_arn: str, invoke: Invoke, batch_size: int,
                 report_failures: bool, stop: threading.Event, name: str) -> None:
        super().__init__(name, stop)
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.invoke, self.batch_size, self.report_failures = invoke, min(batch_size, 10), report_failures

    def poll_once(self) -> None:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
                                            WaitTimeSeconds=POLL_WAIT_SECONDS, AttributeNames=["All"],
                                            MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return
        records = [self._record(message) for message in messages]
        try:
            answer = self.invoke({"Records": records})
        except FunctionFailed:
            return  # every message comes back after the visibility timeout
        failed = _Failures.of(answer, [m["MessageId"] for m in messages], self.report_failures)
        if failed is _Failures.ALL:
            log.warning("%s: the batch response names messages not in the batch; the whole batch failed", self.name)
            return
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]}
                for index, m in enumerate(done[start:start + 10])])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {name: {"stringValue": value.get("StringValue"),
                                         "binaryValue": _b64(value.get("BinaryValue")),
                                         "stringListValues": [], "binaryListValues": [],
                                         "dataType": value.get("DataType")}
                                  for name, value in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }


class StreamPump(Pump):
    def __init__(self, *, streams: Any, sqs: Any, stream_arn: str, invoke: Invoke, function_arn: str,
                 batch_size: int, report_failures: bool, bisect: bool, max_retries: int | None,
                 max_record_age: int | None,
                 on_failure_url: str | None, starting_position: str, stop: threading.Event, name: str) -> None:
        super().__init__(name, stop)
        self.streams, self.sqs, self.stream_arn = streams, sqs, stream_arn
        self.invoke, self.function_arn = invoke, function_arn
        self.batch_size, self.report_failures, self.bisect = batch_size, report_failures, bisect
        self.max_retries, self.max_record_age = max_retries, max_record_age
        self.on_failure_url, self.starting_position = on_failure_url, starting_position
        self._iterator: str | None = None
        self._shard_id = ""

    def poll_once(self) -> None:
        if self._iterator is None:
            shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
            self._shard_id = shard["ShardId"]
            self._iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=self._shard_id,
                ShardIteratorType=self.starting_position)["ShardIterator"]
        page = self.streams.get_records(ShardIterator=self._iterator, Limit=self.batch_size)
        self._iterator = page.get("NextShardIterator") or self._iterator
        records = [self._record(record) for record in page.get("Records", [])]
        if not records:
            self.stop.wait(STREAM_IDLE_SECONDS)
            return
        batches = deque([records])
        while batches and not self.stop.is_set():
            self._deliver(batches)

    def _deliver(self, batches: deque[list[dict[str, Any]]]) -> None:
        batch = batches.popleft()
        attempts = 0
        while batch and not self.stop.is_set():
            attempts += 1
            try:
                answer = self.invoke({"Records": batch})
            except FunctionFailed:
                if self.bisect and len(batch) > 1:  # halving uses no retry
                    middle = len(batch) // 2
                    batches.appendleft(batch[middle:])
                    batches.appendleft(batch[:middle])
                    return
                failed_from = 0
            else:
                sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
                failed = _Failures.of(answer, sequence_numbers, self.report_failures)
                if failed == set():
                    return
                failed_from = 0 if failed is _Failures.ALL else min(sequence_numbers.index(s) for s in failed)
            batch = batch[failed_from:]
            retries_exhausted = self.max_retries is not None and attempts > self.max_retries
            if retries_exhausted or self._too_old(batch):
                self._discard(batch, attempts)
                return
            self.stop.wait(min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** attempts))

    def _too_old(self, batch: list[dict[str, Any]]) -> bool:
        if self.max_record_age is None:
            return False
        created = batch[0]["dynamodb"].get("ApproximateCreationDateTime")
        return created is not None and datetime.now(timezone.utc).timestamp() - created > self.max_record_age

    def _discard(self, batch: list[dict[str, Any]], attempts: int) -> None:
        log.error("%s: %d records discarded after %d attempts", self.name, len(batch), attempts)
        if not self.on_failure_url:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function_arn,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": _iso(datetime.now(timezone.utc).timestamp(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id, "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch), "streamArn": self.stream_arn},
        }
        self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(record))

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB Streams record as Lambda delivers it (times in epoch seconds, binary as base64)."""
        dynamodb = _jsonable(record["dynamodb"])
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**_jsonable({k: v for k, v in record.items() if k != "dynamodb"}), "dynamodb": dynamodb,
                "eventSourceARN": self.stream_arn}


def pumps_for(template: Template, resolve: Resolver, *, functions: dict[str, Invoke], clients: Callable[[str], Any],
              queue_urls: dict[str, str], stop: threading.Event) -> list[Pump]:
    """One pump per event source mapping of the stack; ``queue_urls`` maps queue ARNs to URLs."""
    pumps: list[Pump] = []
    for logical_id, props in template.of_type("AWS::Lambda::EventSourceMapping").items():
        function_id = props["FunctionName"]["Ref"]
        source = resolve(props["EventSourceArn"])
        report = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        name = f"{template.stack_name}/{function_id}"
        if ":sqs:" in source:
            pumps.append(SqsPump(sqs=clients("sqs"), queue_url=queue_urls[source], queue_arn=source,
                                 invoke=functions[function_id], batch_size=int(props.get("BatchSize", 10)),
                                 report_failures=report, stop=stop, name=name))
        elif ":dynamodb:" in source and "/stream/" in source:
            destination = resolve(((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"))
            pumps.append(StreamPump(
                streams=clients("dynamodbstreams"), sqs=clients("sqs"), stream_arn=source,
                invoke=functions[function_id],
                function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_id}",
                batch_size=int(props.get("BatchSize", 100)), report_failures=report,
                bisect=bool(props.get("BisectBatchOnFunctionError")),
                max_retries=_limit(props.get("MaximumRetryAttempts")),
                max_record_age=_limit(props.get("MaximumRecordAgeInSeconds")),
                on_failure_url=queue_urls.get(destination) if destination else None,
                starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")), stop=stop, name=name))
        else:
            raise LookupError(f"{logical_id}: local emulation pumps SQS queues and DynamoDB streams, not {source}")
    return pumps


def _limit(value: Any) -> int | None:
    """A stream mapping's retry or age limit; None when unlimited (unset or -1, Lambda's default)."""
    return None if value is None or int(value) < 0 else int(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def _b64(value: Any) -> str | None:
    return base64.b64encode(value).decode("ascii") if isinstance(value, (bytes, bytearray)) else None


def _iso(epoch: Any, *, millis: bool = False) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(float(epoch), timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if millis else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
