"""The long-poll loop of the container workers, and what keeps a message safe while it is worked on.

- ``stop`` (a ``threading.Event``, set by SIGTERM or SIGINT) ends the loop between messages;
  work in progress checks it and raises ``Stopped``; the message is then made visible again
  (visibility 0) for another task, instead of waiting out its visibility timeout.
- A heartbeat thread extends the message's visibility while a long document is worked on.
- ECS task scale-in protection is on while a message is worked on and off between messages,
  through the ECS agent endpoint ``$ECS_AGENT_URI/task-protection/v1/state``, so a scale-in
  picks idle tasks (outside ECS, without ECS_AGENT_URI, it is skipped).
- A message is deleted only after its work returned, so its outputs are durable; a failure
  leaves it to come back after ``failure_delay`` seconds (SQS then dead-letters it after the
  queue's maxReceiveCount).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from aws_lambda_powertools import Logger

logger = Logger()   # service name and level from POWERTOOLS_SERVICE_NAME / _LOG_LEVEL

TASK_PROTECTION_PATH = "/task-protection/v1/state"
MAX_PROTECTION_MINUTES = 2880   # the endpoint's limit (48 hours)


class Stopped(Exception):
    """The worker is stopping: the message in hand goes back to its queue untouched."""


@dataclass(frozen=True)
class Received:
    queue_url: str
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


@dataclass(frozen=True)
class LoopSettings:
    wait_seconds: int = 20            # long poll
    visibility_timeout: int = 300     # set on receive, then renewed by the heartbeat
    heartbeat_seconds: float = 60.0   # well inside visibility_timeout
    failure_delay: int = 30           # a failed message comes back after this
    protection_minutes: int = 60      # renewed with each message


class TaskProtection:
    """ECS task scale-in protection for the task this process runs in.

    A failed call is logged, never raised: without protection a scale-in may stop the task,
    and SIGTERM handling then returns the message, so no work is lost, only repeated.
    """

    def __init__(self, agent_uri: str | None, *, minutes: int, timeout: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._url = f"{agent_uri.rstrip('/')}{TASK_PROTECTION_PATH}" if agent_uri else None
        self._minutes = max(1, min(MAX_PROTECTION_MINUTES, minutes))
        self._timeout = timeout
        self._clock = clock
        self._since: float | None = None

    def renew(self) -> None:
        """Protection expires after ``minutes``: renewed at half-time while a long document runs."""
        if self._since is not None and self._clock() - self._since >= self._minutes * 30:
            self.set(True)

    def set(self, enabled: bool) -> bool:
        if self._url is None:
            return False
        body: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self._minutes
        request = urllib.request.Request(self._url, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read(64 * 1024) or b"{}")
        except (OSError, ValueError) as error:   # URLError and HTTPError are OSErrors
            logger.warning("task protection not changed", extra={"enabled": enabled, "error": str(error)})
            return False
        if "protection" not in answer:
            logger.warning("task protection refused", extra={"enabled": enabled, "answer": answer})
            return False
        self._since = self._clock() if enabled else None
        return True

    @contextmanager
    def held(self) -> Iterator[None]:
        self.set(True)
        try:
            yield
        finally:
            self.set(False)


class Heartbeat:
    """Keeps one message invisible while it is worked on, every ``interval`` seconds."""

    def __init__(self, sqs: Any, message: Received, *, interval: float, visibility_timeout: int,
                 on_beat: Callable[[], None] = lambda: None) -> None:
        self._sqs, self._message, self._on_beat = sqs, message, on_beat
        self._interval, self._visibility = interval, visibility_timeout
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{message.message_id}", daemon=True)
        self.beats = 0

    def _beat(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self._sqs.change_message_visibility(QueueUrl=self._message.queue_url,
                                                    ReceiptHandle=self._message.receipt_handle,
                                                    VisibilityTimeout=self._visibility)
                self.beats += 1
            except Exception as error:  # noqa: BLE001 - a lost heartbeat is logged; the work goes on
                logger.warning("visibility not extended", extra={"error": str(error)})
            self._on_beat()

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._done.set()
        self._thread.join()


Handle = Callable[[Received], None]


def receive(sqs: Any, queue_url: str, settings: LoopSettings) -> list[Received]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=settings.wait_seconds,
                                 VisibilityTimeout=settings.visibility_timeout,
                                 MessageSystemAttributeNames=["ApproximateReceiveCount"])
    return [Received(queue_url=queue_url, message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"],
                     body=m["Body"], receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
            for m in answer.get("Messages", [])]


def _set_visibility(sqs: Any, message: Received, seconds: int) -> None:
    try:
        sqs.change_message_visibility(QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle,
                                      VisibilityTimeout=seconds)
    except Exception as error:  # noqa: BLE001 - it comes back after its visibility timeout anyway
        logger.warning("visibility not changed", extra={"error": str(error), "seconds": seconds})


def work_on(sqs: Any, message: Received, handle: Handle, *, stop: threading.Event, settings: LoopSettings,
            protection: TaskProtection) -> str:
    """Process one message; ``"done"``, ``"returned"`` (stopped) or ``"failed"``."""
    if stop.is_set():
        _set_visibility(sqs, message, 0)
        return "returned"
    with protection.held():
        with Heartbeat(sqs, message, interval=settings.heartbeat_seconds,
                       visibility_timeout=settings.visibility_timeout, on_beat=protection.renew):
            try:
                handle(message)
            except Stopped:
                outcome = "returned"
            except Exception:
                logger.exception("message failed; it comes back for another attempt",
                                 extra={"message_id": message.message_id, "receive_count": message.receive_count})
                outcome = "failed"
            else:
                outcome = "done"
        # Still protected: the message is settled before the task may be scaled in.
        if outcome == "done":
            sqs.delete_message(QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle)
        else:
            _set_visibility(sqs, message, 0 if outcome == "returned" else settings.failure_delay)
    return outcome


def run(sqs: Any, queue_urls: Sequence[str], handle: Handle, *, stop: threading.Event, settings: LoopSettings,
        protection: TaskProtection, idle: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Poll ``queue_urls`` in turn until ``stop`` is set; the outcome counts."""
    outcomes = {"done": 0, "returned": 0, "failed": 0}
    while not stop.is_set():
        received_any = False
        for queue_url in queue_urls:
            if stop.is_set():
                break
            try:
                messages = receive(sqs, queue_url, settings)
            except Exception as error:  # noqa: BLE001 - SQS hiccups must not end the worker
                logger.warning("receive failed", extra={"queue_url": queue_url, "error": str(error)})
                stop.wait(min(5.0, settings.wait_seconds or 1))
                continue
            for message in messages:
                received_any = True
                outcomes[work_on(sqs, message, handle, stop=stop, settings=settings, protection=protection)] += 1
        if not received_any:
            idle()
    return outcomes
