"""GET /questions/{id}/answers: paging token and response shape. Pure: no boto3."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Mapping

from ..shared.http import BadRequest
from ..shared.views import number


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


def answer_view(item: Mapping[str, Any], caller: str) -> dict[str, Any]:
    """One answer; other users' ids are not disclosed, the caller's own is flagged ``mine``."""
    view: dict[str, Any] = {"type": item["type"], "answeredAt": item.get("answeredAt"),
                            "mine": item["userId"] == caller}
    if item["type"] == "star":
        view["rating"] = int(item["rating"])
    else:
        view.update(lat=number(item["lat"]), lng=number(item["lng"]), cell=item.get("cell"))
    return view
