"""The container worker in-process against moto: the large splitter, the failsafe, the host loop
(stop event, SIGTERM, heartbeat, task protection), and the image's layout."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.messages import (
    AuditEvent,
    ChunkMessage,
    DocumentMessage,
    Keys,
    PageMessage,
    QuarantineMessage,
    SizeClass,
    Stage,
    Status,
)
from lambda_src.pdf_pipeline.settings import Settings
from lambda_src.pdf_pipeline.shared.pdf_tools import pdf_tools
from lambda_src.pdf_pipeline.worker import __main__ as entry
from lambda_src.pdf_pipeline.worker.service import run_worker
from tests.pdf_pipeline.aws import IMAGES, STAGING, WORK, LocalApi

ROOT = Path(__file__).resolve().parents[2]
BATCH, DOCUMENT = "b-01JTESTBATCH00000000000000", "d-0123456789abcdef0123456789abcdef"


@pytest.fixture
def world(tmp_path):
    with aws.moto_world(WORK_DIR=str(tmp_path / "work"), POLL_WAIT_SECONDS="0", HEARTBEAT_SECONDS="0.2", DPI="72",
                        VISIBILITY_TIMEOUT="2", FAILURE_DELAY_SECONDS="0") as world:
        (tmp_path / "work").mkdir()
        yield world


def large_document(world, pages: int, *, key: str = "in/big.pdf", **kwargs) -> DocumentMessage:
    body = aws.pdf_of(pages, **kwargs)
    world.put(STAGING, key, body)
    return DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key=key, version_id=None,
                           size_bytes=len(body), size_class=SizeClass.LARGE, page_count=pages)


def run(world, mode: str, *, tools=None, stop: threading.Event | None = None, until_idle: bool = True):
    """The worker's loop in this thread until its queues are empty (or ``stop`` is set)."""
    stop = stop or threading.Event()
    return run_worker(mode, Settings.from_environ(), sqs=world.sqs, s3=world.s3, tools=tools or pdf_tools(), stop=stop,
                      idle=stop.set if until_idle else (lambda: None))


def visible(world, role: str) -> int:
    attributes = world.sqs.get_queue_attributes(QueueUrl=world.urls[role],
                                                AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def audit(world) -> list[AuditEvent]:
    return [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]


def slowed(seconds: float, *, after_chunk=None):
    """The PDF tools with chunks that take ``seconds`` longer each to cut (a long document)."""
    tools = pdf_tools()

    def split_into_chunks(source, **kwargs):
        for chunk in tools.split_into_chunks(source, **kwargs):
            time.sleep(seconds)
            yield chunk
            if after_chunk:
                after_chunk(chunk)
    return dataclasses.replace(tools, split_into_chunks=split_into_chunks)


# --- large ------------------------------------------------------------------------------------

def test_a_large_document_is_split_into_chunks_of_chunk_pages_in_the_work_bucket(world):
    world.send("large", large_document(world, 25).to_json())
    assert run(world, "large")["done"] == 1
    assert world.keys(WORK) == [Keys.chunk(BATCH, DOCUMENT, first, last) for first, last in
                                ((1, 10), (11, 20), (21, 25))]
    chunk = world.s3.get_object(Bucket=WORK, Key=Keys.chunk(BATCH, DOCUMENT, 21, 25))["Body"].read()
    assert aws.page_labels(chunk) == [f"Page {number:05d}" for number in range(21, 26)]


def test_each_chunk_goes_to_the_small_queue_and_the_audit_trail(world):
    world.send("large", large_document(world, 25).to_json())
    run(world, "large")
    chunks = sorted((ChunkMessage.from_json(m["Body"]) for m in world.receive_all("small")), key=lambda c: c.first_page)
    assert [(c.bucket, c.first_page, c.last_page) for c in chunks] == [(WORK, 1, 10), (WORK, 11, 20), (WORK, 21, 25)]
    events = audit(world)
    assert sorted(e.unit for e in events) == ["chunk:000001-000010", "chunk:000011-000020", "chunk:000021-000025"]
    assert {(e.stage, e.component, e.detail["page_count"]) for e in events} == {
        (Stage.SPLIT_LARGE, "fargate:large", 25)}


def test_the_message_is_deleted_after_its_chunks_and_task_storage_is_left_empty(world):
    world.send("large", large_document(world, 25).to_json())
    run(world, "large")
    assert world.depth("large") == 0
    assert list(Path(world.env["WORK_DIR"]).iterdir()) == []


def test_a_worker_stopped_mid_document_returns_the_message_and_counts_no_chunk_twice(world):
    world.send("large", large_document(world, 150).to_json())
    stop = threading.Event()
    cut = []

    def stop_after_twelve(chunk):
        cut.append(chunk)
        if len(cut) == 12:
            stop.set()        # SIGTERM, as the signal handler would set it

    assert run(world, "large", tools=slowed(0, after_chunk=stop_after_twelve), stop=stop,
               until_idle=False)["returned"] == 1
    assert visible(world, "large") == 1           # at once, not after its visibility timeout
    assert run(world, "large")["done"] == 1       # the redelivery, by this or another task
    events = audit(world)
    assert len({(e.document_id, e.stage, e.unit) for e in events}) == 15   # the writer's unique key
    assert len(world.keys(WORK)) == 15


def test_a_worker_stopped_during_the_download_returns_the_message_and_leaves_no_file(world):
    body = b"%PDF-1.7\n" + os.urandom(12 * 1024 * 1024)   # parts of it arrive before the stop is seen
    world.put(STAGING, "in/huge.pdf", body)
    world.send("large", DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key="in/huge.pdf",
                                        version_id=None, size_bytes=len(body), size_class=SizeClass.LARGE).to_json())
    stop = threading.Event()
    world.s3.meta.events.register("before-call.s3.GetObject", lambda **_: stop.set())   # SIGTERM mid-download
    assert run(world, "large", stop=stop, until_idle=False)["returned"] == 1
    assert visible(world, "large") == 1 and world.keys(WORK) == []
    assert list(Path(world.env["WORK_DIR"]).iterdir()) == []


def test_a_long_document_keeps_its_message_invisible(world):
    world.send("large", large_document(world, 40).to_json())
    worker = threading.Thread(target=run, args=(world, "large"), kwargs={"tools": slowed(1.0)})
    worker.start()
    time.sleep(3.0)                                  # past the 2-second visibility timeout
    seen = world.sqs.receive_message(QueueUrl=world.urls["large"], WaitTimeSeconds=0).get("Messages", [])
    worker.join()
    assert seen == [] and world.depth("large") == 0


def test_a_document_larger_than_task_storage_fails_without_downloading_and_is_dead_lettered(world, monkeypatch):
    world.send("large", large_document(world, 25).to_json())
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    downloads = []
    world.s3.meta.events.register("before-call.s3.GetObject", lambda **_: downloads.append(1))
    assert run(world, "large")["failed"] == aws.MAX_RECEIVE_COUNT
    assert downloads == [] and world.depth("small") == 0
    assert world.depth("large") == 0 and world.depth("large", dlq=True) == 1   # for the failsafe


def test_a_large_document_that_cannot_be_opened_is_rejected_and_its_message_done(world):
    world.put(STAGING, "in/locked.pdf", aws.broken("encrypted"))
    message = DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key="in/locked.pdf",
                              version_id=None, size_bytes=30, size_class=SizeClass.LARGE)
    world.send("large", message.to_json())
    assert run(world, "large")["done"] == 1
    [event] = audit(world)
    assert (event.stage, event.status, event.detail["reason"]) == (Stage.SPLIT_LARGE, Status.REJECTED, "encrypted")


# --- the host: signals and task protection ------------------------------------------------------

def test_sigterm_returns_the_message_in_hand_and_ends_the_loop(world):
    world.send("large", large_document(world, 40).to_json())
    stop = threading.Event()
    previous = {number: signal.getsignal(number) for number in entry.STOP_SIGNALS}
    entry.install_stop_signals(stop)
    try:
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        outcomes = run(world, "large", tools=slowed(0.2), stop=stop, until_idle=False)
        assert time.monotonic() - started < 2.0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert outcomes == {"done": 0, "returned": 1, "failed": 0}
    assert visible(world, "large") == 1


def test_scale_in_protection_is_on_while_a_message_is_worked_on_and_off_after(world):
    world.send("large", large_document(world, 5).to_json())
    with LocalApi(lambda request: (200, {"protection": {"ProtectionEnabled": json.loads(request.body)[
            "ProtectionEnabled"], "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/t"}})) as agent:
        os.environ["ECS_AGENT_URI"] = f"{agent.url}/api/task-1"
        run(world, "large")
    assert [(r.method, r.path, json.loads(r.body)) for r in agent.requests] == [
        ("PUT", "/api/task-1/task-protection/v1/state", {"ProtectionEnabled": True, "ExpiresInMinutes": 60}),
        ("PUT", "/api/task-1/task-protection/v1/state", {"ProtectionEnabled": False}),
    ]


def test_a_refused_protection_request_does_not_stop_the_work(world):
    world.send("large", large_document(world, 5).to_json())
    refusal = {"failure": {"Arn": "arn:aws:ecs:us-east-1:123456789012:task/c/t", "Detail": None,
                           "Reason": "TASK_NOT_VALID"}}
    with LocalApi(lambda request: (400, refusal)) as agent:
        os.environ["ECS_AGENT_URI"] = agent.url
        assert run(world, "large")["done"] == 1
    assert len(agent.requests) == 2


# --- failsafe ---------------------------------------------------------------------------------

def dead_letter(world, origin: str, message) -> None:
    world.sqs.send_message(QueueUrl=world.dlq_urls[origin], MessageBody=message.to_json())


def test_a_dead_lettered_large_document_is_taken_all_the_way_to_page_images(world):
    dead_letter(world, "large", large_document(world, 25))
    assert run(world, "failsafe")["done"] == 1
    assert world.keys(IMAGES) == [Keys.page_png(BATCH, DOCUMENT, page) for page in range(1, 26)]
    stages = [e.stage for e in audit(world)]
    assert (stages.count(Stage.SPLIT_LARGE), stages.count(Stage.SPLIT_SMALL), stages.count(Stage.CONVERTED)) == \
        (3, 25, 25)
    assert stages.count(Stage.FAILSAFE) == 1 and world.depth("large", dlq=True) == 0


def test_a_dead_lettered_ingest_document_is_classified_first(world):
    body = aws.pdf_of(3)
    world.put(STAGING, "in/three.pdf", body)
    dead_letter(world, "ingest", DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING,
                                                 key="in/three.pdf", version_id=None, size_bytes=len(body)))
    run(world, "failsafe")
    assert len(world.keys(IMAGES)) == 3
    assert {e.component for e in audit(world)} == {"fargate:failsafe"}


def test_a_page_that_fails_in_the_failsafe_too_is_quarantined_alone_with_its_reason(world):
    dead_letter(world, "large", large_document(world, 12))
    image = Keys.page_png(BATCH, DOCUMENT, 7)
    with aws.failing_requests(world.s3, "s3.PutObject", lambda params: params.get("Key") == image):
        run(world, "failsafe")
    [quarantined] = [QuarantineMessage.from_json(m["Body"]) for m in world.receive_all("quarantine")]
    page = PageMessage.from_json(quarantined.original_body)
    assert (quarantined.document_id, quarantined.origin_queue, page.page) == (DOCUMENT, "large", 7)
    assert quarantined.reason == ("ClientError: An error occurred (InternalError) when calling the PutObject "
                                  "operation: injected by the test")
    assert len(world.keys(IMAGES)) == 11
    [event] = [e for e in audit(world) if e.stage is Stage.QUARANTINED]
    assert (event.unit, event.status, event.detail["reason"]) == ("page:000007", Status.QUARANTINED,
                                                                  quarantined.reason)


def test_a_dead_letter_that_is_no_pipeline_message_is_quarantined_as_it_is(world):
    world.sqs.send_message(QueueUrl=world.dlq_urls["small"], MessageBody="{not json")
    run(world, "failsafe")
    [quarantined] = [QuarantineMessage.from_json(m["Body"]) for m in world.receive_all("quarantine")]
    assert (quarantined.batch_id, quarantined.original_body, quarantined.origin_queue) == ("", "{not json", "small")
    assert audit(world) == []


def test_a_dead_letter_the_failsafe_keeps_failing_on_is_quarantined_without_another_attempt(world):
    os.environ["FAILSAFE_MAX_RECEIVES"] = "2"
    page = PageMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key="in/p.pdf", page=1)
    world.put(STAGING, "in/p.pdf", aws.pdf_of(1))
    dead_letter(world, "single_page", page)
    for _ in range(2):   # two receives that never finished (the task died with the message in hand)
        world.sqs.receive_message(QueueUrl=world.dlq_urls["single_page"], VisibilityTimeout=0)
    run(world, "failsafe")
    [quarantined] = [QuarantineMessage.from_json(m["Body"]) for m in world.receive_all("quarantine")]
    assert "did not finish it in 2 attempts" in quarantined.reason and world.keys(IMAGES) == []


def test_a_rejected_document_in_the_failsafe_is_terminal_not_quarantined(world):
    world.put(STAGING, "in/locked.pdf", aws.broken("encrypted"))
    dead_letter(world, "ingest", DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING,
                                                 key="in/locked.pdf", version_id=None, size_bytes=30))
    run(world, "failsafe")
    assert world.depth("quarantine") == 0
    assert [(e.stage, e.status) for e in audit(world) if e.stage is Stage.CLASSIFIED] == [
        (Stage.CLASSIFIED, Status.REJECTED)]


def test_the_failsafe_refuses_to_start_with_an_unknown_origin(world):
    os.environ["DEAD_LETTER_QUEUE_URLS"] = f"inference={world.dlq_urls['converted_image']}"
    with pytest.raises(RuntimeError, match="unknown origin"):
        run(world, "failsafe")


# --- the image ----------------------------------------------------------------------------------

def test_the_package_runs_as_the_images_top_level_pdf_pipeline(tmp_path):
    shutil.copytree(ROOT / "lambda_src" / "pdf_pipeline", tmp_path / "pdf_pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pdf_pipeline.worker", "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0 and "--mode {large,failsafe}" in result.stdout


def dockerfile_instructions() -> dict[str, list[str]]:
    """The Dockerfile's instructions by kind, continuation lines joined."""
    dockerfile = (ROOT / "containers" / "pdf_worker" / "Dockerfile").read_text()
    by_kind: dict[str, list[str]] = {}
    for line in dockerfile.replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            kind, rest = line.split(None, 1)
            by_kind.setdefault(kind, []).append(rest)
    return by_kind


def test_the_image_installs_the_hash_lock_and_runs_the_worker_unprivileged():
    by_kind = dockerfile_instructions()
    assert by_kind["FROM"] == ["public.ecr.aws/docker/library/python:3.14-slim"]
    assert any("--require-hashes" in run and "--no-deps" in run for run in by_kind["RUN"])
    assert "lambda_src/pdf_pipeline /app/pdf_pipeline" in by_kind["COPY"]
    assert by_kind["USER"][-1].split(":")[0] not in ("root", "0")
    assert json.loads(by_kind["ENTRYPOINT"][-1]) == ["python", "-m", "pdf_pipeline.worker"]


def test_a_manual_build_context_is_the_one_the_stack_stages():
    from stacks.pdf_pipeline.containers import BUILD_CONTEXT_EXCLUDES

    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[:len(BUILD_CONTEXT_EXCLUDES)] == list(BUILD_CONTEXT_EXCLUDES)
    assert not any(line.startswith("!") for line in lines[len(BUILD_CONTEXT_EXCLUDES):])   # only less after


def test_task_storage_is_a_volume_the_unprivileged_user_owns():
    instructions = dockerfile_instructions()
    user = instructions["USER"][-1].split(":")[0]
    assert json.loads(instructions["VOLUME"][-1]) == ["/scratch"]
    assert any(f"chown {user}:{user} /scratch" in run for run in instructions["RUN"])
    assert "TMPDIR=/scratch" in instructions["ENV"]


def test_a_worker_missing_a_setting_refuses_to_start_naming_it(world):
    del os.environ["LARGE_BYTES"]
    with pytest.raises(RuntimeError, match="the failsafe worker needs environment variable.s. LARGE_BYTES"):
        run(world, "failsafe")
