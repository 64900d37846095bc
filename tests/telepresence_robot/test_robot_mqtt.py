"""The robot application on a real broker (mosquitto on loopback), driven by a separate client.

The application runs exactly as on the robot - config parsing, the awsiotsdk MQTT 5 client,
the control loop, the simulated motor driver - except that ``broker`` points at the local
broker without TLS. The last test uses the production ``iot`` settings instead, against the
broker's mutual-TLS listener. Driver calls are ``(monotonic time, call, args)``.
"""

from __future__ import annotations

import json
import time
from itertools import pairwise

import pytest

from .conftest import new_thing_name

pytestmark = pytest.mark.usefixtures("time_limit")


def _drives(calls):
    return [c for c in calls if c[1] == "drive"]


def _stops_after_first_drive(calls):
    drives = _drives(calls)
    return [c for c in calls if c[1] == "stop" and drives and c[0] > drives[0][0]]


@pytest.mark.parametrize(("action", "wheels"), [
    ("forward", (0.6, 0.6)),
    ("backwards", (-0.6, -0.6)),
    ("left", (-0.6, 0.6)),
    ("right", (0.6, -0.6)),
])
def test_each_action_drives_the_wheels_in_its_direction(start_robot, mqtt_client, action, wheels):
    robot = start_robot()
    mqtt_client.publish(robot.action_topic, {"action": action, "speed": 60, "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert _drives(robot.calls())[0][2] == pytest.approx(wheels)


def test_a_stop_command_stops_the_motors_at_once(start_robot, mqtt_client):
    robot = start_robot()
    mqtt_client.publish(robot.action_topic, {"action": "forward", "duration_ms": 10000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    mqtt_client.publish(robot.action_topic, {"action": "stop"})
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=2)
    assert robot.app.controller.last_stop_reason == "command"


def test_motors_stop_when_the_command_duration_ends(start_robot, mqtt_client):
    robot = start_robot(motors={"dead_man_ms": 5000})
    mqtt_client.publish(robot.action_topic, {"action": "forward", "speed": 40, "duration_ms": 300})
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=3)
    drive, stop = _drives(robot.calls())[0], _stops_after_first_drive(robot.calls())[0]
    assert 0.25 <= stop[0] - drive[0] < 2.0  # the upper bound only guards against a stop from elsewhere
    assert robot.app.controller.last_stop_reason == "duration"


def test_default_speed_and_duration_apply_when_the_command_leaves_them_out(start_robot, mqtt_client):
    robot = start_robot(motors={"default_speed": 30, "default_duration_ms": 250, "dead_man_ms": 5000})
    mqtt_client.publish(robot.action_topic, {"action": "forward"})
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=3)
    drive, stop = _drives(robot.calls())[0], _stops_after_first_drive(robot.calls())[0]
    assert drive[2] == pytest.approx((0.3, 0.3))
    assert 0.2 <= stop[0] - drive[0] < 2.0


def test_motors_stop_when_no_command_arrives_within_the_dead_man_time(start_robot, mqtt_client):
    robot = start_robot(motors={"dead_man_ms": 300})
    mqtt_client.publish(robot.action_topic, {"action": "forward", "duration_ms": 10000})
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=3)
    drive, stop = _drives(robot.calls())[0], _stops_after_first_drive(robot.calls())[0]
    assert 0.25 <= stop[0] - drive[0] < 2.0
    assert robot.app.controller.last_stop_reason == "dead_man"


def test_repeated_commands_keep_the_robot_moving_past_the_dead_man_time(start_robot, mqtt_client):
    robot = start_robot(motors={"dead_man_ms": 600})
    for _ in range(8):  # a held button: the same command every 150 ms for 1.2 s, twice the dead-man time
        mqtt_client.publish(robot.action_topic, {"action": "forward", "duration_ms": 10000})
        time.sleep(0.15)
    assert robot.wait_for_calls(lambda calls: len(_drives(calls)) == 8)
    assert not _stops_after_first_drive(robot.calls())
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=3)
    assert robot.app.controller.last_stop_reason == "dead_man"


def test_motors_stop_when_the_connection_drops(start_robot, mqtt_client, connect_client):
    robot = start_robot()
    mqtt_client.publish(robot.action_topic, {"action": "forward", "duration_ms": 10000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    # The broker drops the robot's connection when another client takes over its client id.
    connect_client(client_id=robot.thing_name)
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=3)
    assert robot.app.controller.last_stop_reason == "disconnect"


def test_inverted_motors_run_the_other_way(start_robot, mqtt_client):
    robot = start_robot(motors={"invert_left": True})
    mqtt_client.publish(robot.action_topic, {"action": "forward", "speed": 100, "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert _drives(robot.calls())[0][2] == pytest.approx((-1.0, 1.0))


MALFORMED = [
    b"not json",
    b"\xff\xfe\x00",
    b"",
    b"[]",
    b'"forward"',
    json.dumps({}).encode(),
    json.dumps({"action": "jump"}).encode(),
    json.dumps({"action": ["forward"]}).encode(),
    json.dumps({"action": "forward", "speed": 101}).encode(),
    json.dumps({"action": "forward", "speed": -1}).encode(),
    json.dumps({"action": "forward", "speed": "fast"}).encode(),
    json.dumps({"action": "forward", "speed": 50.5}).encode(),
    json.dumps({"action": "forward", "duration_ms": 0}).encode(),
    json.dumps({"action": "forward", "duration_ms": 10001}).encode(),
    json.dumps({"action": "forward", "turbo": True}).encode(),
    b"{" * 5000,
]


def test_malformed_payloads_are_ignored_and_the_robot_keeps_working(start_robot, mqtt_client):
    robot = start_robot()
    for payload in MALFORMED:
        mqtt_client.publish(robot.action_topic, payload)
    mqtt_client.publish(robot.action_topic, {"action": "left", "speed": 20, "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert [c[2] for c in _drives(robot.calls())] == [pytest.approx((-0.2, 0.2))]
    assert robot.app.controller.ignored_messages == len(MALFORMED)
    assert robot.app.healthy


def test_a_retained_command_is_never_sent_to_the_robot_when_it_connects(start_robot, mqtt_client):
    thing_name = new_thing_name()
    mqtt_client.publish(f"{thing_name}/action", {"action": "forward", "speed": 90, "duration_ms": 5000}, retain=True)
    robot = start_robot(thing_name=thing_name)
    # A live command after the subscription: the broker would have sent the retained one before it.
    mqtt_client.publish(robot.action_topic, {"action": "left", "speed": 20, "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert [c[2] for c in _drives(robot.calls())] == [pytest.approx((-0.2, 0.2))]
    assert robot.app.controller.ignored_messages == 0  # not even delivered: the subscription asked the broker


def test_a_retained_command_from_a_broker_that_sends_it_anyway_is_dropped(start_robot, mqtt_client, monkeypatch):
    from device.robot import mqtt

    # As if the broker ignored the subscription's retain handling.
    monkeypatch.setattr(mqtt, "ACTION_RETAIN_HANDLING", "SEND_ON_SUBSCRIBE")
    thing_name = new_thing_name()
    mqtt_client.publish(f"{thing_name}/action", {"action": "forward", "speed": 90, "duration_ms": 5000}, retain=True)
    robot = start_robot(thing_name=thing_name)
    mqtt_client.publish(robot.action_topic, {"action": "left", "speed": 20, "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert [c[2] for c in _drives(robot.calls())] == [pytest.approx((-0.2, 0.2))]
    assert robot.app.controller.ignored_messages == 1  # delivered with the retain flag, and refused


def test_a_stop_with_an_out_of_range_field_stops_the_motors_at_once(start_robot, mqtt_client):
    robot = start_robot(motors={"dead_man_ms": 5000})
    mqtt_client.publish(robot.action_topic, {"action": "forward", "duration_ms": 10000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    mqtt_client.publish(robot.action_topic, {"action": "stop", "duration_ms": 0})
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=2)
    assert robot.app.controller.last_stop_reason == "command"


def test_a_command_with_a_duplicate_field_stops_the_motors_and_drives_nothing(start_robot, mqtt_client):
    robot = start_robot(motors={"dead_man_ms": 5000})
    mqtt_client.publish(robot.action_topic, {"action": "left", "speed": 20, "duration_ms": 10000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    mqtt_client.publish(robot.action_topic, b'{"action": "stop", "action": "forward", "speed": 100}')
    assert robot.wait_for_calls(_stops_after_first_drive, timeout=2)
    assert len(_drives(robot.calls())) == 1
    assert robot.app.controller.last_stop_reason == "invalid"
    assert robot.app.controller.ignored_messages == 1


def _telemetry(messages, topic):
    return [json.loads(payload) for t, payload in messages if t == topic]


def test_telemetry_reports_uptime_last_command_camera_and_connection(start_robot, connect_client):
    robot = start_robot(telemetry={"interval_s": 0.2})
    watcher = connect_client()
    watcher.subscribe(robot.telemetry_topic)
    connect_client().publish(robot.action_topic, {"action": "right", "speed": 70, "duration_ms": 100})
    assert watcher.wait_for(lambda m: any(r["last_command"] for r in _telemetry(m, robot.telemetry_topic)))
    report = next(r for r in _telemetry(watcher.messages, robot.telemetry_topic) if r["last_command"])

    assert report["thing_name"] == robot.thing_name
    assert report["last_command"] == {"action": "right", "speed": 70, "duration_ms": 100}
    assert report["last_command_time"].endswith("Z")
    assert report["uptime_s"] > 0
    assert report["connection"] == "connected"
    assert report["camera"] == {"state": "disabled"}


def test_telemetry_is_published_every_interval(start_robot, connect_client):
    watcher = connect_client()
    robot = start_robot(telemetry={"interval_s": 0.2})
    watcher.subscribe(robot.telemetry_topic)
    assert watcher.wait_for(lambda m: len(_telemetry(m, robot.telemetry_topic)) >= 4, timeout=5)
    uptimes = [r["uptime_s"] for r in _telemetry(watcher.messages, robot.telemetry_topic)]
    gaps = [b - a for a, b in pairwise(uptimes)]
    assert all(0.19 <= gap < 1.5 for gap in gaps[:3]), gaps  # never a burst; late only under heavy load


def test_commands_for_another_robot_do_not_move_this_one(start_robot, mqtt_client):
    robot = start_robot()
    mqtt_client.publish(f"{new_thing_name()}/action", {"action": "forward"})
    mqtt_client.publish(robot.action_topic, {"action": "backwards", "duration_ms": 2000})
    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert len(_drives(robot.calls())) == 1


def test_the_production_mutual_tls_client_connects_with_the_things_certificate(start_robot, mqtt_client, mosquitto):
    # The broker's TLS listener stands in for AWS IoT: the robot must present its certificate
    # and verify the broker's against root_ca - the `iot` section as provisioning writes it.
    pki = mosquitto.pki
    robot = start_robot(broker=None, iot={
        "endpoint": "localhost", "port": mosquitto.tls_port, "certificate": str(pki.client_certificate),
        "private_key": str(pki.client_key), "root_ca": str(pki.ca)})
    assert robot.app.config.broker.tls is not None

    mqtt_client.publish(robot.action_topic, {"action": "forward", "speed": 80, "duration_ms": 2000})

    assert robot.wait_for_calls(lambda calls: _drives(calls))
    assert _drives(robot.calls())[0][2] == pytest.approx((0.8, 0.8))
