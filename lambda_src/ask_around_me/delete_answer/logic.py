"""DELETE /answers/{questionId}: the key it may delete. Pure: no boto3."""

from __future__ import annotations


def answer_key(question_id: str, caller: str) -> dict[str, str]:
    """The key of the caller's own answer: the only one this route can ever delete."""
    return {"questionId": question_id, "userId": caller}
