"""config.json checks: every problem at once, with the fix in the message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from device.robot.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "device" / "robot" / "config.example.json"


def base_config(**changes):
    config = {
        "thing_name": "robot1", "region": "us-east-1",
        "iot": {"endpoint": "abc-ats.iot.us-east-1.amazonaws.com", "certificate": "certificate.pem",
                "private_key": "private.key", "root_ca": "AmazonRootCA1.pem"},
        "motors": {"driver": "simulated"},
    }
    config.update(changes)
    return config


@pytest.fixture
def credentials(tmp_path):
    for name in ("certificate.pem", "private.key", "AmazonRootCA1.pem", "ca-bundle.crt"):
        (tmp_path / name).write_text(name)
    camera = tmp_path / "camera"
    camera.write_text("#!/bin/sh\n")
    camera.chmod(0o755)
    return tmp_path


def full_config(**changes):
    """Every section, every key valid: each case below breaks exactly one."""
    return base_config(
        **changes,
        log_level="INFO",
        motors={"driver": "simulated", "default_speed": 50, "default_duration_ms": 500, "dead_man_ms": 1500,
                "invert_left": False, "invert_right": False, "journal": "motors.jsonl"},
        telemetry={"interval_s": 30},
        camera={"enabled": True, "binary": "camera", "channel_name": "robot1", "args": ["video-only"],
                "credentials_endpoint": "xyz.credentials.iot.us-east-1.amazonaws.com", "role_alias": "robot1-camera",
                "ca_cert": "ca-bundle.crt", "restart_delay_s": 1, "max_restart_delay_s": 60, "stable_after_s": 30,
                "stop_timeout_s": 5})


BAD_VALUES = [
    ("thing_name", "robot 1"), ("thing_name", ""), ("region", "Europe"), ("region", 1), ("log_level", "LOUD"),
    ("colour", "red"),
    ("iot", "abc"), ("iot.endpoint", "https://abc-ats.iot.us-east-1.amazonaws.com"), ("iot.port", 0),
    ("iot.port", "8883"), ("iot.certificate", "missing.pem"), ("iot.certificate", None),
    ("iot.private_key", "missing.key"), ("iot.root_ca", "missing-ca.pem"), ("iot.root_ca", 5), ("iot.extra", 1),
    ("motors", None), ("motors", []), ("motors.driver", "lego"), ("motors.driver", None),
    ("motors.default_speed", 101), ("motors.default_speed", 50.5), ("motors.default_speed", True),
    ("motors.default_duration_ms", 0), ("motors.default_duration_ms", 10_001), ("motors.dead_man_ms", 10),
    ("motors.dead_man_ms", "soon"), ("motors.invert_left", "yes"), ("motors.invert_right", 1),
    ("motors.journal", 7), ("motors.turbo", True),
    ("telemetry", 30), ("telemetry.interval_s", 0), ("telemetry.interval_s", "30"), ("telemetry.every", 1),
    ("camera", True), ("camera.enabled", "yes"), ("camera.binary", "missing-sample"),
    ("camera.binary", "ca-bundle.crt"),  # not executable
    ("camera.channel_name", ""), ("camera.args", "video-only"), ("camera.args", [1]),
    ("camera.credentials_endpoint", None), ("camera.credentials_endpoint", "https://xyz/"),
    ("camera.role_alias", None), ("camera.ca_cert", "missing-bundle.crt"), ("camera.restart_delay_s", 0),
    ("camera.max_restart_delay_s", 0.5), ("camera.stable_after_s", -1), ("camera.stop_timeout_s", 0),
    ("camera.url", "rtsp://"),
]


def _set(config, dotted, value):
    *sections, key = dotted.split(".")
    target = config
    for section in sections:
        target = target[section]
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def assert_reported_alone(raw, key, base_dir):
    """Exactly one problem, and it names ``key``: no cascade from one mistake."""
    with pytest.raises(ConfigError, match=rf": {re.escape(key)}: ") as error:
        parse_config(raw, base_dir=base_dir)
    assert [line.split(": ")[1] for line in str(error.value).splitlines()] == [key], str(error.value)


@pytest.mark.parametrize(("key", "value"), BAD_VALUES, ids=[f"{k}={v!r}" for k, v in BAD_VALUES])
def test_each_bad_key_is_reported_alone_and_by_name(credentials, key, value):
    raw = full_config()
    parse_config(raw, base_dir=credentials)  # the starting point is valid
    _set(raw, key, value)
    assert_reported_alone(raw, key, credentials)


BAD_BROKER_VALUES = [("broker", "localhost"), ("broker.host", ""), ("broker.host", "mqtt://localhost"),
                     ("broker.port", 70000), ("broker.tls", "no"), ("broker.user", "robot")]


@pytest.mark.parametrize(("key", "value"), BAD_BROKER_VALUES, ids=[f"{k}={v!r}" for k, v in BAD_BROKER_VALUES])
def test_each_bad_key_of_a_development_broker_is_reported_alone_and_by_name(credentials, key, value):
    raw = full_config(broker={"host": "127.0.0.1", "port": 1883, "tls": False})
    parse_config(raw, base_dir=credentials)
    _set(raw, key, value)
    assert_reported_alone(raw, key, credentials)


def test_a_complete_config_resolves_files_next_to_the_config_file(credentials):
    (credentials / "config.json").write_text(json.dumps(base_config()))
    config = load_config(credentials / "config.json")
    assert config.broker.host == "abc-ats.iot.us-east-1.amazonaws.com"
    assert config.broker.port == 8883
    assert config.broker.tls.certificate == (credentials / "certificate.pem").resolve()
    assert config.broker.tls.root_ca == (credentials / "AmazonRootCA1.pem").resolve()
    assert (config.action_topic, config.telemetry_topic) == ("robot1/action", "robot1/telemetry")


def test_every_problem_is_reported_at_once(credentials):
    raw = base_config(thing_name="robot 1", motors={"driver": "lego", "dead_man_ms": "soon"}, colour="red")
    with pytest.raises(ConfigError, match=r"motors\.driver: must be one of") as error:
        parse_config(raw, base_dir=credentials)
    lines = str(error.value).splitlines()
    assert len(lines) == 4
    assert any("thing_name" in line for line in lines)
    assert any("motors.driver: must be one of explorerhat, motorkit, simulated, got 'lego'" in line for line in lines)
    assert any("motors.dead_man_ms" in line for line in lines)
    assert any("colour: unknown key" in line for line in lines)


def test_a_missing_certificate_names_the_file_and_the_command_that_makes_it(tmp_path):
    with pytest.raises(ConfigError, match=r"iot.certificate: file .*certificate.pem does not exist "
                                          r"\(written by `python -m device.robot provision`\)"):
        parse_config(base_config(), base_dir=tmp_path)


def test_a_missing_root_ca_says_where_to_download_it(credentials):
    (credentials / "AmazonRootCA1.pem").unlink()
    with pytest.raises(ConfigError, match=r"iot.root_ca: .*https://www.amazontrust.com/repository/AmazonRootCA1.pem"):
        parse_config(base_config(), base_dir=credentials)


def test_without_a_root_ca_the_system_trust_store_is_used(credentials):
    raw = base_config()
    raw["iot"]["root_ca"] = None
    assert parse_config(raw, base_dir=credentials).broker.tls.root_ca is None


def test_a_local_broker_without_tls_needs_no_certificates(tmp_path):
    raw = base_config(broker={"host": "127.0.0.1", "port": 1883, "tls": False})
    del raw["iot"]
    config = parse_config(raw, base_dir=tmp_path)
    assert (config.broker.host, config.broker.port, config.broker.tls) == ("127.0.0.1", 1883, None)


def test_an_enabled_camera_needs_its_binary_endpoint_and_role_alias(credentials):
    raw = base_config(camera={"enabled": True, "binary": "missing-sample"})
    with pytest.raises(ConfigError, match=r"camera\.binary: file") as error:
        parse_config(raw, base_dir=credentials)
    message = str(error.value)
    assert "camera.binary: file" in message and "set camera.enabled to false" in message
    assert "camera.credentials_endpoint" in message
    assert "camera.role_alias" in message


def test_a_file_that_is_not_json_is_reported_with_its_position(tmp_path):
    (tmp_path / "config.json").write_text('{"thing_name": "robot1",\n  oops}')
    with pytest.raises(ConfigError, match=r"not valid JSON: .* line 2 column 3"):
        load_config(tmp_path / "config.json")


def test_a_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(ConfigError, match="provision"):
        load_config(tmp_path / "config.json")


def test_the_example_config_only_lacks_the_files_made_on_the_robot():
    with pytest.raises(ConfigError, match="does not exist") as error:
        parse_config(json.loads(EXAMPLE.read_text()), base_dir=Path("/nonexistent"))
    problems = str(error.value).splitlines()
    assert problems and all("does not exist" in line for line in problems), problems
