"""How long a function serving an API request waits for an AWS service.

At most 2 attempts of 1 s to connect and 2 s to read, in botocore's standard retry mode: about
7 s with its backoff, so a 10 s function answers (503, with a message) whatever the service
does. Standard library only: pass it to botocore, ``Config(**sdk_timeouts.api_call())``.
"""
from __future__ import annotations

from typing import Any


def api_call() -> dict[str, Any]:
    """Keyword arguments of ``botocore.config.Config`` (a fresh dict each time)."""
    return {"connect_timeout": 1, "read_timeout": 2, "retries": {"mode": "standard", "total_max_attempts": 2}}
