"""The PDF pipeline's operators' command line.

    python -m ops.pdf_pipeline start-batch --prefix invoices/2026/ [--prefix ...] [--bucket B]
    python -m ops.pdf_pipeline status <batchId>
    python -m ops.pdf_pipeline report [name] [--batch <batchId>]
    python -m ops.pdf_pipeline redrive [--limit N]

Every command takes ``--stack`` (default PdfPipeline), ``--region`` and ``--profile``. The API
and queues are found in the stack's outputs (``ApiUrl``, ``IngestQueueUrl``,
``QuarantineQueueUrl``); API requests are signed with the caller's credentials (SigV4,
execute-api), so the caller needs execute-api:Invoke on the API and, for redrive, SQS access
to the two queues. Errors are one line on stderr and a non-zero exit status: 1 when the API
or AWS refused or failed the operation, 2 when the command cannot run (usage, credentials,
region, stack).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
from typing import Any, Callable, Sequence, TextIO

import boto3
import botocore.exceptions

from lambda_src.pdf_pipeline.messages import InvalidMessage, QuarantineMessage
from lambda_src.pdf_pipeline.shared.queues import QueueSender
from lambda_src.pdf_pipeline.shared.signed_http import signed_request

DEFAULT_STACK = "PdfPipeline"
API_URL, INGEST_QUEUE_URL, QUARANTINE_QUEUE_URL = "ApiUrl", "IngestQueueUrl", "QuarantineQueueUrl"
REQUEST_TIMEOUT = 30.0
BATCH_ID = re.compile(r"^b-[A-Za-z0-9-]{1,64}$")
REPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
REDRIVE_VISIBILITY = 120   # seconds a message left in quarantine stays out of this run's way
_REFUSED_CREDENTIALS = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                                  "UnrecognizedClientException", "SignatureDoesNotMatch", "AccessDenied",
                                  "AccessDeniedException"})


class CommandError(Exception):
    """What went wrong, in one line for the operator; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# --- AWS: session, stack outputs, signed API calls ---------------------------------------------

class Pipeline:
    """The deployed stack as the commands see it."""

    def __init__(self, *, stack: str, region: str | None, profile: str | None) -> None:
        try:
            self.session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound:
            raise CommandError(f"the AWS profile {profile!r} is not configured", 2) from None
        if self.session.region_name is None:
            raise CommandError("no AWS region: pass --region or set AWS_REGION", 2)
        self.credentials = self.session.get_credentials()
        if self.credentials is None:
            raise CommandError("no AWS credentials found: configure them (aws configure, aws sso login, "
                               "AWS_PROFILE) or pass --profile", 2)
        self.stack = stack
        self._outputs: dict[str, str] | None = None

    @property
    def region(self) -> str:
        return self.session.region_name

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def output(self, name: str) -> str:
        if self._outputs is None:
            self._outputs = self._describe()
        if name not in self._outputs:
            raise CommandError(f"stack {self.stack!r} has no output {name!r}: is it the PDF pipeline stack, "
                               "deployed with this version?", 2)
        return self._outputs[name]

    def _describe(self) -> dict[str, str]:
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
        except botocore.exceptions.ClientError as error:
            code = error.response["Error"]["Code"]
            message = error.response["Error"].get("Message", "")
            if code == "ValidationError" and "does not exist" in message:
                raise CommandError(f"stack {self.stack!r} not found in {self.region}: deploy it, or pass "
                                   "--stack and --region", 2) from None
            raise _aws_error(error, "reading the stack's outputs") from None
        except botocore.exceptions.NoCredentialsError:
            raise CommandError("no AWS credentials found: configure them or pass --profile", 2) from None
        return {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The API's JSON answer to a signed request; ``CommandError`` for any other answer."""
        url = self.output(API_URL).rstrip("/") + path
        try:
            answer = signed_request(method, url, credentials=self.credentials, region=self.region,
                                    timeout=REQUEST_TIMEOUT, body=body)
        except (urllib.error.URLError, OSError) as error:
            raise CommandError(f"cannot reach the API at {url}: {getattr(error, 'reason', error)}") from None
        try:
            document = answer.json()
        except ValueError:
            document = None
        if not 200 <= answer.status <= 299:
            message = document.get("message") or document.get("Message") if isinstance(document, dict) else None
            raise CommandError(f"the API answered {answer.status} to {method} {path}: "
                               f"{message or answer.body[:200].decode(errors='replace')}")
        if document is None:
            raise CommandError(f"the API answered {method} {path} with a body that is not JSON")
        return document


def _aws_error(error: botocore.exceptions.ClientError, doing: str) -> CommandError:
    code = error.response["Error"]["Code"]
    message = error.response["Error"].get("Message", "")
    if code in _REFUSED_CREDENTIALS:
        return CommandError(f"AWS refused the credentials while {doing} ({code}): {message}", 2)
    return CommandError(f"AWS failed while {doing} ({code}): {message}")


# --- printing ---------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as an aligned text table, columns in the order they first appear."""
    if not rows:
        return "(no rows)"
    columns: list[str] = []
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    cells = [[_cell(row.get(name)) for name in columns] for row in rows]
    widths = [max(len(name), *(len(line[index]) for line in cells)) for index, name in enumerate(columns)]
    numeric = [all(isinstance(row.get(name), (int, float)) or row.get(name) is None for row in rows)
               for name in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if right else value.ljust(width)
                         for value, width, right in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(columns), line(["-" * width for width in widths]), *(line(values) for values in cells)])


def report_rows(document: Any) -> tuple[list[dict[str, Any]], bool]:
    """The rows of a GET /reports/{name} answer, and whether the API cut them short."""
    if isinstance(document, dict) and isinstance(document.get("rows"), list):
        return document["rows"], bool(document.get("truncated"))
    raise CommandError("the reports API answered a shape this command does not know (expected rows)")


# --- commands ---------------------------------------------------------------------------------

def start_batch(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> None:
    body: dict[str, Any] = {"prefixes": args.prefix}
    if args.bucket:
        body["bucket"] = args.bucket
    answer = pipeline.call("POST", "/batches", body)
    print(answer["batchId"], file=out)


def status(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> None:
    if not BATCH_ID.match(args.batch_id):
        raise CommandError(f"{args.batch_id!r} is not a batch id (b-...)", 2)
    answer = pipeline.call("GET", f"/batches/{urllib.parse.quote(args.batch_id)}")
    print(json.dumps(answer, indent=2, sort_keys=True), file=out)


def known_reports(*, per_batch: bool) -> tuple[str, ...]:
    # The names live with the views' queries (db/queries.py, which needs pg8000 installed).
    from lambda_src.pdf_pipeline.db.queries import PER_BATCH_REPORTS, REPORTS

    return PER_BATCH_REPORTS if per_batch else REPORTS


def report(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> None:
    """One report, or every report (with ``--batch``: every report kept per batch)."""
    if args.batch is not None and not BATCH_ID.match(args.batch):
        raise CommandError(f"{args.batch!r} is not a batch id (b-...)", 2)
    names = [args.name] if args.name else list(known_reports(per_batch=args.batch is not None))
    query = f"?{urllib.parse.urlencode({'batchId': args.batch})}" if args.batch else ""
    for index, name in enumerate(names):
        if not REPORT_NAME.match(name):
            raise CommandError(f"{name!r} is not a report name", 2)
        rows, truncated = report_rows(pipeline.call("GET", f"/reports/{name}{query}"))
        if index:
            print(file=out)
        print(f"== {name}", file=out)
        print(table(rows), file=out)
        if truncated:
            print(f"(the first {len(rows)} rows only: pass --batch to narrow the report)", file=out)


def redrive(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> None:
    """Quarantined messages back to the ingest queue as they were first sent (the classify
    step sends a chunk or page message straight on to its own stage)."""
    sqs = pipeline.client("sqs")
    quarantine, ingest = pipeline.output(QUARANTINE_QUEUE_URL), pipeline.output(INGEST_QUEUE_URL)
    sender = QueueSender(sqs)
    moved = left = 0
    try:
        while args.limit is None or moved + left < args.limit:
            wanted = 10 if args.limit is None else min(10, args.limit - moved - left)
            messages = sqs.receive_message(QueueUrl=quarantine, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
                                           VisibilityTimeout=REDRIVE_VISIBILITY).get("Messages", [])
            if not messages:
                break
            movable = []
            for message in messages:
                try:
                    quarantined = QuarantineMessage.from_json(message["Body"])
                except InvalidMessage:
                    quarantined = None
                if quarantined is None or not quarantined.batch_id:
                    left += 1   # not a pipeline message: stays in quarantine for a person to read
                else:
                    movable.append((message, quarantined))
            if movable:
                sender.send(ingest, [quarantined.original_body for _, quarantined in movable])
                sqs.delete_message_batch(QueueUrl=quarantine, Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, (message, _) in enumerate(movable)])
                moved += len(movable)
    except botocore.exceptions.ClientError as error:
        raise _aws_error(error, f"redriving (after {moved} moved)") from None
    print(f"redriven {moved} message(s) to the ingest queue", file=out)
    if left:
        print(f"left {left} message(s) in quarantine that are not pipeline messages: read them in the console",
              file=out)


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", default=DEFAULT_STACK, help=f"the stack's name (default {DEFAULT_STACK})")
    common.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    common.add_argument("--profile", help="the AWS profile to use (default: your AWS configuration's)")
    top = argparse.ArgumentParser(prog="python -m ops.pdf_pipeline", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start-batch", parents=[common], help="start a batch; prints its id")
    start.add_argument("--prefix", action="append", required=True, help="a key prefix to ingest (repeatable)")
    start.add_argument("--bucket", help="the source bucket (default: the staging bucket)")
    start.set_defaults(run=start_batch)
    watch = commands.add_parser("status", parents=[common], help="a batch's progress")
    watch.add_argument("batch_id")
    watch.set_defaults(run=status)
    reports = commands.add_parser("report", parents=[common], help="print one report, or all")
    reports.add_argument("name", nargs="?", help="the report (default: all of them)")
    reports.add_argument("--batch", help="only this batch's rows")
    reports.set_defaults(run=report)
    again = commands.add_parser("redrive", parents=[common], help="quarantined work back to the ingest queue")
    again.add_argument("--limit", type=_positive, help="move at most this many messages")
    again.set_defaults(run=redrive)
    return top


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
         pipeline_factory: Callable[..., Pipeline] = Pipeline) -> int:
    args = parser().parse_args(argv)
    try:
        pipeline = pipeline_factory(stack=args.stack, region=args.region, profile=args.profile)
        args.run(pipeline, args, out)
    except CommandError as error:
        print(f"error: {error}", file=err)
        return error.status
    return 0
