"""HTTPS requests signed with SigV4 (botocore's SigV4Auth) for API Gateway methods with IAM auth.

Used by invoke_model (the inference method) and the operators' CLI (the batch and report
methods). Every request has a timeout; an HTTP error status is an answer, not an exception,
so callers decide what is retried.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

EXECUTE_API = "execute-api"
MAX_ANSWER_BYTES = 1024 * 1024


class AnswerTooLarge(ValueError):
    """The server answered more than a caller of this module ever expects."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def signed_request(method: str, url: str, *, credentials: Any, region: str, timeout: float,
                   body: dict[str, Any] | None = None) -> Answer:
    """``credentials``: botocore credentials (refreshable ones are frozen for this request)."""
    data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    request = AWSRequest(method=method, url=url, data=data,
                         headers={"Content-Type": "application/json", "Accept": "application/json"})
    frozen = credentials.get_frozen_credentials() if hasattr(credentials, "get_frozen_credentials") else credentials
    SigV4Auth(frozen, EXECUTE_API, region).add_auth(request)
    prepared = urllib.request.Request(url, data=data, method=method, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return Answer(status=response.status, body=_read(response))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(status=error.code, body=_read(error))


def _read(response: Any) -> bytes:
    data = response.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise AnswerTooLarge(f"the answer is more than {MAX_ANSWER_BYTES} bytes")
    return data
