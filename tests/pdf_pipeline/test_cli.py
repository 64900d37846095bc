"""The operators' CLI against a loopback API stand-in and moto (CloudFormation outputs, SQS)."""
from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.credentials import Credentials

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.db.queries import REPORTS
from lambda_src.pdf_pipeline.messages import DocumentMessage, PageMessage, QuarantineMessage
from ops.pdf_pipeline import cli
from tests.pdf_pipeline.aws import LocalApi

BATCH = "b-01JTESTBATCH0000000000000"
STATUS = {"batchId": BATCH, "documents": {"found": 3, "converted": 2}, "pages": {"converted": 14}}


def api_answers(recorded):
    if recorded.method == "POST" and recorded.path == "/prod/batches":
        body = json.loads(recorded.body)
        return 202, {"batchId": BATCH, "bucket": body.get("bucket", aws.STAGING), "prefixes": body["prefixes"]}
    if recorded.path == f"/prod/batches/{BATCH}":
        return 200, STATUS
    if recorded.path == "/prod/reports/documents_processed":
        return 200, {"report": "documents_processed", "batchId": None, "truncated": False,
                     "rows": [{"batch_id": BATCH, "documents": 3, "pages": 14}]}
    if recorded.path == f"/prod/reports/pages_per_stage?batchId={BATCH}":
        return 200, {"report": "pages_per_stage", "batchId": BATCH, "truncated": True,
                     "rows": [{"batch_id": BATCH, "stage": "converted", "succeeded": 1000}]}
    if recorded.path.startswith("/prod/reports/") and recorded.path != "/prod/reports/forbidden":
        name = recorded.path.removeprefix("/prod/reports/").split("?")[0]
        return 200, {"report": name, "batchId": None, "truncated": False, "rows": [{"name": name}]}
    if recorded.path == "/prod/reports/forbidden":
        return 403, {"message": "User is not authorized to access this resource with an explicit deny"}
    return 404, {"message": "Not Found"}


@pytest.fixture
def deployed():
    """The world plus a deployed-looking stack whose outputs point at it and at the API stand-in."""
    with aws.moto_world() as world, LocalApi(api_answers) as api:
        template = {"Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "marker"}}},
                    "Outputs": {"ApiUrl": {"Value": f"{api.url}/prod/"},
                                "IngestQueueUrl": {"Value": world.urls["ingest"]},
                                "QuarantineQueueUrl": {"Value": world.urls["quarantine"]}}}
        boto3.client("cloudformation", region_name=aws.REGION).create_stack(
            StackName="PdfPipeline", TemplateBody=json.dumps(template))
        yield world, api


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_start_batch_prints_the_batch_id(deployed):
    assert run("start-batch", "--prefix", "invoices/2026/", "--region", aws.REGION) == (0, f"{BATCH}\n", "")


def test_start_batch_posts_every_prefix_and_the_bucket(deployed):
    _, api = deployed
    run("start-batch", "--prefix", "a/", "--prefix", "b/", "--bucket", aws.PARTNER)
    [request] = api.requests
    assert json.loads(request.body) == {"prefixes": ["a/", "b/"], "bucket": aws.PARTNER}


def test_requests_are_signed_with_the_callers_credentials(deployed):
    _, api = deployed
    run("start-batch", "--prefix", "a/")
    [request] = api.requests
    caller = boto3.Session().get_credentials().get_frozen_credentials()
    assert aws.signature_is_valid("POST", f"{api.url}{request.path}", request.headers, request.body,
                                  Credentials(caller.access_key, caller.secret_key, caller.token))


def test_status_prints_the_batch_progress(deployed):
    status, out, _ = run("status", BATCH)
    assert status == 0 and json.loads(out) == STATUS


def test_status_refuses_what_is_not_a_batch_id_without_calling_the_api(deployed):
    _, api = deployed
    status, _, err = run("status", "../reports/x")
    assert status == 2 and "is not a batch id" in err and api.requests == []


def test_a_report_is_printed_as_a_table(deployed):
    status, out, _ = run("report", "documents_processed")
    assert status == 0
    assert out.splitlines() == [
        "== documents_processed",
        "batch_id".ljust(len(BATCH)) + "  documents  pages",
        "-" * len(BATCH) + "  ---------  -----",
        f"{BATCH}          3     14",
    ]


def test_report_without_a_name_prints_every_report(deployed):
    status, out, _ = run("report")
    assert status == 0 and [line for line in out.splitlines() if line.startswith("== ")] == [
        f"== {name}" for name in REPORTS]


def test_a_report_can_be_narrowed_to_a_batch_and_says_when_it_was_cut_short(deployed):
    status, out, _ = run("report", "pages_per_stage", "--batch", BATCH)
    assert status == 0 and out.splitlines()[-1] == "(the first 1 rows only: pass --batch to narrow the report)"


def test_an_api_refusal_is_one_line_and_exit_status_1(deployed):
    status, out, err = run("report", "forbidden")
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "403" in err and "explicit deny" in err


def test_a_missing_stack_is_named_with_exit_status_2(deployed):
    status, _, err = run("status", BATCH, "--stack", "NoSuchStack")
    assert status == 2 and err == f"error: stack 'NoSuchStack' not found in {aws.REGION}: deploy it, or pass " \
                                  "--stack and --region\n"


def test_missing_credentials_are_named_with_exit_status_2(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    status, _, err = run("status", BATCH, "--region", aws.REGION)
    assert status == 2 and err.startswith("error: no AWS credentials found") and err.count("\n") == 1


def test_an_unknown_profile_is_named_with_exit_status_2(deployed):
    status, _, err = run("status", BATCH, "--profile", "nobody")
    assert status == 2 and "profile 'nobody' is not configured" in err


def quarantined(world, message, reason="RuntimeError: pdfium crashed"):
    body = QuarantineMessage(batch_id=message.batch_id, document_id=message.document_id, origin_queue="single_page",
                             original_body=message.to_json(), reason=reason).to_json()
    world.send("quarantine", body)


def page(number: int) -> PageMessage:
    return PageMessage(batch_id=BATCH, document_id="d-0123456789abcdef0123456789abcdef", bucket=aws.WORK,
                       key=f"pages/{BATCH}/d-0123456789abcdef0123456789abcdef/{number:06d}.pdf", page=number)


def test_redrive_moves_quarantined_work_back_to_the_ingest_queue_as_it_was(deployed):
    world, _ = deployed
    document = DocumentMessage(batch_id=BATCH, document_id="d-1", bucket=aws.STAGING, key="in/a.pdf",
                               version_id=None, size_bytes=10)
    quarantined(world, document)
    quarantined(world, page(3))
    status, out, _ = run("redrive")
    assert (status, out) == (0, "redriven 2 message(s) to the ingest queue\n")
    assert sorted(m["Body"] for m in world.receive_all("ingest")) == sorted([document.to_json(), page(3).to_json()])
    assert world.depth("quarantine") == 0


def test_redrive_stops_at_its_limit(deployed):
    world, _ = deployed
    for number in range(1, 6):
        quarantined(world, page(number))
    status, out, _ = run("redrive", "--limit", "3")
    assert (status, out) == (0, "redriven 3 message(s) to the ingest queue\n")
    assert len(world.receive_all("ingest")) == 3


def test_redrive_leaves_what_is_not_a_pipeline_message(deployed):
    world, _ = deployed
    world.send("quarantine", "something else")
    world.send("quarantine", QuarantineMessage(batch_id="", document_id="", origin_queue="small",
                                               original_body="garbage", reason="not a message").to_json())
    status, out, _ = run("redrive")
    assert status == 0 and "redriven 0" in out and "left 2 message(s)" in out
    assert world.depth("ingest") == 0


def test_numbers_are_right_aligned_and_nested_values_printed_as_json():
    assert cli.table([{"name": "a", "n": 5, "detail": {"x": 1}}, {"name": "bbb", "n": 12, "detail": None}]) == (
        "name   n  detail\n"
        "----  --  -------\n"
        "a      5  {\"x\":1}\n"
        "bbb   12")


def test_a_report_without_rows_says_so():
    assert cli.table([]) == "(no rows)"
