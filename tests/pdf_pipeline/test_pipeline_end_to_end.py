"""The whole pipeline, in-process: moto S3 and SQS, a real PostgreSQL, the real handlers and worker
loops, the model faked at the SageMaker edge (behind the REST API stand-in), the operators' CLI.

One scenario runs once for the module (it is the expensive part) and each test asserts one
thing about what it did:

1. a mixed batch from the corpus is uploaded and started with ``start-batch``;
2. faults are injected: S3 reads that fail a few times (retried through SQS), an endpoint
   that throttles and errs at first (retried inside invoke_model), conversion that always
   fails in Lambda for one document (its pages dead-letter and the failsafe converts them),
   one page that fails in the failsafe too (quarantined), and one page the model always
   refuses (its message ends in the inference DLQ, with a failed event saying why);
3. every queue is driven to empty (Lambda queues through a pump that batches like the event
   source mapping and honours partial batch failures and maxReceiveCount; the Fargate
   workers' loops until idle), the quarantine fault is fixed, ``redrive`` is run, and the
   queues are driven to empty again;
4. the state (database rows, images, page PDFs) is recorded, every message ever delivered
   at every stage is delivered once more, the queues are drained again, and the state is
   recorded again.
"""
from __future__ import annotations

import contextlib
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")

from tests.pdf_pipeline import aws  # noqa: E402 - first: it sets the environment the handlers read at import
from tests.pdf_pipeline.postgres import database_for_handlers  # noqa: E402

pytest_plugins = ["tests.pdf_pipeline.postgres"]

# isort: split
from lambda_src.pdf_pipeline.auto_ingest import handler as auto_ingest  # noqa: E402
from lambda_src.pdf_pipeline.batch_status import handler as batch_status  # noqa: E402
from lambda_src.pdf_pipeline.classify import handler as classify  # noqa: E402
from lambda_src.pdf_pipeline.convert_page import handler as convert_page  # noqa: E402
from lambda_src.pdf_pipeline.db.migrate import apply_migrations  # noqa: E402
from lambda_src.pdf_pipeline.invoke_model import handler as invoke_model  # noqa: E402
from lambda_src.pdf_pipeline.list_objects import handler as list_objects  # noqa: E402
from lambda_src.pdf_pipeline.messages import Keys, QuarantineMessage, document_id  # noqa: E402
from lambda_src.pdf_pipeline.reports import handler as reports  # noqa: E402
from lambda_src.pdf_pipeline.settings import Settings  # noqa: E402
from lambda_src.pdf_pipeline.shared import aws as worker_aws  # noqa: E402
from lambda_src.pdf_pipeline.shared.pdf_tools import pdf_tools  # noqa: E402
from lambda_src.pdf_pipeline.shared.queues import deduplication_id  # noqa: E402
from lambda_src.pdf_pipeline.shared.s3_events import objects_created  # noqa: E402
from lambda_src.pdf_pipeline.split_small import handler as split_small  # noqa: E402
from lambda_src.pdf_pipeline.start_batch import handler as start_batch  # noqa: E402
from lambda_src.pdf_pipeline.worker.service import run_worker  # noqa: E402
from lambda_src.pdf_pipeline.write_audit import handler as write_audit  # noqa: E402
from ops.pdf_pipeline import cli  # noqa: E402
from tests.pdf_pipeline.aws import IMAGES, STAGING, WORK, Gateway, LocalApi, Pump, RecordingSqs  # noqa: E402
from tests.pdf_pipeline.postgres import APP_USER, MigratedDatabase  # noqa: E402

PREFIX = "mixed/"
# Corpus document -> what must become of it.
PROCESSED = {"text_page": 1, "pages_2": 2, "pages_10": 10, "pages_11": 11, "over_10mib": 10, "rotated_page": 1,
             "poster_page": 1, "owner_password_only": 2}
REJECTED = {"encrypted": "encrypted", "truncated": "corrupt", "zero_bytes": "empty", "png_renamed": "not_pdf",
            "no_pages": "no_pages"}
LAMBDA_CANNOT_CONVERT = "pages_2"          # every conversion in Lambda fails: the failsafe does them
QUARANTINED_PAGE = ("pages_11", 5)         # fails in Lambda and in the failsafe, until the fix
MODEL_REFUSES = ("rotated_page", 1)        # the endpoint always fails this page
TRANSIENT_S3_READS = 3                     # the first GetObject calls of the functions fail
TRANSIENT_MODEL_ANSWERS = [429, 429, 503, 500]
LAMBDA_ROLES = ["list", "ingest", "small", "single_page", "converted_image", "audit", "auto_ingest"]
DEAD_LETTERED = ("ingest", "large", "small", "single_page")


def has_signature(key: str) -> bool:
    """The stand-in model's one feature: documents whose key has "pages_1" (pages_10, pages_11)."""
    return "pages_1" in key


@dataclass
class Scenario:
    world: aws.World
    database: MigratedDatabase
    batch_id: str = ""
    keys: dict[str, str] = field(default_factory=dict)            # corpus name -> S3 key
    ids: dict[str, str] = field(default_factory=dict)             # corpus name -> document id
    pump: Pump | None = None
    worker_sqs: RecordingSqs | None = None
    model_requests: list[str] = field(default_factory=list)       # image keys the model was asked about
    injected: dict[str, list] = field(default_factory=dict)
    quarantined: list[QuarantineMessage] = field(default_factory=list)
    redrive_output: str = ""
    before_redelivery: dict[str, Any] = field(default_factory=dict)
    after_redelivery: dict[str, Any] = field(default_factory=dict)
    cli_status: dict[str, Any] = field(default_factory=dict)
    cli_report: str = ""
    dead_letters_seen: dict[str, int] = field(default_factory=dict)
    inference_dead_letters: list[str] = field(default_factory=list)
    list_invocations: int = 0

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return self.database.rows(sql, **params)

    def report(self, name: str) -> list[dict[str, Any]]:
        status, body = self.api("GET", f"/reports/{name}?batchId={self.batch_id}")
        assert status == 200, body
        return body["rows"]

    def api(self, method: str, path: str) -> tuple[int, Any]:
        from lambda_src.pdf_pipeline.shared.signed_http import signed_request

        answer = signed_request(method, f"{self.api_url}{path}", credentials=aws.caller_credentials(),
                                region=aws.REGION, timeout=30)
        return answer.status, answer.json()

    api_url: str = ""


def _module_database(postgres, migrated_template) -> MigratedDatabase:
    name = postgres.create_database(template=migrated_template)
    with contextlib.closing(postgres.connect_master(name)) as master:
        assert apply_migrations(master, app_user=APP_USER) == []
    return MigratedDatabase(postgres, name)


def _model(scenario: Scenario):
    answers = list(TRANSIENT_MODEL_ANSWERS)

    def respond(recorded: aws.Recorded) -> tuple[int, Any]:
        request = json.loads(recorded.body)
        scenario.model_requests.append(request["key"])
        if answers:
            return answers.pop(0), {"message": "throttled" if answers and answers[0] == 429 else "busy"}
        refused_doc, refused_page = MODEL_REFUSES
        if request["key"] == Keys.page_png(scenario.batch_id, scenario.ids[refused_doc], refused_page):
            return 500, {"message": "the model container crashed"}
        return 200, {"features": {"signature": has_signature(_name_of(scenario, request["key"]))},
                     "model": "stand-in"}

    return respond


def _name_of(scenario: Scenario, image_key: str) -> str:
    document = image_key.split("/")[2]
    return next(name for name, doc in scenario.ids.items() if doc == document)


def _drive(scenario: Scenario) -> None:
    """Every queue to empty: Lambda queues through the pump, then the Fargate loops, until a
    whole round moves nothing."""
    settings = Settings.from_environ()
    while True:
        moved = scenario.pump.drain(LAMBDA_ROLES)
        for mode, roles in (("large", ["large"]), ("failsafe", DEAD_LETTERED)):
            if mode == "failsafe":
                for role in roles:
                    scenario.dead_letters_seen[role] = (scenario.dead_letters_seen.get(role, 0)
                                                        + scenario.world.depth(role, dlq=True))
            stop = threading.Event()
            outcomes = run_worker(mode, settings, sqs=scenario.worker_sqs, s3=scenario.world.s3, tools=pdf_tools(),
                                  stop=stop, idle=stop.set)
            moved += sum(outcomes.values())
        if not moved:
            return


def _state(scenario: Scenario) -> dict[str, Any]:
    tables = {table: scenario.rows(f"SELECT * FROM audit.{table} ORDER BY 1, 2") for table in (
        "documents", "pages", "inference_results")}
    tables["events"] = scenario.rows(
        "SELECT subject, stage, unit, status, occurred_at, component, detail FROM audit.events "
        "ORDER BY subject, stage, unit, status")
    objects = {bucket: sorted(scenario.world.keys(bucket)) for bucket in (WORK, IMAGES)}
    return {"tables": json.loads(json.dumps(tables, default=str, sort_keys=True)), "objects": objects}


def _cli(scenario: Scenario, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main([*argv, "--region", aws.REGION], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def scenario(postgres, migrated_template, pdf_corpus, tmp_path_factory):
    database = _module_database(postgres, migrated_template)
    work_dir = tmp_path_factory.mktemp("task-storage")
    with contextlib.ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        world = stack.enter_context(aws.moto_world(
            WORK_DIR=str(work_dir), POLL_WAIT_SECONDS="0", VISIBILITY_TIMEOUT="60", HEARTBEAT_SECONDS="20",
            FAILURE_DELAY_SECONDS="0", LIST_PAGE_SIZE="3", DPI="72", MAX_PIXELS="20000000",
            FAILSAFE_MAX_RECEIVES="10"))
        scenario = Scenario(world=world, database=database)
        patch.setattr(write_audit, "database", database_for_handlers(database))
        patch.setattr(batch_status.api, "database", database_for_handlers(database))
        patch.setattr(reports.api, "database", database_for_handlers(database))
        gateway = Gateway(routes={("POST", "/batches"): start_batch.handler,
                                  ("GET", "/batches/{batchId}"): batch_status.handler,
                                  ("GET", "/reports/{name}"): reports.handler},
                          integrations={("POST", "/inference"): _model(scenario)})
        api = stack.enter_context(LocalApi(gateway))
        gateway.url = api.url
        scenario.api_url = f"{api.url}/prod"
        patch.setenv("INFERENCE_URL", f"{api.url}/prod/inference")
        # The stack, as the CLI finds it.
        template = {"Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "marker"}}},
                    "Outputs": {"ApiUrl": {"Value": f"{api.url}/prod/"},
                                "IngestQueueUrl": {"Value": world.urls["ingest"]},
                                "QuarantineQueueUrl": {"Value": world.urls["quarantine"]}}}
        import boto3
        boto3.client("cloudformation", region_name=aws.REGION).create_stack(StackName="PdfPipeline",
                                                                           TemplateBody=json.dumps(template))
        arn = world.sqs.get_queue_attributes(QueueUrl=world.urls["converted_image"],
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        world.s3.put_bucket_notification_configuration(Bucket=IMAGES, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {
                "FilterRules": [{"Name": "prefix", "Value": "images/"}, {"Name": "suffix", "Value": ".png"}]}}}]})

        # 1. the batch
        for name in [*PROCESSED, *REJECTED]:
            scenario.keys[name] = f"{PREFIX}{name}.pdf"
            world.put(STAGING, scenario.keys[name], pdf_corpus.bytes(name))
        world.put(STAGING, f"{PREFIX}folder/", b"")
        status, out, err = _cli(scenario, "start-batch", "--prefix", PREFIX)
        assert status == 0, err
        scenario.batch_id = out.strip()
        for name, key in scenario.keys.items():
            etag = world.s3.head_object(Bucket=STAGING, Key=key)["ETag"].strip('"')
            scenario.ids[name] = document_id(scenario.batch_id, STAGING, key, etag)

        # 2. the faults
        lambda_s3 = worker_aws.client("s3")
        lambda_only = Keys.page_png(scenario.batch_id, scenario.ids[LAMBDA_CANNOT_CONVERT], 0).rsplit("/", 1)[0]
        doc, page = QUARANTINED_PAGE
        everywhere = Keys.page_png(scenario.batch_id, scenario.ids[doc], page)
        scenario.injected["s3_reads"] = stack.enter_context(
            aws.failing_calls(lambda_s3, "s3.GetObject", times=TRANSIENT_S3_READS))
        scenario.injected["lambda_only"] = stack.enter_context(aws.failing_requests(
            lambda_s3, "s3.PutObject", lambda params: params.get("Key", "").startswith(lambda_only + "/")))
        fix = contextlib.ExitStack()
        scenario.injected["everywhere_lambda"] = fix.enter_context(aws.failing_requests(
            lambda_s3, "s3.PutObject", lambda params: params.get("Key") == everywhere))
        scenario.injected["everywhere_failsafe"] = fix.enter_context(aws.failing_requests(
            world.s3, "s3.PutObject", lambda params: params.get("Key") == everywhere))

        # 3. drive, fix, redrive, drive
        handlers = {"list": list_objects.handler, "ingest": classify.handler, "small": split_small.handler,
                    "single_page": convert_page.handler, "converted_image": invoke_model.handler,
                    "audit": write_audit.handler, "auto_ingest": auto_ingest.handler}
        scenario.pump = Pump(world, handlers, remaining_ms={"converted_image": 4_500})
        scenario.worker_sqs = RecordingSqs(world.sqs, {url: role for role, url in world.urls.items()} | {
            url: f"{role}-dlq" for role, url in world.dlq_urls.items()})
        _drive(scenario)
        scenario.list_invocations = scenario.pump.invocations.get("list", 0)
        scenario.quarantined = [QuarantineMessage.from_json(m["Body"]) for m in world.sqs.receive_message(
            QueueUrl=world.urls["quarantine"], MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])]
        fix.close()
        status, scenario.redrive_output, err = _cli(scenario, "redrive")
        assert status == 0, err
        _drive(scenario)
        scenario.inference_dead_letters = [created.key for m in world.sqs.receive_message(
                                               QueueUrl=world.dlq_urls["converted_image"], MaxNumberOfMessages=10,
                                               VisibilityTimeout=0).get("Messages", [])
                                           for created in objects_created(m["Body"])]
        status, out, err = _cli(scenario, "status", scenario.batch_id)
        assert status == 0, err
        scenario.cli_status = json.loads(out)
        status, scenario.cli_report, err = _cli(scenario, "report", "--batch", scenario.batch_id)
        assert status == 0, err

        # 4. redeliver everything, once
        scenario.before_redelivery = _state(scenario)
        for role, body in [*scenario.pump.delivered, *scenario.worker_sqs.delivered]:
            queue = world.dlq_urls[role.removesuffix("-dlq")] if role.endswith("-dlq") else world.urls[role]
            extra = {}
            if role == "list":
                extra = {"MessageGroupId": "redelivery", "MessageDeduplicationId": deduplication_id(body, "again")}
            world.sqs.send_message(QueueUrl=queue, MessageBody=body, **extra)
        _drive(scenario)
        scenario.after_redelivery = _state(scenario)
        yield scenario
    postgres.drop_database(database.name)


def documents(scenario: Scenario) -> dict[str, dict[str, Any]]:
    rows = scenario.rows("SELECT * FROM audit.documents WHERE batch_id = :b", b=scenario.batch_id)
    by_id = {row["document_id"]: row for row in rows}
    return {name: by_id[doc] for name, doc in scenario.ids.items()}


# --- the invariant ------------------------------------------------------------------------------

def test_every_document_was_found_and_nothing_else(scenario):
    rows = scenario.rows("SELECT document_id FROM audit.documents WHERE batch_id = :b", b=scenario.batch_id)
    assert sorted(row["document_id"] for row in rows) == sorted(scenario.ids.values())


def test_every_processable_document_ends_with_every_page_converted_and_inferred_but_the_refused_one(scenario):
    found = documents(scenario)
    for name, pages in PROCESSED.items():
        expected = "converted" if name == MODEL_REFUSES[0] else "inferred"
        assert (found[name]["status"], found[name]["page_count"], found[name]["pages_converted"]) == (
            expected, pages, pages), name
        images = scenario.world.keys(IMAGES, f"images/{scenario.batch_id}/{scenario.ids[name]}/")
        assert images == [Keys.page_png(scenario.batch_id, scenario.ids[name], n) for n in range(1, pages + 1)]


def test_every_unprocessable_document_is_rejected_with_its_reason(scenario):
    found = documents(scenario)
    assert {name: (found[name]["status"], found[name]["reject_reason"]) for name in REJECTED} == {
        name: ("rejected", reason) for name, reason in REJECTED.items()}


def test_the_page_the_model_refuses_waits_in_the_inference_dlq_with_a_failed_event_saying_why(scenario):
    doc, page = MODEL_REFUSES
    assert scenario.inference_dead_letters == [Keys.page_png(scenario.batch_id, scenario.ids[doc], page)]
    [event] = scenario.rows("SELECT detail FROM audit.events WHERE document_id = :d AND stage = 'inferred' "
                            "AND status = 'failed'", d=scenario.ids[doc])
    assert event["detail"]["reason"].startswith("ModelUnavailable")


# --- each fault handled where it should be --------------------------------------------------------

def test_transient_s3_failures_were_retried_through_sqs(scenario):
    assert len(scenario.injected["s3_reads"]) == TRANSIENT_S3_READS
    assert scenario.pump.failures.get("ingest", 0) >= 1
    failed = scenario.rows("SELECT count(DISTINCT document_id) AS n FROM audit.events WHERE batch_id = :b "
                           "AND stage = 'classified' AND status = 'failed'", b=scenario.batch_id)
    assert failed[0]["n"] >= 1


def test_throttling_and_server_errors_were_retried_inside_the_inference_function(scenario):
    pages = sum(PROCESSED.values())
    assert len(scenario.model_requests) >= pages + len(TRANSIENT_MODEL_ANSWERS)


def test_pages_lambda_could_not_convert_were_dead_lettered_and_converted_by_the_failsafe(scenario):
    assert scenario.dead_letters_seen.get("single_page", 0) >= PROCESSED[LAMBDA_CANNOT_CONVERT]
    components = scenario.rows("SELECT DISTINCT component FROM audit.events WHERE document_id = :d "
                               "AND stage = 'converted' AND status = 'succeeded'",
                               d=scenario.ids[LAMBDA_CANNOT_CONVERT])
    assert components == [{"component": "fargate:failsafe"}]


def test_what_failed_in_the_failsafe_too_was_quarantined_with_its_reason(scenario):
    doc, page = QUARANTINED_PAGE
    [quarantined] = scenario.quarantined
    assert (quarantined.document_id, json.loads(quarantined.original_body)["page"]) == (scenario.ids[doc], page)
    assert "injected by the test" in quarantined.reason
    [event] = scenario.rows("SELECT detail FROM audit.events WHERE document_id = :d AND stage = 'quarantined'",
                            d=scenario.ids[doc])
    assert event["detail"]["reason"] == quarantined.reason


def test_redriven_quarantine_was_processed_after_the_fix(scenario):
    assert scenario.redrive_output == "redriven 1 message(s) to the ingest queue\n"
    doc, page = QUARANTINED_PAGE
    [row] = scenario.rows("SELECT converted_status, inferred_status FROM audit.pages WHERE document_id = :d "
                          "AND page_number = :p", d=scenario.ids[doc], p=page)
    assert row == {"converted_status": "succeeded", "inferred_status": "succeeded"}


def test_the_listing_ran_one_page_of_three_keys_per_invocation(scenario):
    keys = len(PROCESSED) + len(REJECTED) + 1        # and the folder marker
    assert scenario.list_invocations == -(-keys // 3)


# --- redelivery ---------------------------------------------------------------------------------

def test_redelivering_every_message_of_every_stage_changes_no_document_page_answer_or_object(scenario):
    assert scenario.pump.delivered and scenario.worker_sqs.delivered
    before, after = scenario.before_redelivery, scenario.after_redelivery
    assert after["objects"] == before["objects"]
    for table in ("documents", "pages", "inference_results"):
        assert after["tables"][table] == before["tables"][table], table


def test_redelivery_adds_no_audit_row_but_the_failsafes_success_on_the_page_fixed_since(scenario):
    before = [json.dumps(row, sort_keys=True) for row in scenario.before_redelivery["tables"]["events"]]
    after = [json.dumps(row, sort_keys=True) for row in scenario.after_redelivery["tables"]["events"]]
    added = [json.loads(row) for row in sorted(set(after) - set(before))]
    # The dead letter of the quarantined page, delivered again after the fix, now succeeds in the
    # failsafe: a new fact (its status is part of the event's key), not a repeated one.
    doc, page = QUARANTINED_PAGE
    assert [(row["subject"], row["stage"], row["unit"], row["status"]) for row in added] == [
        (scenario.ids[doc], "failsafe", f"page:{page:06d}", "succeeded")]
    assert set(before) <= set(after)


# --- the reports and the status the operators read --------------------------------------------------

def test_the_batch_status_says_complete_with_every_count(scenario):
    status = scenario.cli_status
    assert status["documents"]["found"] == len(PROCESSED) + len(REJECTED)
    assert status["documents"]["rejected"] == len(REJECTED)
    assert status["documents"]["inferred"] == len(PROCESSED) - 1
    assert status["pages"]["converted"] == sum(PROCESSED.values())
    assert status["complete"] is True


def test_the_documents_processed_report_counts_the_batch(scenario):
    [row] = scenario.report("documents_processed")
    assert (row["documents_found"], row["documents_converted"], row["documents_inferred"],
            row["documents_rejected"], row["documents_quarantined"], row["documents_in_progress"]) == (
        len(PROCESSED) + len(REJECTED), len(PROCESSED), len(PROCESSED) - 1, len(REJECTED), 0, 0)
    assert row["pages_converted"] == sum(PROCESSED.values())
    assert row["pages_inferred"] == sum(PROCESSED.values()) - 1


def test_the_failures_report_names_every_document_that_failed_and_why(scenario):
    rows = {row["document_id"]: row for row in scenario.report("document_failures")}
    for name, reason in REJECTED.items():
        assert any(reason in text for text in rows[scenario.ids[name]]["reasons"]), name
    assert any("ModelUnavailable" in text for text in rows[scenario.ids[MODEL_REFUSES[0]]]["reasons"])
    assert any("quarantined" in text for text in rows[scenario.ids[QUARANTINED_PAGE[0]]]["reasons"])


def test_the_features_report_counts_documents_with_and_without_the_models_feature(scenario):
    [row] = scenario.report("document_features")
    with_signature = sum(1 for name in PROCESSED if has_signature(scenario.keys[name]))
    inferred = len(PROCESSED) - 1          # the refused one-page document has no answer at all
    assert (row["feature"], row["documents_with"], row["documents_without"]) == (
        "signature", with_signature, inferred - with_signature)


def test_the_pages_per_stage_report_has_every_page_converted(scenario):
    rows = {row["stage"]: row for row in scenario.report("pages_per_stage")}
    assert rows["converted"]["succeeded"] == sum(PROCESSED.values())
    assert rows["inferred"]["succeeded"] == sum(PROCESSED.values()) - 1


def test_the_report_command_prints_every_per_batch_report(scenario):
    assert [line for line in scenario.cli_report.splitlines() if line.startswith("== ")] == [
        "== documents_processed", "== document_failures", "== document_features", "== pages_per_stage"]


def test_the_durations_report_shows_which_compute_ran_each_stage(scenario):
    status, body = scenario.api("GET", "/reports/stage_durations")
    components = {(row["stage"], row["component"]) for row in body["rows"]}
    assert {("converted", "lambda:convert_page"), ("converted", "fargate:failsafe"),
            ("split_large", "fargate:large")} <= components
