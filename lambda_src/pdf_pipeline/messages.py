"""Every message the pipeline's queues carry, and every audit event, as one JSON contract.

Each message is a frozen dataclass with ``to_json()`` / ``from_json()``; ``from_json`` refuses
anything that is not exactly the shape (unknown or missing fields, wrong types) with
``InvalidMessage``, so a poison message fails alone and is never half-processed.

Identity: a batch has a ``batch_id`` (ULID-like, time-ordered, from ``new_batch_id``); a
document's ``document_id`` is derived from (batch, bucket, key, version) by ``document_id``,
so listing the same page twice yields the same ids. Pages are numbered from 1.
S3 keys of everything derived from a document start with its id (``Keys`` below).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, TypeVar

SCHEMA_VERSION = 1


class InvalidMessage(ValueError):
    """A queue message or audit event that is not the contract's shape."""


class SizeClass(str, Enum):
    LARGE = "large"
    SMALL = "small"
    SINGLE_PAGE = "single_page"


class Stage(str, Enum):
    """Where a document or page is; one audit event per stage and unit of work."""
    BATCH = "batch"              # the batch was created (unit: the batch)
    LISTED = "listed"            # ingestion found the document (first audit record)
    CLASSIFIED = "classified"    # size class decided (or rejected)
    SPLIT_LARGE = "split_large"  # a chunk of a large document written (unit: chunk)
    SPLIT_SMALL = "split_small"  # a single-page PDF written (unit: page)
    CONVERTED = "converted"      # a page rendered to PNG (unit: page)
    INFERRED = "inferred"        # the model answered for a page (unit: page)
    FAILSAFE = "failsafe"        # the failsafe worker handled a dead-lettered message
    QUARANTINED = "quarantined"  # nothing could process it; terminal, with a reason


class Status(str, Enum):
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"        # terminal: the input is not processable (not a PDF, encrypted, ...)
    FAILED = "failed"            # this attempt failed; a retry, the DLQ or the failsafe follows
    QUARANTINED = "quarantined"  # terminal until an operator redrives it


class RejectReason(str, Enum):
    EMPTY = "empty"                  # zero bytes
    NOT_PDF = "not_pdf"              # no %PDF header or not parseable as PDF at all
    ENCRYPTED = "encrypted"          # needs a password we do not have
    CORRUPT = "corrupt"              # a PDF header, but pdfium cannot load it
    NO_PAGES = "no_pages"            # loads, zero pages
    TOO_LARGE = "too_large"          # over the configured absolute limits
    PAGE_TOO_LARGE = "page_too_large"  # a page whose render would exceed the pixel cap


_Message = TypeVar("_Message", bound="_Json")


class _Json:
    """to_json / from_json for the dataclasses below: exact shape, nothing else."""

    KIND: ClassVar[str]

    def to_json(self) -> str:
        body = {"kind": self.KIND, "v": SCHEMA_VERSION, **_encode(dataclasses.asdict(self))}
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls: type[_Message], text: str | bytes) -> _Message:
        try:
            body = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise InvalidMessage(f"{cls.__name__}: not JSON ({error})") from None
        if not isinstance(body, dict) or body.get("kind") != cls.KIND or body.get("v") != SCHEMA_VERSION:
            raise InvalidMessage(f"{cls.__name__}: expected kind {cls.KIND!r} v{SCHEMA_VERSION}")
        values = {k: v for k, v in body.items() if k not in ("kind", "v")}
        return _decode(cls, values)


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(cls: type, values: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    missing = sorted(name for name, f in fields.items() if name not in values
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if unknown or missing:
        raise InvalidMessage(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
    converted = {}
    hints = {name: f.type for name, f in fields.items()}
    for name, value in values.items():
        converted[name] = _coerce(cls.__name__, name, hints[name], value)
    return cls(**converted)


_SIMPLE = {"str": str, "int": int, "bool": bool, "float": (int, float)}
_ENUMS = {"SizeClass": SizeClass, "Stage": Stage, "Status": Status, "RejectReason": RejectReason}


def _coerce(owner: str, name: str, hint: str, value: Any) -> Any:
    optional = hint.endswith(" | None")
    base = hint.removesuffix(" | None")
    if value is None:
        if optional:
            return None
        raise InvalidMessage(f"{owner}.{name} must not be null")
    if base in _ENUMS:
        try:
            return _ENUMS[base](value)
        except ValueError:
            raise InvalidMessage(f"{owner}.{name}: {value!r} is not a {base}") from None
    if base.startswith("dict["):
        if not isinstance(value, dict):
            raise InvalidMessage(f"{owner}.{name} must be an object")
        return value
    if base.startswith("tuple["):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidMessage(f"{owner}.{name} must be a list of strings")
        return tuple(value)
    expected = _SIMPLE[base]
    if isinstance(value, bool) and base != "bool" or not isinstance(value, expected):
        raise InvalidMessage(f"{owner}.{name} must be {base}, got {type(value).__name__}")
    return value


# --- identity ---------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_batch_id(now: float | None = None, entropy: bytes | None = None) -> str:
    """``b-`` + 26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits
    (a ULID), so batch ids sort by creation time."""
    millis = int((time.time() if now is None else now) * 1000)
    number = (millis << 80) | int.from_bytes(entropy if entropy is not None else os.urandom(10), "big")
    text = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(125, -5, -5))
    return f"b-{text}"


def document_id(batch_id: str, bucket: str, key: str, version: str | None) -> str:
    """``d-`` + 32 hex characters of sha256(batch, bucket, key, version or ETag): the same
    object in the same batch always gets the same id, so redelivered listing pages are no-ops."""
    digest = hashlib.sha256()
    for part in (batch_id, bucket, key, version or ""):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return f"d-{digest.hexdigest()[:32]}"


class Keys:
    """S3 keys of everything derived from a document (work and images buckets): batch, then
    document, then the page range, so a batch's output lists under one prefix and redoing a
    step overwrites the same object."""

    @staticmethod
    def chunk(batch: str, document: str, first_page: int, last_page: int) -> str:
        return f"chunks/{batch}/{document}/{first_page:06d}-{last_page:06d}.pdf"

    @staticmethod
    def page_pdf(batch: str, document: str, page: int) -> str:
        return f"pages/{batch}/{document}/{page:06d}.pdf"

    @staticmethod
    def page_png(batch: str, document: str, page: int) -> str:
        return f"images/{batch}/{document}/{page:06d}.png"

    @staticmethod
    def parse_page_png(key: str) -> tuple[str, str, int]:
        """(batch, document, page) of a ``page_png`` key; InvalidMessage for anything else."""
        parts = key.split("/")
        if (len(parts) != 4 or parts[0] != "images" or not parts[1].startswith("b-")
                or not parts[2].startswith("d-") or not parts[3].endswith(".png") or not parts[3][:-4].isdigit()):
            raise InvalidMessage(f"not a page image key: {key!r}")
        return parts[1], parts[2], int(parts[3][:-4])


# --- queue messages -------------------------------------------------------------------------

@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None


@dataclass(frozen=True)
class ListRequest(_Json):
    """Listing queue (FIFO): list one page of one prefix, then enqueue the next page."""
    KIND: ClassVar[str] = "list"
    batch_id: str
    bucket: str
    prefix: str
    continuation_token: str | None = None
    page_number: int = 1


@dataclass(frozen=True)
class DocumentMessage(_Json):
    """Ingest queue (to classify), large queue, and the failsafe's view of either."""
    KIND: ClassVar[str] = "document"
    batch_id: str
    document_id: str
    bucket: str
    key: str
    version_id: str | None
    size_bytes: int
    size_class: SizeClass | None = None   # set once classified
    page_count: int | None = None          # known when it was counted


@dataclass(frozen=True)
class ChunkMessage(_Json):
    """Small queue: a PDF of pages first_page..last_page (numbers in the original document)."""
    KIND: ClassVar[str] = "chunk"
    batch_id: str
    document_id: str
    bucket: str
    key: str
    first_page: int
    last_page: int


@dataclass(frozen=True)
class PageMessage(_Json):
    """Single-page queue: one page as a one-page PDF (``page`` numbers the original)."""
    KIND: ClassVar[str] = "page"
    batch_id: str
    document_id: str
    bucket: str
    key: str
    page: int
    page_count: int | None = None


@dataclass(frozen=True)
class QuarantineMessage(_Json):
    """Quarantine queue: what the failsafe could not process, with why and where it came from."""
    KIND: ClassVar[str] = "quarantine"
    batch_id: str
    document_id: str
    origin_queue: str        # the queue whose DLQ held it: ingest, large, small, single_page
    original_body: str       # the message as it was, for the redrive command
    reason: str


# --- audit events ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditEvent(_Json):
    """One fact for the audit database (the audit queue carries these; the writer inserts them
    idempotently: the unique key is (document_id or batch_id, stage, unit))."""
    KIND: ClassVar[str] = "audit"
    batch_id: str
    stage: Stage
    status: Status
    component: str                  # what ran it: "lambda:classify", "fargate:large", ...
    occurred_at: str                # ISO 8601 UTC with milliseconds
    document_id: str | None = None
    unit: str = ""                  # "" for the document itself, "chunk:000001-000010", "page:000007"
    duration_ms: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # reason, size_class, pages, features ...
