"""DELETE /answers/{questionId}: validation. Pure: no boto3."""

from __future__ import annotations

import uuid
from typing import Any, Mapping


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


def caller_id(event: Mapping[str, Any]) -> str | None:
    """The user id: the ``sub`` claim the JWT authorizer verified (never the request)."""
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    except (KeyError, TypeError):
        return None
    return sub if isinstance(sub, str) and sub else None


def question_id_of(path_parameters: Mapping[str, str] | None) -> str:
    raw = (path_parameters or {}).get("questionId")
    if isinstance(raw, str):
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            pass
    raise BadRequest(f"question id must be a UUID, got {raw!r}")


def answer_key(question_id: str, caller: str) -> dict[str, str]:
    """The key of the caller's own answer: the only one this route can ever delete."""
    return {"questionId": question_id, "userId": caller}
