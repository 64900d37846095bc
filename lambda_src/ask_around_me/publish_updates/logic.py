"""Which IoT topic and payload a Questions stream record turns into. Pure: no boto3.

Topic namespace (prefix ``askaroundme`` by default):
- ``<prefix>/geo/<geohash5>``: new questions asked in that precision-5 cell;
- ``<prefix>/questions/<questionId>``: summary updates of one question;
- ``<prefix>/users/<sub>`` and ``<prefix>/system``: per-user and system-wide
  topics of the reference design; nothing in this backend publishes to them yet.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..shared.records import PoisonRecord
from ..shared.views import average_score, question_view

TOPIC_GEOHASH_PRECISION = 5
SUMMARY_FIELDS = ("answerCount", "totalScore", "heatmap")


def geo_topic(prefix: str, geohash: Any) -> str:
    if not isinstance(geohash, str) or len(geohash) < TOPIC_GEOHASH_PRECISION or not geohash.isalnum():
        raise PoisonRecord(f"question without a usable geohash: {geohash!r}")
    return f"{prefix}/geo/{geohash[:TOPIC_GEOHASH_PRECISION]}"


def question_topic(prefix: str, question_id: str) -> str:
    return f"{prefix}/questions/{question_id}"


def new_question_payload(question: Mapping[str, Any]) -> dict[str, Any]:
    return {"event": "question.created", **question_view(question)}


def summary_payload(old: Mapping[str, Any], new: Mapping[str, Any], sequence: str | None) -> dict[str, Any]:
    """Absolute values (so a duplicate message is harmless); ``seq`` lets clients drop stale ones."""
    payload: dict[str, Any] = {
        "event": "question.summary",
        "questionId": new["questionId"],
        "type": new["type"],
        "answerCount": int(new.get("answerCount", 0)),
        "avgScore": average_score(new),
        "seq": sequence,
    }
    if new["type"] == "geo":
        before, after = old.get("heatmap") or {}, new.get("heatmap") or {}
        payload["cells"] = {cell: int(after.get(cell, 0))
                            for cell in sorted(set(before) | set(after)) if before.get(cell) != after.get(cell)}
    return payload


def messages_for(event_name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                 sequence: str | None, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    """The (topic, payload) pairs to publish for one record; the topic is computed per record."""
    if event_name == "INSERT" and new:
        return [(geo_topic(prefix, new.get("geohash")), new_question_payload(new))]
    if event_name == "MODIFY" and old and new:
        if all(old.get(f) == new.get(f) for f in SUMMARY_FIELDS):
            return []
        return [(question_topic(prefix, new["questionId"]), summary_payload(old, new, sequence))]
    return []  # REMOVE: questions are not deleted by the API
