"""The files that put the robot on a Raspberry Pi agree with the code and with each other."""

from __future__ import annotations

import configparser
import re
import subprocess
from importlib.metadata import version
from pathlib import Path

ROBOT = Path(__file__).resolve().parents[2] / "device" / "robot"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(ROBOT / "telepresence-robot.service")
    return parser


def test_the_install_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(ROBOT / "install.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_service_runs_the_robot_with_the_config_the_installer_prepares():
    service = unit()["Service"]
    install = (ROBOT / "install.sh").read_text()
    assert service["ExecStart"] == ("/opt/telepresence-robot/venv/bin/python -m device.robot run "
                                    "--config /etc/telepresence-robot/config.json")
    assert "CONFIG_DIR=/etc/telepresence-robot" in install and "PREFIX=/opt/telepresence-robot" in install
    assert service["WorkingDirectory"] == "/opt/telepresence-robot/app"
    assert service["User"] == "robot" and "useradd --system" in install


def test_the_service_stops_with_sigterm_and_does_not_restart_on_a_config_error():
    service = unit()["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "2"
    assert service["Restart"] == "on-failure"


def test_the_robot_requirements_pin_the_iot_sdk_version_the_tests_ran():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROBOT / "requirements.txt").read_text(), re.M))
    assert pins["awsiotsdk"] == version("awsiotsdk")


def test_the_installer_builds_the_sample_with_iot_credentials_where_the_config_expects_it():
    install = (ROBOT / "install.sh").read_text()
    from device.robot.config import DEFAULT_CAMERA_BINARY

    assert "-DIOT_CORE_ENABLE_CREDENTIALS=ON" in install
    assert f'"$PREFIX/kvs/{Path(DEFAULT_CAMERA_BINARY).name}"' in install
    assert DEFAULT_CAMERA_BINARY.startswith("/opt/telepresence-robot/kvs/")


def test_systemd_signals_only_the_app_which_stops_its_camera_itself():
    service = unit()["Service"]
    from device.robot.app import CONTROL_LOOP_STOP_TIMEOUT_S, FINAL_TELEMETRY_TIMEOUT_S
    from device.robot.config import CameraSettings

    # control-group would SIGTERM the camera at the same time: the sample's unclean exit, a restart race.
    assert service["KillMode"] == "mixed"
    slowest_clean_stop = (CONTROL_LOOP_STOP_TIMEOUT_S + FINAL_TELEMETRY_TIMEOUT_S + 5  # MQTT stop
                          + CameraSettings().stop_timeout_s)
    assert int(service["TimeoutStopSec"]) > slowest_clean_stop


def test_the_documentation_the_unit_names_is_installed():
    documentation = unit()["Unit"]["Documentation"]
    install = (ROBOT / "install.sh").read_text()
    assert documentation == "file:///opt/telepresence-robot/README.md"
    assert 'install -m 0644 "$REPO/docs/telepresence_robot_device.md" "$PREFIX/README.md"' in install
    assert (ROBOT.parents[1] / "docs" / "telepresence_robot_device.md").is_file()


def test_the_installer_pins_the_driver_libraries_the_requirements_name():
    install = (ROBOT / "install.sh").read_text()
    named = re.findall(r"^#\s+(\w+)\s+\(.*\):\s+(\S+==\S+)$", (ROBOT / "requirements.txt").read_text(), re.M)
    assert {driver for driver, _ in named} == {"explorerhat", "motorkit"}  # every hardware driver
    for driver, package in named:
        assert f'{driver}) DRIVER_PACKAGE="{package}" ;;' in install
