"""Ask the model about one page image, within a deadline, retrying what is worth retrying.

The request is ``{"bucket", "key"}`` of the PNG (the model reads the image itself). Throttling
(429) and server errors (5xx), timeouts and dropped connections are retried with exponential
backoff and full jitter while the deadline allows another attempt; then ``ModelUnavailable``
is raised, the message fails, SQS redelivers it later, and after the queue's maxReceiveCount
it waits in the DLQ: a page is never lost. Any other status is ``ModelRefused`` at once
(retrying a 400 or 403 cannot help; the message still goes through SQS's retries and DLQ).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Callable

from ..messages import Keys, Stage, Status
from ..shared.audit import AuditTrail, page_unit
from ..shared.clock import Clock
from ..shared.signed_http import Answer

REQUEST_TIMEOUT = 30.0     # one attempt, seconds (API Gateway's own integration limit is 29 s)
MIN_ATTEMPT = 1.0          # no attempt starts with less time than this left
BASE_DELAY = 0.2
MAX_DELAY = 5.0

Post = Callable[[dict[str, Any], float], Answer]   # (body, timeout) -> answer; raises OSError/TimeoutError


class ModelUnavailable(RuntimeError):
    """The endpoint kept throttling or failing until the deadline."""


class ModelRefused(RuntimeError):
    """The endpoint answered with a status that retrying cannot change, or not JSON."""


@dataclass(frozen=True)
class PageImage:
    bucket: str
    key: str
    batch_id: str
    document_id: str
    page: int

    @classmethod
    def from_key(cls, bucket: str, key: str) -> "PageImage":
        batch_id, document_id, page = Keys.parse_page_png(key)  # InvalidMessage for any other key
        return cls(bucket=bucket, key=key, batch_id=batch_id, document_id=document_id, page=page)


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def ask_model(image: PageImage, *, post: Post, deadline: float, clock: Clock, rng: random.Random) -> Any:
    """The model's JSON answer. ``deadline`` is a ``clock.monotonic()`` value."""
    failures: list[str] = []
    attempt = 0
    while True:
        remaining = deadline - clock.monotonic()
        if remaining < MIN_ATTEMPT:
            raise ModelUnavailable(f"no answer before the deadline after {attempt} attempt(s): "
                                   f"{', '.join(failures[-3:]) or 'no time for one'}")
        attempt += 1
        try:
            answer = post({"bucket": image.bucket, "key": image.key}, min(REQUEST_TIMEOUT, remaining))
        except (OSError, TimeoutError) as error:   # urllib's URLError is an OSError
            failures.append(type(error).__name__)
        else:
            if 200 <= answer.status <= 299:
                try:
                    return json.loads(answer.body)
                except ValueError:
                    raise ModelRefused(f"HTTP {answer.status} with a body that is not JSON") from None
            if not _retryable(answer.status):
                raise ModelRefused(f"HTTP {answer.status}: {answer.body[:300].decode(errors='replace')}")
            failures.append(f"HTTP {answer.status}")
        delay = rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** attempt))
        if clock.monotonic() + delay + MIN_ATTEMPT > deadline:
            raise ModelUnavailable(f"no answer before the deadline after {attempt} attempt(s): "
                                   f"{', '.join(failures[-3:])}")
        clock.sleep(delay)


def inferred_event(trail: AuditTrail, image: PageImage, answer: Any, *, started: float):
    """The model's answer is the event's detail as it is (a JSON object), so reports can read
    its fields (``features``, ...) straight from the database."""
    return trail.event(batch_id=image.batch_id, stage=Stage.INFERRED, status=Status.SUCCEEDED,
                       document_id=image.document_id, unit=page_unit(image.page), started=started,
                       detail=answer if isinstance(answer, dict) else {"answer": answer})
