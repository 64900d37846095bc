"""The failsafe: a dead-lettered message taken all the way to page images, in-process.

The stages are the Lambda functions' and the large splitter's own logic functions, run one
after another on each other's outputs instead of through queues: a document is classified
(when it came from the ingest DLQ), split into chunks (large), chunks into pages, pages
rendered. Each unit (document, chunk, page) that fails here too is quarantined on its own
(a ``QuarantineMessage`` holding that unit's message, which the redrive command sends back
to the ingest queue, and a ``quarantined`` audit event with the reason), so one bad page
does not hold back the rest of its document.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..messages import (
    ChunkMessage,
    DocumentMessage,
    InvalidMessage,
    PageMessage,
    QuarantineMessage,
    SizeClass,
    Stage,
    Status,
)
from ..shared.audit import AuditTrail
from ..shared.work import Message, Step, parse_message, reason_of, unit_of
from .host import Stopped

# What each dead-letter queue can hold (its source queue's messages; ingest also takes
# redriven chunk and page messages).
ORIGIN_KINDS: dict[str, tuple[type, ...]] = {
    "ingest": (DocumentMessage, ChunkMessage, PageMessage),
    "large": (DocumentMessage,),
    "small": (ChunkMessage,),
    "single_page": (PageMessage,),
}


@dataclass(frozen=True)
class Stages:
    """The stage logic, bound to this worker's store, tools, settings and audit trail."""
    classify: Callable[[DocumentMessage], Step]
    split_large: Callable[[DocumentMessage], Iterable[Step]]
    split_small: Callable[[ChunkMessage], Step]
    convert: Callable[[PageMessage], Step]


@dataclass
class Outcome:
    units: int = 0
    quarantined: list[QuarantineMessage] = field(default_factory=list)


def _steps(stages: Stages, message: Message) -> Iterable[Step]:
    if isinstance(message, DocumentMessage):
        if message.size_class is SizeClass.LARGE:
            return stages.split_large(message)
        return [stages.classify(message)]
    if isinstance(message, ChunkMessage):
        return [stages.split_small(message)]
    return [stages.convert(message)]


class Failsafe:
    def __init__(self, stages: Stages, *, trail: AuditTrail, emit: Callable[[Step], None],
                 quarantine: Callable[[QuarantineMessage], None]) -> None:
        """``emit`` makes a step's audit events durable; ``quarantine`` sends to the quarantine queue."""
        self._stages, self._trail, self._emit, self._quarantine = stages, trail, emit, quarantine

    def process(self, origin: str, body: str) -> Outcome:
        """Take one dead-lettered message as far as it goes; raises only ``Stopped``."""
        outcome = Outcome()
        try:
            message = parse_message(body, ORIGIN_KINDS[origin])
        except InvalidMessage as error:
            # Not a pipeline message: nothing to attribute it to, but it is kept, not dropped.
            self._put_aside(outcome, None, origin, body, f"not a message of this queue: {error}")
            return outcome
        self._run(message, origin, outcome)
        self._emit(Step(events=[self._trail.event(
            batch_id=message.batch_id, stage=Stage.FAILSAFE,
            status=Status.QUARANTINED if outcome.quarantined else Status.SUCCEEDED,
            document_id=message.document_id, unit=unit_of(message),
            detail={"origin": origin, "units": outcome.units, "quarantined": len(outcome.quarantined),
                    **({"reason": outcome.quarantined[0].reason} if outcome.quarantined else {})})]))
        return outcome

    def give_up(self, origin: str, body: str, reason: str) -> Outcome:
        """Quarantine a dead-lettered message whole, without another attempt."""
        outcome = Outcome()
        try:
            message = parse_message(body, ORIGIN_KINDS[origin])
        except InvalidMessage:
            message = None
        self._put_aside(outcome, message, origin, body, reason)
        return outcome

    def _run(self, message: Message, origin: str, outcome: Outcome) -> None:
        # Depth first: a chunk's pages are converted before the next chunk is cut, so the
        # work in flight (and on disk) stays one chunk wide.
        try:
            for step in _steps(self._stages, message):
                self._emit(Step(events=step.events))
                for _destination, produced in step.outputs:
                    self._run(produced, origin, outcome)
        except Stopped:
            raise
        except Exception as error:  # noqa: BLE001 - whatever fails here is quarantined with its reason
            self._put_aside(outcome, message, origin, message.to_json(), reason_of(error))
            return
        outcome.units += 1

    def _put_aside(self, outcome: Outcome, message: Message | None, origin: str, body: str, reason: str) -> None:
        quarantined = QuarantineMessage(batch_id=message.batch_id if message else "",
                                        document_id=message.document_id if message else "",
                                        origin_queue=origin, original_body=body, reason=reason)
        self._quarantine(quarantined)
        outcome.quarantined.append(quarantined)
        if message is not None:
            self._emit(Step(events=[self._trail.event(
                batch_id=message.batch_id, stage=Stage.QUARANTINED, status=Status.QUARANTINED,
                document_id=message.document_id, unit=unit_of(message),
                detail={"reason": reason, "origin": origin, "kind": message.KIND})]))
