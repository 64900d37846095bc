"""One command language in three places: the API Gateway model (the exported JSON schema),
the drive function's own check, and the robot's check. They must agree on every body, and
the function and the robot on every text (duplicate fields, NaN, ...) and on its meaning."""

from __future__ import annotations

import json

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from device.robot import commands as robot
from lambda_src.telepresence_robot.drive import logic as api

values = st.one_of(
    st.sampled_from(api.ACTIONS), st.text(max_size=12), st.none(), st.booleans(),
    st.integers(min_value=-5, max_value=10_010), st.sampled_from([0, 1, 100, 101, 10_000, 10_001]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=10_010),
    st.lists(st.integers(), max_size=2),
)
bodies = st.dictionaries(st.sampled_from(["action", "speed", "duration_ms", "extra", "Action"]), values,
                         max_size=4)
model = jsonschema.Draft4Validator(api.COMMAND_SCHEMA)


def _function_accepts(body: dict) -> bool:
    try:
        api.parse_command(body)
    except api.BadRequest:
        return False
    return True


def _robot_accepts(body: dict) -> bool:
    try:
        robot.parse_command(json.dumps(body).encode())
    except robot.InvalidCommand:
        return False
    return True


def test_the_exported_schema_is_a_valid_draft_04_schema():
    jsonschema.Draft4Validator.check_schema(api.COMMAND_SCHEMA)
    assert api.COMMAND_SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    json.dumps(api.COMMAND_SCHEMA)  # usable as-is in a template


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_the_function_accepts_exactly_what_the_api_gateway_model_accepts(body):
    assert _function_accepts(body) == model.is_valid(body)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_the_robot_accepts_exactly_what_the_drive_api_accepts(body):
    assert _robot_accepts(body) == _function_accepts(body)


def test_the_robot_and_the_api_share_actions_and_bounds():
    assert (robot.ACTIONS, robot.SPEED_RANGE, robot.DURATION_MS_RANGE) == (
        api.ACTIONS, api.SPEED_RANGE, api.DURATION_MS_RANGE)


# Raw JSON texts: field lists that may repeat a name, and number literals Python would accept.
literals = st.one_of(values.map(json.dumps), st.sampled_from(["NaN", "Infinity", "-Infinity", "1e2", "-0", "1.0"]))
texts = st.lists(st.tuples(st.sampled_from(["action", "speed", "duration_ms", "extra", "\\u0061ction"]), literals),
                 max_size=4).map(lambda fields: "{" + ", ".join(f'"{name}": {value}' for name, value in fields) + "}")


def _function_reads(text: str) -> dict | None:
    try:
        return api.parse_command(api.read_json_object(text)).payload()
    except api.BadRequest:
        return None


def _robot_reads(text: str) -> dict | None:
    try:
        return robot.parse_command(text.encode()).as_dict()
    except robot.InvalidCommand:
        return None


@settings(max_examples=400, deadline=None)
@given(texts)
def test_the_robot_reads_every_text_exactly_as_the_drive_function_publishes_it(text):
    assert _robot_reads(text) == _function_reads(text)


def test_both_refuse_a_repeated_field_even_when_both_values_are_stop():
    text = '{"action": "stop", "action": "stop"}'
    assert _function_reads(text) is None and _robot_reads(text) is None
