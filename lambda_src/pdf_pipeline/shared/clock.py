"""Time, behind one small interface so tests can hold it still or jump it forward."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...          # timezone-aware UTC
    def monotonic(self) -> float: ...       # seconds, for durations and deadlines
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def iso_millis(moment: datetime) -> str:
    """``2026-01-31T12:00:00.123Z``: the audit events' timestamp format."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


SYSTEM_CLOCK = SystemClock()
