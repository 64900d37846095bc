"""Every environment variable a pipeline worker reads, in one typed object.

The stack (stacks/pdf_pipeline) sets these on each function and container; a worker reads
only the ones its job needs (``Settings.from_environ()`` parses lazily: a missing variable
fails when it is first used, naming it). Names are the contract between stack and code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

# Buckets
STAGING_BUCKET = "STAGING_BUCKET"          # where documents are uploaded (versioned)
WORK_BUCKET = "WORK_BUCKET"                # chunks/ and pages/ (lifecycle expiry)
IMAGES_BUCKET = "IMAGES_BUCKET"            # images/ (PNG pages)
ALLOWED_SOURCE_BUCKETS = "ALLOWED_SOURCE_BUCKETS"  # comma-separated; the staging bucket is always allowed
# Queues (URLs)
LIST_QUEUE_URL = "LIST_QUEUE_URL"          # FIFO: listing pages
INGEST_QUEUE_URL = "INGEST_QUEUE_URL"      # documents to classify
LARGE_QUEUE_URL = "LARGE_QUEUE_URL"
SMALL_QUEUE_URL = "SMALL_QUEUE_URL"
SINGLE_PAGE_QUEUE_URL = "SINGLE_PAGE_QUEUE_URL"
AUDIT_QUEUE_URL = "AUDIT_QUEUE_URL"        # audit events to the database writer
QUARANTINE_QUEUE_URL = "QUARANTINE_QUEUE_URL"
# The failsafe's sources: "origin=url,origin=url" (origins: ingest, large, small, single_page)
DEAD_LETTER_QUEUE_URLS = "DEAD_LETTER_QUEUE_URLS"
# Thresholds and rendering (defaults from the post: 10 MB / 10 pages; 150 DPI)
LARGE_BYTES = "LARGE_BYTES"
LARGE_PAGES = "LARGE_PAGES"
CHUNK_PAGES = "CHUNK_PAGES"
LIST_PAGE_SIZE = "LIST_PAGE_SIZE"          # ListObjectsV2 MaxKeys per listing message
DPI = "DPI"
MAX_PIXELS = "MAX_PIXELS"                  # per rendered page
# Database (through RDS Proxy, IAM auth, TLS)
DB_HOST = "DB_HOST"
DB_PORT = "DB_PORT"
DB_NAME = "DB_NAME"
DB_USER = "DB_USER"
MASTER_SECRET_ARN = "MASTER_SECRET_ARN"    # migrate only: the RDS-managed master secret
# Inference
INFERENCE_URL = "INFERENCE_URL"            # the REST API method that fronts SageMaker InvokeEndpoint
AWS_REGION = "AWS_REGION"                  # set by Lambda and ECS


@dataclass(frozen=True)
class Settings:
    environ: Mapping[str, str]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        return cls(dict(os.environ if environ is None else environ))

    def text(self, name: str) -> str:
        value = self.environ.get(name, "")
        if not value:
            raise RuntimeError(f"environment variable {name} is not set")
        return value

    def integer(self, name: str) -> int:
        text = self.text(name)
        try:
            return int(text)
        except ValueError:
            raise RuntimeError(f"environment variable {name} must be an integer, got {text!r}") from None

    def mapping(self, name: str) -> dict[str, str]:
        """``a=x,b=y`` -> {"a": "x", "b": "y"}"""
        pairs = [item.split("=", 1) for item in self.text(name).split(",") if item]
        if any(len(pair) != 2 for pair in pairs):
            raise RuntimeError(f"environment variable {name} must be name=value,name=value")
        return {name_: value for name_, value in pairs}

    def words(self, name: str) -> tuple[str, ...]:
        return tuple(word for word in self.environ.get(name, "").split(",") if word)
