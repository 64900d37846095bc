"""GET /questions/{id}/answers: validation, paging token and response shape. Pure: no boto3."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from decimal import Decimal
from typing import Any, Mapping


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


def caller_id(event: Mapping[str, Any]) -> str | None:
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    except (KeyError, TypeError):
        return None
    return sub if isinstance(sub, str) and sub else None


def question_id_of(path_parameters: Mapping[str, str] | None) -> str:
    raw = (path_parameters or {}).get("id")
    if isinstance(raw, str):
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            pass
    raise BadRequest(f"question id must be a UUID, got {raw!r}")


def start_key(question_id: str, query: Mapping[str, str] | None) -> dict[str, str] | None:
    """ExclusiveStartKey from the opaque ``nextToken`` of a previous page."""
    token = (query or {}).get("nextToken")
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise BadRequest("nextToken is not valid") from None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("u"), str):
        raise BadRequest("nextToken is not valid")
    return {"questionId": question_id, "userId": decoded["u"]}


def next_token(last_evaluated_key: Mapping[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps({"u": last_evaluated_key["userId"]}).encode()).decode("ascii")


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def answer_view(item: Mapping[str, Any], caller: str) -> dict[str, Any]:
    """One answer; other users' ids are not disclosed, the caller's own is flagged ``mine``."""
    view: dict[str, Any] = {"type": item["type"], "answeredAt": item.get("answeredAt"),
                            "mine": item["userId"] == caller}
    if item["type"] == "star":
        view["rating"] = int(item["rating"])
    else:
        view.update(lat=_number(item["lat"]), lng=_number(item["lng"]), cell=item.get("cell"))
    return view
