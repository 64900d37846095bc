"""The CloudFormation custom resource protocol, for a function that is itself the service token
(the suite's deploy-time functions: the browser IoT policy detacher, the PDF pipeline's migrations).

The answer is a JSON document PUT to the request's presigned ResponseURL, at most 4,096 bytes,
with an empty Content-Type (the URL is presigned without one). The URL is a credential and is
never logged.
"""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any, Callable, Mapping

MAX_RESPONSE_BYTES = 4096
MAX_REASON_CHARS = 1000
RESPONSE_ATTEMPTS = 3
RESPONSE_TIMEOUT_S = 5.0
# The longest answering can take: every attempt timing out, and the pauses between them.
ANSWER_BUDGET_S = RESPONSE_ATTEMPTS * RESPONSE_TIMEOUT_S + sum(range(1, RESPONSE_ATTEMPTS))
REQUEST_TYPES = ("Create", "Update", "Delete")


class InvalidRequest(ValueError):
    """The event is not a CloudFormation custom resource request this resource understands."""


def request_type(event: Any) -> str:
    """The ``RequestType`` of a custom resource request; InvalidRequest for anything else."""
    if not isinstance(event, Mapping):
        raise InvalidRequest("the event is not a JSON object")
    found = event.get("RequestType")
    if found not in REQUEST_TYPES:
        raise InvalidRequest(f"RequestType must be one of {', '.join(REQUEST_TYPES)}, got {found!r:.60}")
    return found


def response_body(event: Mapping[str, Any], *, success: bool, reason: str, physical_id: str,
                  data: Mapping[str, str] | None = None) -> bytes:
    """The answer document; the reason is cut until the document fits CloudFormation's limit."""
    def body(text: str, with_data: bool) -> bytes:
        document = {"Status": "SUCCESS" if success else "FAILED", "Reason": text,
                    "PhysicalResourceId": physical_id[:1024], "StackId": event.get("StackId"),
                    "RequestId": event.get("RequestId"), "LogicalResourceId": event.get("LogicalResourceId")}
        if with_data and data:
            document["Data"] = dict(data)
        return json.dumps(document).encode("utf-8")

    reason = reason[:MAX_REASON_CHARS]
    encoded = body(reason, True)
    while len(encoded) > MAX_RESPONSE_BYTES and reason:
        reason = reason[: len(reason) // 2]
        encoded = body(reason, True)
    return encoded if len(encoded) <= MAX_RESPONSE_BYTES else body(reason, False)


def put_response(event: Mapping[str, Any], body: bytes, *, log: Callable[..., None]) -> bool:
    """PUT the answer, retrying; False when there is no usable ResponseURL. Raises the last
    error when every attempt failed, so that Lambda retries the (idempotent) invocation."""
    url = event.get("ResponseURL")
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        log("no ResponseURL to answer CloudFormation at")
        return False
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S) as response:
                log("answered CloudFormation", status=response.status)
                return True
        except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
            log("answering CloudFormation failed", attempt=attempt, error=str(error))
            if attempt == RESPONSE_ATTEMPTS:
                raise
            time.sleep(attempt)
    return False  # pragma: no cover - the loop returns or raises
