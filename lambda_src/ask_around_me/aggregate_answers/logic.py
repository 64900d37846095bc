"""Exact, idempotent aggregation of answers into question summaries. Pure: no boto3.

The aggregation keeps one *ledger* entry per answer (question id, user id):
the stream sequence number of the last record applied for that answer and the
answer's *contribution* to the summary as of that record (a rating, a heat-map
cell, or nothing for a removed answer: a tombstone). A record is applied only
if its sequence number is greater than the ledger's, and it is applied by one
transaction that both moves the ledger to the record's new contribution and
ADDs (new contribution - ledger contribution) to the question's summary.

Invariant, kept by every transaction: summary = sum of the ledger
contributions. Each ledger entry only moves forward in sequence order and ends
at the last record for its answer, whose new image is the answer as stored, so
once the stream is drained the summary equals a recomputation from the Answers
table, whatever duplicates, replays or retries happened on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from ..shared.model import MAX_RATING, MIN_RATING
from ..shared.records import PoisonRecord

SEQUENCE_WIDTH = 40  # DynamoDB Streams sequence numbers have 21 to 40 digits
# Tombstones only need to outlive the stream's 24-hour retention (replays).
TOMBSTONE_TTL = timedelta(hours=48)


def sequence_key(sequence_number: str | None) -> str:
    """Zero-padded so that string order is numeric order (40 digits overflow a DynamoDB Number)."""
    if not sequence_number or not sequence_number.isdigit() or len(sequence_number) > SEQUENCE_WIDTH:
        raise PoisonRecord(f"bad stream sequence number {sequence_number!r}")
    return sequence_number.zfill(SEQUENCE_WIDTH)


@dataclass(frozen=True)
class Contribution:
    """What one answer adds to its question's summary."""

    type: str
    rating: int = 0
    cell: str | None = None


def contribution_of_answer(image: Mapping[str, Any] | None) -> Contribution | None:
    """From an Answers item (a stream NewImage); None when there is no answer."""
    if not image:
        return None
    answer_type = image.get("type")
    if answer_type == "star":
        rating = int(image["rating"])
        if not MIN_RATING <= rating <= MAX_RATING:
            raise PoisonRecord(f"rating out of range: {rating}")
        return Contribution("star", rating=rating)
    if answer_type == "geo":
        cell = image.get("cell")
        if not isinstance(cell, str) or not cell.isalnum():
            raise PoisonRecord(f"bad heat-map cell {cell!r}")
        return Contribution("geo", cell=cell)
    raise PoisonRecord(f"unknown answer type {answer_type!r}")


def contribution_of_ledger(entry: Mapping[str, Any] | None) -> Contribution | None:
    if not entry or "contributionType" not in entry:
        return None  # never applied, or a tombstone
    if entry["contributionType"] == "star":
        return Contribution("star", rating=int(entry["rating"]))
    return Contribution("geo", cell=entry["cell"])


@dataclass(frozen=True)
class SummaryDelta:
    answers: int = 0
    score: int = 0
    cells: dict[str, int] = field(default_factory=dict)

    @property
    def is_zero(self) -> bool:
        return self.answers == 0 and self.score == 0 and not self.cells


def summary_delta(before: Contribution | None, after: Contribution | None) -> SummaryDelta:
    answers = (after is not None) - (before is not None)
    score = 0
    cells: dict[str, int] = {}
    for contribution, sign in ((before, -1), (after, 1)):
        if contribution is None:
            continue
        if contribution.type == "star":
            score += sign * contribution.rating
        elif contribution.cell is not None:
            cells[contribution.cell] = cells.get(contribution.cell, 0) + sign
    return SummaryDelta(answers, score, {c: d for c, d in sorted(cells.items()) if d})


def summary_update(delta: SummaryDelta) -> dict[str, Any]:
    """UpdateItem arguments that ADD the delta to a question item (which must exist)."""
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if delta.answers:
        clauses.append("answerCount :answers")
        values[":answers"] = delta.answers
    if delta.score:
        clauses.append("totalScore :score")
        values[":score"] = delta.score
    for index, (cell, change) in enumerate(delta.cells.items()):
        clauses.append(f"heatmap.#c{index} :c{index}")
        names[f"#c{index}"] = cell
        values[f":c{index}"] = change
    update: dict[str, Any] = {
        "UpdateExpression": "ADD " + ", ".join(clauses),
        "ConditionExpression": "attribute_exists(questionId)",
        "ExpressionAttributeValues": values,
    }
    if names:
        update["ExpressionAttributeNames"] = names
    return update


def ledger_entry(question_id: str, user_id: str, sequence: str, contribution: Contribution | None,
                 now: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"questionId": question_id, "userId": user_id, "seq": sequence}
    if contribution is None:
        entry["expiresAt"] = int((now + TOMBSTONE_TTL).timestamp())  # tombstone, removed by TTL
    elif contribution.type == "star":
        entry.update(contributionType="star", rating=contribution.rating)
    else:
        entry.update(contributionType="geo", cell=contribution.cell)
    return entry


@dataclass(frozen=True)
class Step:
    """Apply one record: write ``ledger_item`` if the ledger still holds ``expected_seq``
    (None: no entry yet) and, in the same transaction, ADD ``delta`` to the summary."""

    ledger_item: dict[str, Any]
    expected_seq: str | None
    delta: SummaryDelta


def plan(*, question_id: str, user_id: str, sequence_number: str | None, new_image: Mapping[str, Any] | None,
         ledger: Mapping[str, Any] | None, now: datetime) -> Step | None:
    """What applying this record changes, or None if the ledger shows it (or a later record) applied."""
    sequence = sequence_key(sequence_number)
    if ledger is not None and str(ledger["seq"]) >= sequence:
        return None
    after = contribution_of_answer(new_image)
    before = contribution_of_ledger(ledger)
    return Step(
        ledger_item=ledger_entry(question_id, user_id, sequence, after, now),
        expected_seq=None if ledger is None else str(ledger["seq"]),
        delta=summary_delta(before, after),
    )


def ledger_condition(step: Step) -> dict[str, Any]:
    if step.expected_seq is None:
        return {"ConditionExpression": "attribute_not_exists(userId)"}
    return {"ConditionExpression": "seq = :expected", "ExpressionAttributeValues": {":expected": step.expected_seq}}
