"""core.pdf: page counts, every reject reason, and classification at every edge (real pdfium)."""
from __future__ import annotations

import pytest

from lambda_src.pdf_pipeline.core.pdf import Rejected, classify, count_pages, needs_page_count
from lambda_src.pdf_pipeline.messages import RejectReason, SizeClass
from tests.pdf_pipeline.corpus import TEN_MIB

DEFAULTS = {"large_bytes": TEN_MIB, "large_pages": 10}


@pytest.mark.parametrize(("name", "pages"), [("pages_1", 1), ("pages_2", 2), ("pages_10", 10), ("pages_11", 11)])
def test_pages_are_counted_from_a_file(pdf_corpus, name, pages):
    assert count_pages(pdf_corpus.path(name)) == pages


@pytest.mark.parametrize(("name", "pages"), [("pages_1", 1), ("pages_11", 11)])
def test_pages_are_counted_from_bytes(pdf_corpus, name, pages):
    assert count_pages(pdf_corpus.bytes(name)) == pages


def test_the_ten_mib_documents_are_exactly_at_and_one_byte_over_the_threshold(pdf_corpus):
    assert pdf_corpus.path("exactly_10mib").stat().st_size == 10 * 1024 * 1024 == TEN_MIB
    assert pdf_corpus.path("over_10mib").stat().st_size == TEN_MIB + 1


def test_a_document_padded_to_ten_mib_still_has_its_ten_pages(pdf_corpus):
    assert count_pages(pdf_corpus.path("exactly_10mib")) == 10


@pytest.mark.parametrize(("name", "reason", "detail"), [
    ("zero_bytes", RejectReason.EMPTY, "zero bytes"),
    ("png_renamed", RejectReason.NOT_PDF, "no %PDF- header"),
    ("html_error_page", RejectReason.NOT_PDF, "no %PDF- header"),
    ("encrypted", RejectReason.ENCRYPTED, "password"),
    ("unsupported_encryption", RejectReason.ENCRYPTED, "unsupported security scheme"),
    ("truncated", RejectReason.CORRUPT, "cannot load"),
    ("header_only", RejectReason.CORRUPT, "cannot load"),
    ("no_pages", RejectReason.NO_PAGES, "no pages"),
])
def test_a_document_that_cannot_be_processed_is_rejected_with_its_reason(pdf_corpus, name, reason, detail):
    with pytest.raises(Rejected, match=detail) as raised:
        count_pages(pdf_corpus.path(name))
    assert raised.value.reason is reason


def test_a_rejection_from_bytes_gives_the_same_reason_as_from_a_file(pdf_corpus):
    with pytest.raises(Rejected, match="password") as raised:
        count_pages(pdf_corpus.bytes("encrypted"))
    assert raised.value.reason is RejectReason.ENCRYPTED


def test_a_document_with_only_an_owner_password_is_processed(pdf_corpus):
    assert count_pages(pdf_corpus.path("owner_password_only")) == 2


def test_a_pdf_header_after_leading_junk_within_1024_bytes_is_accepted(pdf_corpus):
    assert count_pages(b"\r\n" * 500 + pdf_corpus.bytes("pages_2")) == 2


def test_a_pdf_header_beyond_the_first_1024_bytes_is_not_a_pdf(pdf_corpus):
    with pytest.raises(Rejected, match="first 1024 bytes") as raised:
        count_pages(b" " * 1024 + pdf_corpus.bytes("pages_2"))
    assert raised.value.reason is RejectReason.NOT_PDF


@pytest.mark.parametrize(("size", "pages", "expected"), [
    (1, 1, SizeClass.SINGLE_PAGE),
    (1, 2, SizeClass.SMALL),
    (1, 10, SizeClass.SMALL),
    (1, 11, SizeClass.LARGE),
    (TEN_MIB, 1, SizeClass.SINGLE_PAGE),
    (TEN_MIB, 10, SizeClass.SMALL),
    (TEN_MIB, 11, SizeClass.LARGE),
    (TEN_MIB + 1, 1, SizeClass.LARGE),
    (TEN_MIB + 1, None, SizeClass.LARGE),
])
def test_documents_are_classified_at_the_size_and_page_edges(size, pages, expected):
    assert classify(size, pages, **DEFAULTS) is expected


def test_the_thresholds_are_parameters():
    assert classify(100, 4, large_bytes=1000, large_pages=3) is SizeClass.LARGE
    assert classify(1001, 1, large_bytes=1000, large_pages=3) is SizeClass.LARGE
    assert classify(1000, 3, large_bytes=1000, large_pages=3) is SizeClass.SMALL


def test_the_page_count_is_needed_up_to_the_size_threshold_and_not_over_it():
    assert needs_page_count(TEN_MIB, large_bytes=TEN_MIB)
    assert not needs_page_count(TEN_MIB + 1, large_bytes=TEN_MIB)


def test_a_document_within_the_size_threshold_cannot_be_classified_without_its_page_count():
    with pytest.raises(ValueError, match="needs its page count"):
        classify(TEN_MIB, None, **DEFAULTS)


def test_a_page_count_below_one_cannot_be_classified():
    with pytest.raises(ValueError, match="0 pages cannot be classified"):
        classify(100, 0, **DEFAULTS)


@pytest.mark.parametrize(("name", "expected"), [
    ("pages_1", SizeClass.SINGLE_PAGE), ("pages_2", SizeClass.SMALL), ("pages_10", SizeClass.SMALL),
    ("pages_11", SizeClass.LARGE), ("exactly_10mib", SizeClass.SMALL), ("over_10mib", SizeClass.LARGE),
])
def test_corpus_documents_are_classified_as_the_post_says(pdf_corpus, name, expected):
    path = pdf_corpus.path(name)
    size = path.stat().st_size
    pages = count_pages(path) if needs_page_count(size, large_bytes=TEN_MIB) else None
    assert classify(size, pages, **DEFAULTS) is expected


def test_a_document_over_the_size_threshold_is_classified_without_counting_its_pages(pdf_corpus):
    size = pdf_corpus.path("over_10mib").stat().st_size
    assert not needs_page_count(size, large_bytes=TEN_MIB)
    assert classify(size, None, **DEFAULTS) is SizeClass.LARGE
