"""publish_updates on real Questions stream records from moto, publishing through moto's IoT data plane."""

from __future__ import annotations

import uuid

import pygeohash

from lambda_src.ask_around_me.publish_updates import handler as publish_updates
from lambda_src.ask_around_me.save_question.logic import Question, question_item

from .conftest import QUESTIONS_TABLE, stream_event


def save(world, question_type, lat=35.6762, lng=139.6503):
    question_id = str(uuid.uuid4())
    world.tables.Table(QUESTIONS_TABLE).put_item(Item=question_item(
        Question(question_id, question_type, "Best ramen?", lat, lng, "alice", "2030-01-01T00:00:00.000000Z")))
    return question_id


def add(world, question_id, expression, values, names=None):
    world.tables.Table(QUESTIONS_TABLE).update_item(
        Key={"questionId": question_id}, UpdateExpression=expression, ExpressionAttributeValues=values,
        **({"ExpressionAttributeNames": names} if names else {}))


def publish(world, lambda_context):
    return publish_updates.handler(stream_event(world.stream_records(QUESTIONS_TABLE)), lambda_context)


def test_a_new_question_is_published_to_the_topic_of_its_precision_5_geohash(world, lambda_context):
    question_id = save(world, "geo", lat=-1.2921, lng=36.8219)
    publish(world, lambda_context)
    assert world.published() == [(f"askaroundme/geo/{pygeohash.encode(-1.2921, 36.8219, precision=5)}", {
        "event": "question.created", "questionId": question_id, "type": "geo", "text": "Best ramen?",
        "author": "alice", "created": "2030-01-01T00:00:00.000000Z", "lat": -1.2921, "lng": 36.8219,
        "answerCount": 0, "avgScore": 0})]


def test_each_record_is_published_to_the_topic_of_its_own_cell(world, lambda_context):
    save(world, "star", lat=35.6762, lng=139.6503)
    save(world, "star", lat=-33.9249, lng=18.4241)
    publish(world, lambda_context)
    assert [topic for topic, _ in world.published()] == [
        f"askaroundme/geo/{pygeohash.encode(35.6762, 139.6503, precision=5)}",
        f"askaroundme/geo/{pygeohash.encode(-33.9249, 18.4241, precision=5)}"]


def test_a_star_summary_change_is_published_to_the_question_topic_with_absolute_values(world, lambda_context):
    question_id = save(world, "star")
    publish(world, lambda_context)
    add(world, question_id, "ADD answerCount :one, totalScore :four", {":one": 1, ":four": 4})
    add(world, question_id, "ADD answerCount :one, totalScore :one", {":one": 1})
    publish(world, lambda_context)
    updates = world.published()[1:]
    assert [(topic, p["answerCount"], p["avgScore"]) for topic, p in updates] == [
        (f"askaroundme/questions/{question_id}", 1, 4.0), (f"askaroundme/questions/{question_id}", 2, 2.5)]
    assert int(updates[0][1]["seq"]) < int(updates[1][1]["seq"])


def test_a_geo_summary_change_publishes_only_the_cells_that_changed(world, lambda_context):
    question_id = save(world, "geo")
    add(world, question_id, "ADD answerCount :two, heatmap.#a :one, heatmap.#b :one", {":one": 1, ":two": 2},
        {"#a": "xn76ur", "#b": "xn76us"})
    publish(world, lambda_context)
    add(world, question_id, "ADD heatmap.#a :minus, heatmap.#c :one", {":one": 1, ":minus": -1},
        {"#a": "xn76ur", "#c": "xn76ut"})
    publish(world, lambda_context)
    topic, payload = world.published()[-1]
    assert topic == f"askaroundme/questions/{question_id}"
    assert (payload["answerCount"], payload["cells"]) == (2, {"xn76ur": 0, "xn76ut": 1})


def test_a_change_that_leaves_the_summary_alone_publishes_nothing(world, lambda_context):
    question_id = save(world, "star")
    publish(world, lambda_context)
    add(world, question_id, "SET #s = :closed", {":closed": "closed"}, {"#s": "state"})
    assert publish(world, lambda_context) == {"batchItemFailures": []}
    assert len(world.published()) == 1


def test_the_topic_prefix_comes_from_the_environment(world, lambda_context, monkeypatch):
    monkeypatch.setenv("TOPIC_PREFIX", "staging/askaroundme")
    save(world, "star", lat=0.0, lng=0.0)
    publish(world, lambda_context)
    assert world.published()[0][0] == "staging/askaroundme/geo/s0000"


def test_a_failed_publish_fails_only_its_own_record(world, lambda_context, monkeypatch):
    save(world, "star", lat=10.0, lng=10.0)
    save(world, "star", lat=-10.0, lng=-10.0)
    records = world.stream_records(QUESTIONS_TABLE)
    client = publish_updates._iot_data(f"{'data-ats'}.iot.us-east-1.amazonaws.com")
    real_publish = client.publish

    def flaky_publish(**kwargs):
        if kwargs["topic"].endswith(pygeohash.encode(-10.0, -10.0, precision=5)):
            raise ConnectionError("throttled")
        return real_publish(**kwargs)

    monkeypatch.setattr(client, "publish", flaky_publish)
    result = publish_updates.handler(stream_event(records), lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert [topic for topic, _ in world.published()] == [f"askaroundme/geo/{pygeohash.encode(10.0, 10.0, precision=5)}"]
