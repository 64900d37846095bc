"""``python -m device.pyportal install`` against a temporary CIRCUITPY folder and a stack in moto."""
from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from device.pyportal import CODE_FILE, main, merge_settings

REGION = "eu-west-1"
STACK = "MarsWeather"
API_URL = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/mars"
BOOT_OUT = ("Adafruit CircuitPython 9.2.1 on 2024-11-20; Adafruit PyPortal with samd51j20\n"
            "Board ID:pyportal\nUID:1234ABCD\n")


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def deploy(outputs: dict[str, str], name: str = STACK) -> None:
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def api_key(aws) -> dict[str, str]:
    created = boto3.client("apigateway", region_name=REGION).create_api_key(name="mars-display", enabled=True)
    return {"id": created["id"], "value": created["value"]}


@pytest.fixture
def stack(api_key) -> dict[str, str]:
    deploy({"ApiUrl": API_URL, "ApiKeyId": api_key["id"], "ImageBucketName": "mars-images"})
    return api_key


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    drive = tmp_path / "CIRCUITPY"
    drive.mkdir()
    (drive / "boot_out.txt").write_text(BOOT_OUT)
    (drive / "lib").mkdir()
    return drive


def install(volume: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["install", "--volume", str(volume), "--stack", STACK, "--region", REGION, *extra], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def settings_of(volume: Path) -> dict:
    return tomllib.loads((volume / "settings.toml").read_text(encoding="utf-8"))


# --- a good install ------------------------------------------------------------------------

def test_install_copies_code_py_and_writes_settings_from_the_stack(stack, volume):
    code, out, err = install(volume, "--wifi-ssid", "home", "--wifi-password", "pa55")

    assert (code, err) == (0, "")
    assert (volume / "code.py").read_bytes() == CODE_FILE.read_bytes()
    assert settings_of(volume) == {"MARS_API_URL": API_URL, "MARS_API_KEY": stack["value"],
                                   "CIRCUITPY_WIFI_SSID": "home", "CIRCUITPY_WIFI_PASSWORD": "pa55",
                                   "REFRESH_MINUTES": 30}


def test_the_api_key_value_is_read_at_install_time_and_never_printed(stack, volume):
    _, out, err = install(volume)

    assert settings_of(volume)["MARS_API_KEY"] == stack["value"]
    assert stack["value"] not in out + err


def test_the_libraries_to_install_with_circup_are_named(stack, volume):
    _, out, _ = install(volume)

    assert f"circup --path {volume} install -r" in out
    assert "requirements.txt" in out


def test_existing_wifi_and_other_settings_are_kept(stack, volume):
    (volume / "settings.toml").write_text(
        '# my board\nCIRCUITPY_WIFI_SSID = "home"\nCIRCUITPY_WIFI_PASSWORD = "pa55"\n'
        'CIRCUITPY_WEB_API_PASSWORD = "web"\nMARS_API_URL = "https://old.example/mars"\nREFRESH_MINUTES = 15\n')

    code, out, _ = install(volume, "--wifi-ssid", "guest", "--wifi-password", "other")

    assert code == 0
    settings = settings_of(volume)
    assert (settings["CIRCUITPY_WIFI_SSID"], settings["CIRCUITPY_WIFI_PASSWORD"]) == ("home", "pa55")
    assert settings["CIRCUITPY_WEB_API_PASSWORD"] == "web"
    assert settings["MARS_API_URL"] == API_URL
    assert settings["REFRESH_MINUTES"] == 15
    assert (volume / "settings.toml").read_text().startswith("# my board\n")
    assert "kept the Wi-Fi settings" in out


def test_overwrite_wifi_replaces_the_wifi_settings(stack, volume):
    (volume / "settings.toml").write_text('CIRCUITPY_WIFI_SSID = "home"\nCIRCUITPY_WIFI_PASSWORD = "pa55"\n')

    code, _, _ = install(volume, "--overwrite-wifi", "--wifi-ssid", "guest", "--wifi-password", "other")

    assert code == 0
    assert (settings_of(volume)["CIRCUITPY_WIFI_SSID"], settings_of(volume)["CIRCUITPY_WIFI_PASSWORD"]) == \
        ("guest", "other")


def test_overwrite_wifi_without_a_network_name_is_refused(stack, volume):
    (volume / "settings.toml").write_text('CIRCUITPY_WIFI_SSID = "home"\n')

    code, _, err = install(volume, "--overwrite-wifi")

    assert code == 2
    assert "--wifi-ssid" in err
    assert settings_of(volume) == {"CIRCUITPY_WIFI_SSID": "home"}


def test_without_wifi_settings_placeholders_are_written_and_the_user_is_told(stack, volume):
    code, out, _ = install(volume)

    assert code == 0
    assert settings_of(volume)["CIRCUITPY_WIFI_SSID"] == "CHANGE ME"
    assert "Wi-Fi is not set yet" in out


def test_installing_twice_leaves_one_line_per_setting(stack, volume):
    install(volume, "--wifi-ssid", "home")
    install(volume, "--refresh-minutes", "60")

    text = (volume / "settings.toml").read_text()
    assert text.count("MARS_API_KEY =") == 1 and text.count("CIRCUITPY_WIFI_SSID =") == 1
    assert settings_of(volume)["REFRESH_MINUTES"] == 60


def test_a_different_code_py_already_on_the_drive_is_backed_up(stack, volume):
    (volume / "code.py").write_text("print('hello world')\n")

    install(volume)

    assert (volume / "code.py.bak").read_text() == "print('hello world')\n"


# --- refusals ----------------------------------------------------------------------------------

def test_a_folder_without_boot_out_txt_is_refused(stack, tmp_path):
    folder = tmp_path / "Documents"
    folder.mkdir()

    code, _, err = install(folder)

    assert code == 2
    assert "does not look like a CIRCUITPY drive" in err and "boot_out.txt" in err
    assert list(folder.iterdir()) == []


def test_a_path_that_is_not_a_folder_is_refused(stack, tmp_path):
    code, _, err = install(tmp_path / "missing")

    assert code == 2
    assert "not a folder" in err


def test_a_drive_with_circuitpython_older_than_9_is_refused(stack, volume):
    (volume / "boot_out.txt").write_text("Adafruit CircuitPython 8.2.10 on 2024-02-14; Adafruit PyPortal\n")

    code, _, err = install(volume)

    assert code == 2
    assert "CircuitPython 8.2.10" in err
    assert not (volume / "code.py").exists()


def test_a_stack_without_the_expected_outputs_is_reported(api_key, volume):
    deploy({"ApiUrl": API_URL})

    code, _, err = install(volume)

    assert code == 1
    assert "no output ApiKeyId" in err and "ApiUrl" in err
    assert not (volume / "settings.toml").exists()


def test_a_stack_that_does_not_exist_is_reported(aws, volume):
    code, _, err = install(volume)

    assert code == 1
    assert STACK in err


def test_an_api_key_id_that_does_not_exist_is_reported(aws, volume):
    deploy({"ApiUrl": API_URL, "ApiKeyId": "nosuchkey"})

    code, _, err = install(volume)

    assert code == 1
    assert "nosuchkey" in err


# --- settings.toml text -----------------------------------------------------------------------

def test_values_with_quotes_backslashes_and_unicode_survive_the_round_trip():
    password = 'p"a\\ss wörd\t'

    text = merge_settings(None, {"CIRCUITPY_WIFI_PASSWORD": password, "REFRESH_MINUTES": 30})

    assert tomllib.loads(text) == {"CIRCUITPY_WIFI_PASSWORD": password, "REFRESH_MINUTES": 30}


def test_keys_kept_if_set_are_replaced_when_they_only_hold_the_placeholder():
    text = merge_settings('CIRCUITPY_WIFI_SSID = "CHANGE ME"\n', {"CIRCUITPY_WIFI_SSID": "home"},
                          keep_if_set=["CIRCUITPY_WIFI_SSID"])

    assert tomllib.loads(text) == {"CIRCUITPY_WIFI_SSID": "home"}
