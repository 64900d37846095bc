"""convert_page: one page -> a PNG in the images bucket, within the pixel cap."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.convert_page import handler as convert_page
from lambda_src.pdf_pipeline.convert_page.logic import convert
from lambda_src.pdf_pipeline.messages import AuditEvent, Keys, PageMessage, Stage, Status
from lambda_src.pdf_pipeline.shared.audit import AuditTrail
from lambda_src.pdf_pipeline.shared.pdf_tools import pdf_tools
from lambda_src.pdf_pipeline.shared.store import S3Store
from tests.pdf_pipeline import corpus
from tests.pdf_pipeline.aws import IMAGES, WORK

BATCH, DOCUMENT = "b-01JTESTBATCH00000000000000", "d-0123456789abcdef0123456789abcdef"


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def page(world, body: bytes, number: int = 4) -> PageMessage:
    key = Keys.page_pdf(BATCH, DOCUMENT, number)
    world.put(WORK, key, body)
    return PageMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=WORK, key=key, page=number)


def render(world, message, *, dpi: int = 150, max_pixels: int = 40_000_000):
    return convert(message, store=S3Store(world.s3), tools=pdf_tools(), images_bucket=IMAGES, dpi=dpi,
                   max_pixels=max_pixels, trail=AuditTrail("lambda:convert_page"))


def test_a_page_becomes_a_png_under_its_page_key_with_its_metadata(world):
    render(world, page(world, aws.pdf_of(1)))
    stored = world.s3.get_object(Bucket=IMAGES, Key=Keys.page_png(BATCH, DOCUMENT, 4))
    png = stored["Body"].read()
    assert stored["ContentType"] == "image/png" and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size == (1275, 1650)   # letter at 150 DPI
    assert stored["Metadata"] == {"batch-id": BATCH, "document-id": DOCUMENT, "page": "4", "dpi": "150",
                                  "width": "1275", "height": "1650"}


def test_the_converted_event_records_size_and_dpi(world):
    [event] = render(world, page(world, aws.pdf_of(1))).events
    assert (event.stage, event.status, event.unit) == (Stage.CONVERTED, Status.SUCCEEDED, "page:000004")
    assert (event.detail["width"], event.detail["height"], event.detail["dpi"]) == (1275, 1650, 150.0)


def test_a_page_over_the_pixel_cap_is_rendered_at_the_dpi_that_fits_and_says_so(world):
    [event] = render(world, page(world, aws.pdf_of(1)), max_pixels=1_000_000).events
    assert event.status is Status.SUCCEEDED and event.detail["requested_dpi"] == 150 and event.detail["dpi"] < 150
    assert event.detail["width"] * event.detail["height"] <= 1_000_000


def test_a_page_that_cannot_fit_even_at_one_dpi_is_rejected(world):
    step = render(world, page(world, aws.pdf_of(1, size=corpus.POSTER)), max_pixels=10_000)   # 200 x 200 in
    [event] = step.events
    assert (event.status, event.detail["reason"]) == (Status.REJECTED, "page_too_large")
    assert world.keys(IMAGES) == []


def test_converting_again_rewrites_the_same_image(world):
    message = page(world, aws.pdf_of(1))
    render(world, message)
    render(world, message)
    assert world.keys(IMAGES) == [Keys.page_png(BATCH, DOCUMENT, 4)]


def test_the_handler_converts_each_page_and_records_it(world):
    message = page(world, aws.pdf_of(1))
    assert aws.failed_ids(convert_page.handler(aws.sqs_event([message.to_json()]), aws.context())) == []
    [event] = [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]
    assert (event.stage, event.status, event.component) == (Stage.CONVERTED, Status.SUCCEEDED, "lambda:convert_page")
    assert world.keys(IMAGES) == [Keys.page_png(BATCH, DOCUMENT, 4)]


def test_a_page_whose_pdf_is_gone_fails_alone_and_is_reported(world):
    present = page(world, aws.pdf_of(1), number=1)
    missing = PageMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=WORK, key="pages/missing.pdf", page=2)
    event = aws.sqs_event([present.to_json(), missing.to_json()])
    assert aws.failed_ids(convert_page.handler(event, aws.context())) == ["m-1"]
    failed = [e for e in map(AuditEvent.from_json, (m["Body"] for m in world.receive_all("audit")))
              if e.status is Status.FAILED]
    assert [(e.unit, e.detail["reason"].split(":")[0]) for e in failed] == [("page:000002", "ObjectMissing")]
