"""The one timestamp format of the system: ISO-8601 UTC with microseconds. Pure: no boto3.

Question ``created`` and answer ``answeredAt`` values are written in it; being fixed-width,
string order is time order (the cell index sorts on ``created``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_iso(value: Any) -> bool:
    """Whether ``value`` is a string in the format :func:`iso` writes."""
    return isinstance(value, str) and _ISO.match(value) is not None
