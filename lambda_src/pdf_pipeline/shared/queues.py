"""Sending to SQS: SendMessageBatch of at most 10 entries and 256 KiB, failed entries retried.

SendMessageBatch can succeed as a call while some entries fail (``Failed`` in the answer).
Entries that failed on the service's side (``SenderFault`` false: throttling, internal
errors) are sent again, with exponential backoff and jitter, a bounded number of times;
an entry the service refuses as malformed (``SenderFault`` true) will never succeed and
fails the send at once. Either way ``SendFailed`` is raised, so the queue message being
processed fails and SQS redelivers it: nothing is dropped silently.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .clock import SYSTEM_CLOCK, Clock

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024     # the whole SendMessageBatch payload
DEFAULT_ATTEMPTS = 4


class SendFailed(RuntimeError):
    """Some messages could not be sent; the caller's unit of work must fail and be retried."""


@dataclass(frozen=True)
class Outgoing:
    body: str
    group_id: str | None = None          # FIFO queues only
    deduplication_id: str | None = None  # FIFO queues only

    @property
    def size(self) -> int:
        return len(self.body.encode())


def deduplication_id(*parts: str | None) -> str:
    """A FIFO deduplication id (at most 128 characters) for a tuple of values."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = (part or "").encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.hexdigest()


def batches(messages: Sequence[Outgoing]) -> Iterator[list[Outgoing]]:
    """Consecutive groups within both SendMessageBatch limits, in order."""
    batch: list[Outgoing] = []
    size = 0
    for message in messages:
        if message.size > MAX_BATCH_BYTES:
            raise SendFailed(f"a message of {message.size} bytes is over SQS's {MAX_BATCH_BYTES}-byte limit")
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + message.size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += message.size
    if batch:
        yield batch


def _entry(index: int, message: Outgoing) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message.body}
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id is not None:
        entry["MessageDeduplicationId"] = message.deduplication_id
    return entry


class QueueSender:
    def __init__(self, client: Any, *, attempts: int = DEFAULT_ATTEMPTS, base_delay: float = 0.05,
                 clock: Clock = SYSTEM_CLOCK, rng: random.Random | None = None) -> None:
        self._sqs = client
        self._attempts = attempts
        self._base_delay = base_delay
        self._clock = clock
        self._rng = rng or random.Random()

    def send(self, queue_url: str, messages: Sequence[Outgoing | str]) -> None:
        outgoing = [m if isinstance(m, Outgoing) else Outgoing(m) for m in messages]
        for batch in batches(outgoing):
            self._send_batch(queue_url, batch)

    def _send_batch(self, queue_url: str, batch: list[Outgoing]) -> None:
        pending = dict(enumerate(batch))
        for attempt in range(self._attempts):
            if attempt:
                # Full jitter: spreads the retries of many concurrent senders.
                self._clock.sleep(self._rng.uniform(0, self._base_delay * 2 ** attempt))
            answer = self._sqs.send_message_batch(
                QueueUrl=queue_url, Entries=[_entry(index, message) for index, message in pending.items()])
            failed = answer.get("Failed", [])
            refused = [f for f in failed if f.get("SenderFault")]
            if refused:
                raise SendFailed(f"SQS refused {len(refused)} message(s) to {queue_url}: "
                                 f"{refused[0].get('Code')}: {refused[0].get('Message', '')}")
            pending = {int(f["Id"]): pending[int(f["Id"])] for f in failed}
            if not pending:
                return
        raise SendFailed(f"{len(pending)} message(s) to {queue_url} still failed after {self._attempts} attempts")
