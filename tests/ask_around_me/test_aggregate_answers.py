"""aggregate_answers on real stream records from moto: exact and idempotent summaries."""

from __future__ import annotations

import uuid
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal

import pygeohash
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_src.ask_around_me.aggregate_answers import handler as aggregate_answers
from lambda_src.ask_around_me.aggregate_answers import logic as aggregate_logic

from .conftest import ANSWERS_TABLE, LEDGER_TABLE, QUESTIONS_TABLE, stream_event

# Geo answers: two points share a precision-6 cell, the others are in cells of their own.
GEO_POINTS = [(48.8584, 2.2945), (48.8585, 2.2946), (48.8606, 2.3376), (48.8530, 2.3499), (-22.9519, -43.2105)]


def new_question(world, question_type):
    question_id = str(uuid.uuid4())
    item = {"questionId": question_id, "type": question_type, "answerCount": 0}
    item.update({"totalScore": 0} if question_type == "star" else {"heatmap": {}})
    world.tables.Table(QUESTIONS_TABLE).put_item(Item=item)
    return question_id


def put_answer(world, question_id, user, value):
    """Store (or replace) ``user``'s answer as save_answer does: an int rating or a (lat, lng) point."""
    item = {"questionId": question_id, "userId": user, "answeredAt": "2030-01-01T00:00:00.000000Z"}
    if isinstance(value, int):
        item.update(type="star", rating=value)
    else:
        lat, lng = value
        item.update(type="geo", lat=Decimal(str(lat)), lng=Decimal(str(lng)),
                    cell=pygeohash.encode(lat, lng, precision=6))
    world.tables.Table(ANSWERS_TABLE).put_item(Item=item)


def remove_answer(world, question_id, user):
    world.tables.Table(ANSWERS_TABLE).delete_item(Key={"questionId": question_id, "userId": user})


def recomputed(world, question_id, question_type):
    """The summary recomputed from scratch from the Answers table."""
    answers = world.answers(question_id)
    if question_type == "star":
        return {"answerCount": len(answers), "totalScore": sum(int(a["rating"]) for a in answers)}
    return {"answerCount": len(answers), "heatmap": dict(Counter(a["cell"] for a in answers))}


def stored(world, question_id, question_type):
    question = world.question(question_id)
    if question_type == "star":
        return {"answerCount": int(question["answerCount"]), "totalScore": int(question["totalScore"])}
    return {"answerCount": int(question["answerCount"]),
            "heatmap": {cell: int(n) for cell, n in question["heatmap"].items() if n != 0}}


def deliver(records, lambda_context):
    return aggregate_answers.handler(stream_event(records), lambda_context)


@contextmanager
def failing_apply(fail_on_call, *, after_write):
    """Make the n-th application fail: before writing (throttled) or after it (timed out after commit)."""
    real = aggregate_answers._apply
    calls = {"n": 0}

    def flaky(step, question_id):
        calls["n"] += 1
        if calls["n"] == fail_on_call:
            if after_write:
                real(step, question_id)
            raise RuntimeError("injected failure")
        real(step, question_id)

    aggregate_answers._apply = flaky
    try:
        yield
    finally:
        aggregate_answers._apply = real


def test_star_answers_inserted_changed_and_removed_keep_count_and_total_exact(world, lambda_context):
    question = new_question(world, "star")
    put_answer(world, question, "bob", 2)
    put_answer(world, question, "carol", 5)
    put_answer(world, question, "bob", 4)
    remove_answer(world, question, "carol")
    deliver(world.stream_records(ANSWERS_TABLE), lambda_context)
    assert stored(world, question, "star") == {"answerCount": 1, "totalScore": 4}


def test_a_geo_answer_moving_to_another_cell_moves_its_count(world, lambda_context):
    question = new_question(world, "geo")
    put_answer(world, question, "bob", GEO_POINTS[0])
    put_answer(world, question, "carol", GEO_POINTS[1])
    deliver(world.stream_records(ANSWERS_TABLE), lambda_context)
    put_answer(world, question, "bob", GEO_POINTS[4])
    deliver(world.stream_records(ANSWERS_TABLE), lambda_context)
    assert stored(world, question, "geo") == {
        "answerCount": 2,
        "heatmap": {pygeohash.encode(*GEO_POINTS[1], precision=6): 1, pygeohash.encode(*GEO_POINTS[4], precision=6): 1},
    }


def test_a_batch_delivered_twice_does_not_double_count(world, lambda_context):
    question = new_question(world, "star")
    for user, rating in (("bob", 3), ("carol", 4), ("dave", 5)):
        put_answer(world, question, user, rating)
    records = world.stream_records(ANSWERS_TABLE)
    deliver(records, lambda_context)
    deliver(records, lambda_context)
    assert stored(world, question, "star") == {"answerCount": 3, "totalScore": 12}


def test_an_old_batch_replayed_after_newer_changes_does_not_bring_old_values_back(world, lambda_context):
    question = new_question(world, "star")
    put_answer(world, question, "bob", 1)
    first = world.stream_records(ANSWERS_TABLE)
    deliver(first, lambda_context)
    put_answer(world, question, "bob", 5)
    deliver(world.stream_records(ANSWERS_TABLE), lambda_context)
    deliver(first, lambda_context)
    assert stored(world, question, "star") == {"answerCount": 1, "totalScore": 5}


def test_a_record_that_fails_after_committing_is_retried_without_double_counting(world, lambda_context):
    question = new_question(world, "star")
    for user, rating in (("bob", 1), ("carol", 2), ("dave", 3), ("erin", 4)):
        put_answer(world, question, user, rating)
    records = world.stream_records(ANSWERS_TABLE)
    with failing_apply(2, after_write=True):
        result = deliver(records, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    deliver(records[1:], lambda_context)  # Lambda resumes from the reported sequence number
    assert stored(world, question, "star") == {"answerCount": 4, "totalScore": 10}


def test_a_record_for_a_missing_question_fails_alone(world, lambda_context):
    question = new_question(world, "star")
    put_answer(world, question, "bob", 3)
    put_answer(world, str(uuid.uuid4()), "bob", 3)
    records = world.stream_records(ANSWERS_TABLE)
    assert deliver(records, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert stored(world, question, "star") == {"answerCount": 1, "totalScore": 3}


def test_sequence_numbers_compare_numerically_once_padded():
    assert aggregate_logic.sequence_key("999") < aggregate_logic.sequence_key("1000")
    assert len(aggregate_logic.sequence_key("1" * 40)) == 40
    with pytest.raises(aggregate_logic.PoisonRecord, match="bad stream sequence number '12a'"):
        aggregate_logic.sequence_key("12a")


def test_a_removed_answer_leaves_a_tombstone_that_expires_after_the_stream_retention(world, lambda_context):
    question = new_question(world, "star")
    put_answer(world, question, "bob", 3)
    remove_answer(world, question, "bob")
    deliver(world.stream_records(ANSWERS_TABLE), lambda_context)
    entry = world.tables.Table(LEDGER_TABLE).get_item(Key={"questionId": question, "userId": "bob"})["Item"]
    assert "contributionType" not in entry
    assert int(entry["expiresAt"]) > 0


# --- property: whatever the order of duplicates, replays and retries, the summary is exact ----------

users = st.sampled_from(["u0", "u1", "u2"])
answer = st.tuples(st.just("answer"), users, st.integers(0, 5), st.sampled_from(range(len(GEO_POINTS))))
step = st.one_of(
    answer, answer, answer,
    st.tuples(st.just("remove"), users),
    st.tuples(st.just("deliver"), st.integers(1, 6)),            # the next n pending records, as one batch
    st.tuples(st.just("duplicate"), st.integers(0, 5)),          # an earlier batch delivered again, late
    st.tuples(st.just("replay"), st.integers(0, 30)),            # redelivery from an earlier stream position
    st.tuples(st.just("fail"), st.integers(1, 4), st.booleans()),  # the next batch fails at its n-th record
    st.tuples(st.just("drain")),                                 # deliver everything pending, then check
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question_type=st.sampled_from(["star", "geo"]), steps=st.lists(step, max_size=30), data=st.data())
def test_summaries_always_equal_a_recomputation_from_the_answers_table(world, lambda_context, question_type, steps,
                                                                       data):
    question = new_question(world, question_type)
    log: list[dict] = []       # every stream record read so far, in stream order
    cursor = 0                 # next record Lambda would deliver
    batches: list[list[dict]] = []  # every batch delivered so far
    failure: tuple[int, bool] | None = None

    def run(batch):
        nonlocal cursor, failure
        batches.append(batch)
        if failure is None:
            result = deliver(batch, lambda_context)
        else:
            with failing_apply(failure[0], after_write=failure[1]):
                try:
                    result = deliver(batch, lambda_context)
                except BatchProcessingError:  # every record failed: Lambda retries the whole batch
                    result = {"batchItemFailures": [{"itemIdentifier": batch[0]["dynamodb"]["SequenceNumber"]}]}
            failure = None
        failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
        start = log.index(batch[0])
        if failed:  # Lambda resumes from the lowest reported sequence number
            cursor = max(cursor, start + [r["dynamodb"]["SequenceNumber"] for r in batch].index(min(failed, key=int)))
        else:
            cursor = max(cursor, start + len(batch))

    def drain():
        log.extend(world.stream_records(ANSWERS_TABLE))
        while cursor < len(log):  # Lambda's batches vary in size; so do ours
            run(log[cursor:cursor + data.draw(st.integers(1, 10), label="batch size")])
        assert stored(world, question, question_type) == recomputed(world, question, question_type)

    for action, *args in steps:
        if action == "answer":
            user, rating, point = args
            put_answer(world, question, user, rating if question_type == "star" else GEO_POINTS[point])
        elif action == "remove":
            remove_answer(world, question, args[0])
        elif action == "deliver":
            log.extend(world.stream_records(ANSWERS_TABLE))
            if cursor < len(log):
                run(log[cursor:cursor + args[0]])
        elif action == "duplicate" and batches:
            run(batches[max(0, len(batches) - 1 - args[0])])
        elif action == "replay" and cursor > 0:  # e.g. a shard iterator restarted behind its checkpoint
            run(log[max(0, cursor - 1 - args[0]):cursor])
        elif action == "fail":
            failure = (args[0], args[1])
        elif action == "drain":
            drain()
    drain()
    # Then every earlier batch comes back late, in any order: each must change nothing.
    failure = None
    for index in data.draw(st.permutations(range(len(batches))), label="late batches"):
        run(batches[index])
        assert stored(world, question, question_type) == recomputed(world, question, question_type)
