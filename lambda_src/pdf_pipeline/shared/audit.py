"""Audit events, built with the component that ran the step and the clock's time.

Each worker reports its facts as ``AuditEvent``s on the audit queue; ``write_audit`` inserts
them idempotently (unique on document or batch, stage and unit), so a redelivered message
that reports the same fact again adds nothing.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..messages import AuditEvent, Stage, Status
from .clock import SYSTEM_CLOCK, Clock, iso_millis


def page_unit(page: int) -> str:
    return f"page:{page:06d}"


def chunk_unit(first_page: int, last_page: int) -> str:
    return f"chunk:{first_page:06d}-{last_page:06d}"


class AuditTrail:
    """Builds the events of one component (``lambda:classify``, ``fargate:failsafe``, ...)."""

    def __init__(self, component: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.component = component
        self.clock = clock

    def event(self, *, batch_id: str, stage: Stage, status: Status, document_id: str | None = None,
              unit: str = "", started: float | None = None, detail: Mapping[str, Any] | None = None) -> AuditEvent:
        """``started`` is a ``clock.monotonic()`` reading taken when the step began."""
        duration = None if started is None else max(0, round((self.clock.monotonic() - started) * 1000))
        return AuditEvent(batch_id=batch_id, stage=stage, status=status, component=self.component,
                          occurred_at=iso_millis(self.clock.now()), document_id=document_id, unit=unit,
                          duration_ms=duration, detail=dict(detail or {}))
