"""Deadlines that hold whatever an upstream does. Pure: no boto3.

An API function must answer within API Gateway's 29 s, and ParallelCluster's calls have no
timeout the caller controls (the library builds its own AWS clients). :meth:`Deadline.run` runs a
call in a daemon thread and stops waiting for it at the deadline: the function answers (504) and
the call, if it ever ends, ends unobserved. Only for calls whose late effect is harmless or is
what the caller asked for; the workflow's submit step calls ParallelCluster directly and lets
Lambda's own timeout (which resets the sandbox) end it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

T = TypeVar("T")
# Time kept back from a Lambda invocation's remaining time to build and send the answer.
ANSWER_MARGIN_SECONDS = 1.5


class DeadlineExceeded(TimeoutError):
    """The call did not end before the deadline."""


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + max(0.0, seconds))

    @classmethod
    def of_invocation(cls, context: Any, *, cap_seconds: float | None = None) -> Deadline:
        """The invocation's remaining time less :data:`ANSWER_MARGIN_SECONDS`, at most ``cap_seconds``."""
        seconds = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        if cap_seconds is not None:
            seconds = min(seconds, cap_seconds)
        return cls.after(seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def sooner(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that comes first."""
        return Deadline(min(self.at, time.monotonic() + max(0.0, seconds)))

    def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(*args, **kwargs)``'s result or exception, or :class:`DeadlineExceeded`."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["result"] = call(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread, which re-raises it
                outcome["error"] = error

        worker = threading.Thread(target=target, name="deadline-call", daemon=True)
        worker.start()
        worker.join(self.remaining())
        if worker.is_alive():
            raise DeadlineExceeded(f"no answer within the deadline ({getattr(call, '__name__', 'call')})")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]
