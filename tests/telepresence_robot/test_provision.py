"""`python -m device.robot provision` against moto: CloudFormation outputs in, certificate and config out."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from device.robot.__main__ import main
from device.robot.config import parse_config

from .conftest import REGION

THING = "robot1"
STACK = f"TelepresenceRobot-{THING}"
OUTPUTS = {
    "ThingName": THING,
    "IotPolicyName": "robot1-device",
    "RoleAliasPolicyName": "robot1-assume-camera-role",
    "RoleAlias": "robot1-camera",
    "IotDataEndpoint": "abc123example-ats.iot.us-east-1.amazonaws.com",
    "IotCredentialsEndpoint": "xyz789example.credentials.iot.us-east-1.amazonaws.com",
    "SignalingChannelArn": "arn:aws:kinesisvideo:us-east-1:123456789012:channel/robot1/1700000000000",
    # The stack's outputs for the web app: the robot needs none of them.
    "ApiUrl": "https://api.example.com/prod/",
    "UserPoolId": "us-east-1_example",
    "UserPoolClientId": "exampleclientid",
    "IdentityPoolId": "us-east-1:00000000-0000-0000-0000-000000000000",
    "TelemetryIntervalSeconds": "20",
}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
                                                              "Resource": "*"}]})
FILES = ("certificate.pem", "private.key", "config.json")


def create_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def aws():
    with mock_aws():
        iot = boto3.client("iot", region_name=REGION)
        iot.create_thing(thingName=THING)
        for policy in (OUTPUTS["IotPolicyName"], OUTPUTS["RoleAliasPolicyName"]):
            iot.create_policy(policyName=policy, policyDocument=POLICY)
        create_stack(STACK, OUTPUTS)
        yield iot


def provision(out: Path, stack: str = STACK, *extra: str) -> int:
    return main(["provision", "--stack", stack, "--out", str(out), "--region", REGION, *extra])


def assert_no_certificate_left(iot) -> None:
    assert iot.list_certificates()["certificates"] == []
    assert iot.list_thing_principals(thingName=THING)["principals"] == []


def test_the_private_key_is_written_readable_by_its_owner_only(aws, tmp_path):
    out = tmp_path / "robot1"
    assert provision(out) == 0
    assert stat.S_IMODE((out / "private.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert (out / "private.key").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no staging file left behind


def test_the_certificate_file_is_the_one_aws_iot_issued(aws, tmp_path):
    assert provision(tmp_path) == 0
    [certificate] = aws.list_certificates()["certificates"]
    issued = aws.describe_certificate(certificateId=certificate["certificateId"])["certificateDescription"]
    assert (tmp_path / "certificate.pem").read_text() == issued["certificatePem"]
    assert stat.S_IMODE((tmp_path / "certificate.pem").stat().st_mode) == 0o644


def test_the_certificate_is_active_and_attached_to_the_thing_and_both_policies(aws, tmp_path):
    assert provision(tmp_path) == 0
    [certificate] = aws.list_certificates()["certificates"]
    assert certificate["status"] == "ACTIVE"
    assert aws.list_thing_principals(thingName=THING)["principals"] == [certificate["certificateArn"]]
    attached = {p["policyName"] for p in aws.list_attached_policies(target=certificate["certificateArn"])["policies"]}
    assert attached == {OUTPUTS["IotPolicyName"], OUTPUTS["RoleAliasPolicyName"]}


def test_config_json_matches_the_stack_outputs(aws, tmp_path):
    assert provision(tmp_path, STACK, "--driver", "motorkit") == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["thing_name"] == OUTPUTS["ThingName"]
    assert config["region"] == REGION
    assert config["iot"] == {"endpoint": OUTPUTS["IotDataEndpoint"], "port": 8883, "certificate": "certificate.pem",
                             "private_key": "private.key", "root_ca": "AmazonRootCA1.pem"}
    assert config["camera"]["channel_name"] == "robot1"
    assert config["camera"]["credentials_endpoint"] == OUTPUTS["IotCredentialsEndpoint"]
    assert config["camera"]["role_alias"] == OUTPUTS["RoleAlias"]
    assert config["motors"]["driver"] == "motorkit"


def test_the_written_config_passes_the_robots_checks_once_root_ca_and_camera_are_installed(aws, tmp_path):
    assert provision(tmp_path) == 0
    (tmp_path / "AmazonRootCA1.pem").write_text("root ca")
    (tmp_path / "ca-certificates.crt").write_text("ca bundle")
    camera = tmp_path / "kvsWebrtcClientMasterGstSample"
    camera.write_text("#!/bin/sh\n")
    camera.chmod(0o755)
    raw = json.loads((tmp_path / "config.json").read_text())
    raw["camera"].update(binary=str(camera), ca_cert="ca-certificates.crt")  # where install.sh puts them

    config = parse_config(raw, base_dir=tmp_path)

    assert config.broker.host == OUTPUTS["IotDataEndpoint"]
    assert config.broker.tls.private_key == (tmp_path / "private.key").resolve()
    assert config.action_topic == "robot1/action"
    assert config.camera.certificate == (tmp_path / "certificate.pem").resolve()


def test_the_robot_reports_at_the_interval_the_stacks_silence_alarm_expects(aws, tmp_path):
    assert provision(tmp_path / "robot1") == 0
    assert json.loads((tmp_path / "robot1" / "config.json").read_text())["telemetry"]["interval_s"] == 20


def test_a_stack_without_the_robot_outputs_is_refused_before_any_certificate_exists(aws, tmp_path, capsys):
    create_stack("TelepresenceRobot-half", {k: v for k, v in OUTPUTS.items() if k != "RoleAlias"})
    assert provision(tmp_path / "out", "TelepresenceRobot-half") == 1
    assert "lacks the output(s) RoleAlias" in capsys.readouterr().err
    assert aws.list_certificates()["certificates"] == []
    assert not (tmp_path / "out").exists()


def test_an_unknown_stack_is_reported_with_the_naming_rule(aws, tmp_path, capsys):
    assert provision(tmp_path, "robot1") == 1
    assert "stack robot1 not found" in (err := capsys.readouterr().err) and "TelepresenceRobot-<robotName>" in err
    assert aws.list_certificates()["certificates"] == []


def test_a_failed_attachment_removes_the_new_certificate_again(aws, tmp_path, capsys):
    create_stack("TelepresenceRobot-broken", {**OUTPUTS, "RoleAliasPolicyName": "no-such-policy"})
    assert provision(tmp_path, "TelepresenceRobot-broken") == 1
    err = capsys.readouterr().err
    assert "provisioning failed" in err and "no-such-policy" in err and "was removed again" in err
    assert_no_certificate_left(aws)
    assert aws.list_targets_for_policy(policyName=OUTPUTS["IotPolicyName"])["targets"] == []
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_removes_the_new_certificate_again(aws, tmp_path, capsys):
    (tmp_path / "certificate.pem.new").mkdir()  # something in the way, after the key was written
    assert provision(tmp_path) == 1
    assert "certificate.pem.new" in (err := capsys.readouterr().err) and "was removed again" in err
    assert_no_certificate_left(aws)
    assert not (tmp_path / "private.key.new").exists() and not (tmp_path / "private.key").exists()


def test_a_failed_forced_run_keeps_the_credentials_the_robot_uses_today(aws, tmp_path):
    for name in FILES:
        (tmp_path / name).write_text(f"today's {name}")
    (tmp_path / "config.json.new").mkdir()
    assert provision(tmp_path, STACK, "--force") == 1
    assert all((tmp_path / name).read_text() == f"today's {name}" for name in FILES)
    assert_no_certificate_left(aws)


def test_existing_credentials_are_not_overwritten_without_force(aws, tmp_path, capsys):
    (tmp_path / "private.key").write_text("the key the robot uses today")
    assert provision(tmp_path) == 1
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "private.key").read_text() == "the key the robot uses today"
    assert aws.list_certificates()["certificates"] == []


def test_force_replaces_existing_credentials(aws, tmp_path):
    (tmp_path / "private.key").write_text("an old key")
    assert provision(tmp_path, STACK, "--force") == 0
    assert (tmp_path / "private.key").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert stat.S_IMODE((tmp_path / "private.key").stat().st_mode) == 0o600
