"""POST /batches: the request body's rules, and what a new batch sends.

API Gateway validates the body against its model first; these rules are checked again here
because a model cannot say everything (duplicate keys, byte lengths, overlapping prefixes)
and the function must not trust that it sits behind one. Every refusal is ``BadRequest``
with a message for the caller (400), never an exception that becomes a 5xx.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from suite_lib import strict_json

from ..list_objects.logic import list_message
from ..messages import ListRequest, Stage, Status
from ..shared.audit import AuditTrail
from ..shared.queues import Outgoing

MAX_BODY_BYTES = 256 * 1024
MAX_NESTING = 4                  # {"prefixes": [...]} nests 2 deep
MAX_NUMBER_LENGTH = 40
MAX_PREFIXES = 100
MAX_PREFIX_BYTES = 1024          # S3's limit for a key, so for any prefix of one
MAX_BUCKET_NAME = 63             # S3's limit; longer names are cut in error messages
FIELDS = frozenset({"prefixes", "bucket"})


class BadRequest(ValueError):
    """The request cannot be accepted as sent; the message says why."""


@dataclass(frozen=True)
class BatchRequest:
    bucket: str
    prefixes: tuple[str, ...]


def decode_body(event: dict[str, Any]) -> dict[str, Any]:
    """The proxy event's body as a JSON object, read strictly (suite_lib.strict_json: size
    before decoding, base64, repeated keys, NaN, nesting, long numbers, lone surrogates)."""
    try:
        return strict_json.read_object(event, max_bytes=MAX_BODY_BYTES, max_nesting=MAX_NESTING,
                                       max_number_length=MAX_NUMBER_LENGTH)
    except strict_json.InvalidBody as error:
        raise BadRequest(f"{error}; send {{\"prefixes\": [\"invoices/2026/\"], \"bucket\"?: ...}}") from None


def _prefix(value: Any, index: int) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"prefixes[{index}] must be a non-empty string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest(f"prefixes[{index}] is not valid Unicode (a lone surrogate)") from None
    if size > MAX_PREFIX_BYTES:
        raise BadRequest(f"prefixes[{index}] is {size} bytes in UTF-8; at most {MAX_PREFIX_BYTES}")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise BadRequest(f"prefixes[{index}] contains a control character")
    return value


def parse_request(document: dict[str, Any], *, staging_bucket: str, allowed_buckets: tuple[str, ...]) -> BatchRequest:
    unknown = sorted(set(document) - FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(repr(name) for name in unknown)}")
    prefixes = document.get("prefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise BadRequest("prefixes must be a non-empty list of strings")
    if len(prefixes) > MAX_PREFIXES:
        raise BadRequest(f"at most {MAX_PREFIXES} prefixes per batch, got {len(prefixes)}")
    checked = tuple(_prefix(value, index) for index, value in enumerate(prefixes))
    if len(set(checked)) != len(checked):
        raise BadRequest("prefixes must not repeat")
    for inner in checked:
        outer = next((other for other in checked if other != inner and inner.startswith(other)), None)
        if outer is not None:
            # The same objects would be listed twice, and processed twice.
            raise BadRequest(f"prefix {inner!r} is inside prefix {outer!r}: give only {outer!r}")
    bucket = document.get("bucket", staging_bucket)
    if not isinstance(bucket, str) or not bucket:
        raise BadRequest("bucket must be a non-empty string")
    if bucket != staging_bucket and bucket not in allowed_buckets:
        shown = bucket if len(bucket) <= MAX_BUCKET_NAME else bucket[:MAX_BUCKET_NAME] + "..."
        raise BadRequest(f"bucket {shown!r} is not allowed: use the staging bucket {staging_bucket!r} "
                         "or one of the configured allowed source buckets")
    return BatchRequest(bucket=bucket, prefixes=checked)


def first_pages(batch_id: str, request: BatchRequest) -> list[Outgoing]:
    return [list_message(ListRequest(batch_id=batch_id, bucket=request.bucket, prefix=prefix))
            for prefix in request.prefixes]


def batch_event(trail: AuditTrail, batch_id: str, request: BatchRequest, *, requested_by: str | None):
    return trail.event(batch_id=batch_id, stage=Stage.BATCH, status=Status.SUCCEEDED,
                       detail={"bucket": request.bucket, "prefixes": list(request.prefixes),
                               "requested_by": requested_by, "trigger": "api"})


def accepted_body(batch_id: str, request: BatchRequest) -> dict[str, Any]:
    return {"batchId": batch_id, "bucket": request.bucket, "prefixes": list(request.prefixes)}
