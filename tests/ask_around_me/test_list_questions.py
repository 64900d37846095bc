"""Radius search: never misses a question within 8 km, never returns one beyond, in a bounded number of queries.

The oracle is a brute-force scan of every stored question with an independent
great-circle formula. Centres include cell edges and corners, the antimeridian,
the equator, high latitudes, the polar cap and the poles.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pygeohash
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lambda_src.ask_around_me.list_questions import handler as list_questions
from lambda_src.ask_around_me.list_questions import logic
from lambda_src.ask_around_me.save_question.logic import Question, question_item
from lambda_src.ask_around_me.shared import aws
from lambda_src.ask_around_me.shared.timestamps import iso

from .conftest import QUESTIONS_TABLE, http_event

RADIUS = 8_000.0
R = 6_371_008.8


def oracle_distance(lat1, lng1, lat2, lng2):
    """Great-circle distance by the Vincenty (atan2) form: independent of the code's haversine."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    y = math.hypot(math.cos(p2) * math.sin(dl),
                   math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return R * math.atan2(y, x)


def destination(lat, lng, bearing_deg, distance_m):
    """The point ``distance_m`` from (lat, lng) along ``bearing_deg`` on the sphere."""
    d, b, p1, l1 = distance_m / R, math.radians(bearing_deg), math.radians(lat), math.radians(lng)
    p2 = math.asin(max(-1.0, min(1.0, math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    lng2 = (math.degrees(l2) + 540.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(p2))), lng2


def edge_centre(rng: random.Random):
    """A point on, or within a hair of, a precision-4 cell's edge or corner."""
    lat, lng = rng.uniform(-60, 60), rng.uniform(-180, 180)
    box = pygeohash.get_bounding_box(pygeohash.encode(lat, lng, precision=4))
    eps = rng.choice([0.0, 1e-9, -1e-9, 1e-6, -1e-4])
    edge_lat = rng.choice([box.min_lat, box.max_lat, lat]) + eps
    edge_lng = rng.choice([box.min_lon, box.max_lon, lng]) + eps
    return edge_lat, min(180.0, max(-180.0, edge_lng))


def questions_around(rng: random.Random, lat, lng, count=24):
    """Questions inside, outside and within a metre or two of the 8 km circle, all around the centre."""
    points = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            distance = RADIUS + rng.choice([-1, 1]) * rng.uniform(0.5, 60.0)
        elif kind < 0.8:
            distance = rng.uniform(0.0, RADIUS)
        else:
            distance = rng.uniform(RADIUS, 2.5 * RADIUS)
        points.append(destination(lat, lng, rng.uniform(0, 360), distance))
    return points


FIXED_CENTRES = [
    (0.0, 0.0), (0.0, 179.999), (0.01, -179.9999), (-0.03, 180.0), (45.0, -180.0), (-59.99, 179.95),
    (60.0, 0.3515625), (-60.0, -0.0001), (65.8, 10.0), (70.0, 179.99), (75.0, -100.0), (79.9, 0.0),
    (79.95, 45.0), (80.0, 0.0), (80.05, -179.99), (85.0, 0.0), (89.95, 120.0), (90.0, 0.0), (-89.99, -45.0),
    (-80.01, 60.0), (-79.93, -120.0), (0.087890625, 0.17578125), (-0.0000001, 0.3515625), (51.4779, -0.0015),
]


def _centres():
    rng = random.Random(20240601)
    centres = list(FIXED_CENTRES)
    centres += [edge_centre(rng) for _ in range(12)]
    centres += [(rng.uniform(-60, 60), rng.uniform(-180, 180)) for _ in range(12)]
    return centres, rng


@pytest.fixture
def stored_questions(world):
    """About 1,400 questions around 48 centres, written as save_question writes them."""
    centres, rng = _centres()
    created = iso(datetime.now(timezone.utc) - timedelta(minutes=5))
    points = [p for lat, lng in centres for p in questions_around(rng, lat, lng)]
    with world.tables.Table(QUESTIONS_TABLE).batch_writer() as batch:
        for lat, lng in points:
            batch.put_item(Item=question_item(Question(str(uuid.uuid4()), "star", "?", lat, lng, "alice", created)))
    return centres, points


def _search(lat, lng, lambda_context):
    response = list_questions.handler(
        http_event("GET", "/questions", query={"lat": repr(lat), "lng": repr(lng)}), lambda_context)
    assert response["statusCode"] == 200
    return json.loads(response["body"])["questions"]


def test_searches_return_exactly_the_questions_within_8_km_in_a_bounded_number_of_queries(
        world, stored_questions, lambda_context, monkeypatch):
    monkeypatch.setenv("MAX_RESULTS", "10000")
    centres, points = stored_questions
    counted = []
    world_events = aws.dynamodb.meta.client.meta.events
    handler_id = "count-queries"
    world_events.register("before-call.dynamodb.Query", lambda **_: counted.append(1), unique_id=handler_id)
    try:
        for lat, lng in centres:
            counted.clear()
            found = _search(lat, lng, lambda_context)
            expected = sorted((round(lat2, 9), round(lng2, 9)) for lat2, lng2 in points
                              if oracle_distance(lat, lng, lat2, lng2) <= RADIUS)
            assert sorted((round(q["lat"], 9), round(q["lng"], 9)) for q in found) == expected, (lat, lng)
            assert len(counted) <= 9, (lat, lng, len(counted))
            if abs(lat) <= 60:
                assert len(counted) <= 4, (lat, lng, len(counted))
    finally:
        world_events.unregister("before-call.dynamodb.Query", unique_id=handler_id)


def test_questions_are_listed_nearest_first_with_their_summary(world, lambda_context):
    created = iso(datetime.now(timezone.utc))
    table = world.tables.Table(QUESTIONS_TABLE)
    ids = {}
    for name, distance, question_type in (("far", 7_000, "geo"), ("near", 100, "star"), ("mid", 3_000, "star")):
        lat, lng = destination(40.0, -3.7, 45.0, distance)
        ids[name] = str(uuid.uuid4())
        table.put_item(Item=question_item(Question(ids[name], question_type, name, lat, lng, "bob", created)))
    table.update_item(Key={"questionId": ids["near"]}, UpdateExpression="SET answerCount = :n, totalScore = :s",
                      ExpressionAttributeValues={":n": 3, ":s": 10})

    found = _search(40.0, -3.7, lambda_context)

    assert [q["text"] for q in found] == ["near", "mid", "far"]
    assert {k: found[0][k] for k in ("questionId", "type", "author", "answerCount", "avgScore")} == {
        "questionId": ids["near"], "type": "star", "author": "bob", "answerCount": 3, "avgScore": 3.33}
    assert (found[1]["answerCount"], found[1]["avgScore"], found[2]["avgScore"]) == (0, 0, 0)
    assert found[0]["created"] == created


def test_questions_older_than_the_open_window_are_not_listed(world, lambda_context, monkeypatch):
    monkeypatch.setenv("QUESTION_OPEN_HOURS", "24")
    table = world.tables.Table(QUESTIONS_TABLE)
    now = datetime.now(timezone.utc)
    for text, age in (("fresh", timedelta(hours=23)), ("stale", timedelta(hours=25))):
        table.put_item(Item=question_item(Question(str(uuid.uuid4()), "star", text, 10.0, 10.0, "bob",
                                                   iso(now - age))))
    assert [q["text"] for q in _search(10.0, 10.0, lambda_context)] == ["fresh"]


def test_the_list_is_capped_at_the_configured_number_of_nearest_questions(world, lambda_context, monkeypatch):
    monkeypatch.setenv("MAX_RESULTS", "3")
    created = iso(datetime.now(timezone.utc))
    table = world.tables.Table(QUESTIONS_TABLE)
    for distance in (500, 100, 900, 300, 700):
        lat, lng = destination(-23.55, -46.63, 90.0, distance)
        table.put_item(Item=question_item(Question(str(uuid.uuid4()), "geo", str(distance), lat, lng, "x", created)))
    assert [q["text"] for q in _search(-23.55, -46.63, lambda_context)] == ["100", "300", "500"]


# --- the same property over many more centres, against an in-memory cell index -----------------------

latitudes = st.one_of(
    st.floats(-60, 60),
    st.floats(-0.01, 0.01),                                   # the equator
    st.floats(60, 90), st.floats(-90, -60),                  # high latitudes, polar caps, poles
    st.sampled_from([79.9, 79.93, 80.0, 80.07, -80.0, 89.99, 90.0, -90.0]),
)
longitudes = st.one_of(st.floats(-180, 180), st.floats(179.9, 180), st.floats(-180, -179.9))


@st.composite
def centres(draw):
    lat, lng = draw(latitudes), draw(longitudes)
    if draw(st.booleans()):  # snap to a precision-4 cell edge or corner, give or take a hair
        box = pygeohash.get_bounding_box(pygeohash.encode(lat, lng, precision=4))
        nudge = draw(st.sampled_from([0.0, 1e-12, -1e-12, 1e-7, -1e-7]))
        if draw(st.booleans()):
            lat = min(90.0, max(-90.0, draw(st.sampled_from([box.min_lat, box.max_lat])) + nudge))
        if draw(st.booleans()):
            lng = min(180.0, max(-180.0, draw(st.sampled_from([box.min_lon, box.max_lon])) + nudge))
    return lat, lng


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(centre=centres(), seed=st.integers(0, 2**32 - 1))
def test_the_cell_cover_never_misses_a_question_in_range_and_stays_within_the_query_bound(centre, seed):
    lat, lng = centre
    rng = random.Random(seed)
    points = questions_around(rng, lat, lng, count=40)
    assume(all(abs(oracle_distance(lat, lng, a, b) - RADIUS) > 1e-3 for a, b in points))
    index = defaultdict(list)
    for a, b in points:
        item = question_item(Question(str(uuid.uuid4()), "star", "?", a, b, "u", "2030-01-01T00:00:00.000000Z"))
        index[item["cell"]].append(item)

    cells = logic.covering_cells(lat, lng)
    found = logic.select_in_range(lat, lng, [item for cell in cells for item in index.get(cell, [])])

    expected = sorted((float(i["lat"]), float(i["lng"])) for items in index.values() for i in items
                      if oracle_distance(lat, lng, float(i["lat"]), float(i["lng"])) <= RADIUS)
    assert sorted((float(f.item["lat"]), float(f.item["lng"])) for f in found) == expected
    assert [f.distance_m for f in found] == sorted(f.distance_m for f in found)
    assert len(cells) <= 9
    if abs(lat) <= 60:
        assert len(cells) <= 4


def test_the_exact_distance_to_a_cell_is_never_more_than_the_distance_to_any_point_in_it():
    rng = random.Random(7)
    for _ in range(2_000):
        lat, lng = rng.uniform(-90, 90), rng.uniform(-180, 180)
        cell = pygeohash.encode(rng.uniform(-90, 90), rng.uniform(-180, 180), precision=rng.choice([3, 4, 5]))
        box = pygeohash.get_bounding_box(cell)
        inside = (rng.uniform(box.min_lat, box.max_lat), rng.uniform(box.min_lon, box.max_lon))
        assert logic.min_distance_to_box_m(lat, lng, box) <= oracle_distance(lat, lng, *inside) + 1e-6


def test_haversine_matches_exact_great_circle_distances():
    one_degree = R * math.pi / 180  # 111,195.08 m on the mean sphere
    assert logic.haversine_m(10.0, 20.0, 11.0, 20.0) == pytest.approx(one_degree, abs=1e-6)
    assert logic.haversine_m(0.0, 179.5, 0.0, -179.5) == pytest.approx(one_degree, abs=1e-6)
    assert logic.haversine_m(45.0, 0.0, -45.0, 180.0) == pytest.approx(R * math.pi, abs=1e-3)
