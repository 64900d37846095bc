"""Fixtures of the PDF pipeline tests. Each part of the pipeline adds its own section."""
from __future__ import annotations

import pytest

from tests.pdf_pipeline.corpus import Corpus

# --- the generated PDF corpus (tests/pdf_pipeline/corpus.py) --------------------------------


@pytest.fixture(scope="session")
def pdf_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Every corpus document, written on first use into one folder for the session."""
    return Corpus(tmp_path_factory.mktemp("pdf-corpus"))
