"""core.split: chunks and single pages hold exactly the original pages (pixels and text),
numbered as in the original, with memory that does not follow the document's size."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lambda_src.pdf_pipeline.core.pdf import Rejected
from lambda_src.pdf_pipeline.core.render import render_page
from lambda_src.pdf_pipeline.core.split import Chunk, split_into_chunks, split_into_pages
from lambda_src.pdf_pipeline.messages import RejectReason
from tests.pdf_pipeline.corpus import form_field_ink, page_count, page_label, page_pixels, page_rotations, page_texts

ROOT = Path(__file__).resolve().parents[2]


def ranges(chunks: list[Chunk]) -> list[tuple[int, int]]:
    return [(chunk.first_page, chunk.last_page) for chunk in chunks]


def test_an_eleven_page_document_splits_into_ten_pages_and_one(pdf_corpus, tmp_path):
    chunks = list(split_into_chunks(pdf_corpus.path("pages_11"), chunk_pages=10, out_dir=tmp_path))
    assert ranges(chunks) == [(1, 10), (11, 11)]
    assert [page_count(chunk.path) for chunk in chunks] == [10, 1]


def test_a_ten_page_document_in_chunks_of_three_ends_with_a_one_page_chunk(pdf_corpus, tmp_path):
    chunks = list(split_into_chunks(pdf_corpus.path("pages_10"), chunk_pages=3, out_dir=tmp_path))
    assert ranges(chunks) == [(1, 3), (4, 6), (7, 9), (10, 10)]


def test_chunk_files_are_named_by_their_page_range(pdf_corpus, tmp_path):
    chunks = list(split_into_chunks(pdf_corpus.path("pages_11"), chunk_pages=10, out_dir=tmp_path))
    assert [chunk.path.name for chunk in chunks] == ["000001-000010.pdf", "000011-000011.pdf"]


def test_every_page_of_every_chunk_is_the_original_page(pdf_corpus, tmp_path):
    original = pdf_corpus.path("pages_11")
    texts = page_texts(original)
    for chunk in split_into_chunks(original, chunk_pages=4, out_dir=tmp_path):
        assert page_texts(chunk.path) == texts[chunk.first_page - 1:chunk.last_page]
        for offset in range(chunk.last_page - chunk.first_page + 1):
            assert np.array_equal(page_pixels(chunk.path, offset), page_pixels(original, chunk.first_page - 1 + offset))


def test_reopening_the_source_between_chunks_changes_no_chunk(pdf_corpus, tmp_path):
    source = pdf_corpus.path("pages_11")
    (tmp_path / "once").mkdir()
    (tmp_path / "each").mkdir()
    once = list(split_into_chunks(source, chunk_pages=2, out_dir=tmp_path / "once"))
    reopened = list(split_into_chunks(source, chunk_pages=2, out_dir=tmp_path / "each", reopen_after_bytes=1))
    assert ranges(reopened) == ranges(once) == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 11)]
    assert [page_texts(chunk.path) for chunk in reopened] == [page_texts(chunk.path) for chunk in once]


def test_a_chunk_is_written_before_it_is_handed_out_and_the_caller_may_delete_it(pdf_corpus, tmp_path):
    for chunk in split_into_chunks(pdf_corpus.path("pages_10"), chunk_pages=3, out_dir=tmp_path):
        assert page_count(chunk.path) == chunk.last_page - chunk.first_page + 1
        chunk.path.unlink()
    assert list(tmp_path.iterdir()) == []


def test_rotated_pages_keep_their_rotation_in_a_chunk(pdf_corpus, tmp_path):
    [chunk] = split_into_chunks(pdf_corpus.path("rotated_pages"), chunk_pages=10, out_dir=tmp_path)
    assert page_rotations(chunk.path) == [0, 90, 180, 270]


def test_chunk_pages_below_one_is_refused(pdf_corpus, tmp_path):
    with pytest.raises(ValueError, match="chunk_pages must be at least 1"):
        next(split_into_chunks(pdf_corpus.path("pages_2"), chunk_pages=0, out_dir=tmp_path))


def test_an_encrypted_document_is_rejected_before_any_chunk_is_written(pdf_corpus, tmp_path):
    with pytest.raises(Rejected, match="password") as raised:
        next(split_into_chunks(pdf_corpus.path("encrypted"), chunk_pages=10, out_dir=tmp_path))
    assert raised.value.reason is RejectReason.ENCRYPTED
    assert list(tmp_path.iterdir()) == []


def test_a_document_splits_into_one_pdf_per_page_numbered_from_one(pdf_corpus):
    pages = list(split_into_pages(pdf_corpus.path("pages_10")))
    assert [number for number, _ in pages] == list(range(1, 11))
    assert all(page_count(pdf) == 1 for _, pdf in pages)


def test_each_single_page_pdf_is_the_original_page(pdf_corpus):
    original = pdf_corpus.path("pages_10")
    texts = page_texts(original)
    for number, pdf in split_into_pages(original):
        assert page_texts(pdf) == [texts[number - 1]]
        assert texts[number - 1].startswith(page_label(number))
        assert np.array_equal(page_pixels(pdf), page_pixels(original, number - 1))


def test_pages_of_a_chunk_are_numbered_as_in_the_original_document(pdf_corpus, tmp_path):
    [_, last_chunk] = split_into_chunks(pdf_corpus.path("pages_11"), chunk_pages=10, out_dir=tmp_path)
    [(number, pdf)] = split_into_pages(last_chunk.path.read_bytes(), first_page=last_chunk.first_page)
    assert number == 11
    assert page_texts(pdf)[0].startswith(page_label(11))


def test_a_rotated_single_page_keeps_its_rotation_and_pixels(pdf_corpus):
    original = pdf_corpus.path("rotated_pages")
    for number, pdf in split_into_pages(original):
        assert page_rotations(pdf) == [page_rotations(original)[number - 1]]
        assert np.array_equal(page_pixels(pdf), page_pixels(original, number - 1))


def test_a_form_fields_value_survives_splitting(pdf_corpus):
    [(_, single)] = split_into_pages(pdf_corpus.path("form_page"))
    assert form_field_ink(render_page(single, dpi=72, max_pixels=10 ** 8).png) > 0.02


def test_a_first_page_below_one_is_refused(pdf_corpus):
    with pytest.raises(ValueError, match="first_page must be at least 1"):
        next(split_into_pages(pdf_corpus.path("pages_2"), first_page=0))


def test_a_page_that_pdfium_cannot_copy_is_rejected_as_corrupt(pdf_corpus):
    pages = split_into_pages(pdf_corpus.bytes("missing_page"))
    assert next(pages)[0] == 1
    with pytest.raises(Rejected, match="cannot copy pages 2-2") as raised:
        next(pages)
    assert raised.value.reason is RejectReason.CORRUPT


def test_a_chunk_with_a_page_that_cannot_be_copied_is_rejected_before_it_is_written(pdf_corpus, tmp_path):
    with pytest.raises(Rejected, match="cannot copy pages 1-2"):
        next(split_into_chunks(pdf_corpus.path("missing_page"), chunk_pages=10, out_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_document_is_rejected_as_corrupt_when_split_into_pages(pdf_corpus):
    with pytest.raises(Rejected, match="cannot load") as raised:
        next(split_into_pages(pdf_corpus.bytes("truncated")))
    assert raised.value.reason is RejectReason.CORRUPT


_PEAK_RSS_OF_A_SPLIT = textwrap.dedent("""
    import json, sys, tempfile
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from lambda_src.pdf_pipeline.core.split import split_into_chunks
    out = Path(tempfile.mkdtemp())
    pages = 0
    for chunk in split_into_chunks(Path(sys.argv[2]), chunk_pages=10, out_dir=out, reopen_after_bytes=int(sys.argv[3])):
        pages += chunk.last_page - chunk.first_page + 1
        chunk.path.unlink()
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"pages": pages, "peak_kib": int(peak.split()[1])}))
""")


def _peak_rss_mib(document: Path, reopen_after_bytes: int) -> float:
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS_OF_A_SPLIT, str(ROOT), str(document),
                             str(reopen_after_bytes)], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout)["peak_kib"] / 1024


def test_splitting_memory_does_not_follow_the_document_size(pdf_corpus):
    """Five times the pages (and bytes) may cost pdfium's page index (about 2 KB a page),
    not the content: without reopening the source, the difference would be the 48 MB of
    content between the two documents."""
    short, long = pdf_corpus.long_document(200), pdf_corpus.long_document(1000)
    assert long.stat().st_size > short.stat().st_size + 40 * 2 ** 20
    window = 8 * 2 ** 20
    growth = _peak_rss_mib(long, window) - _peak_rss_mib(short, window)
    assert growth < 8, f"peak RSS grew by {growth:.1f} MiB from 200 to 1,000 pages"
