"""Install the Mars weather display on a PyPortal from your computer.

    python -m device.pyportal install --volume /Volumes/CIRCUITPY --stack MarsWeather [--region eu-west-1]

Copies ``code.py`` to the CIRCUITPY drive and writes ``settings.toml`` from the deployed
stack: ``MARS_API_URL`` from the ``ApiUrl`` output and ``MARS_API_KEY`` from the API key
whose id is the ``ApiKeyId`` output (its value is read with API Gateway's GetApiKey at
install time; it is never in the template or the outputs). Everything else already in
``settings.toml`` stays, Wi-Fi settings included, unless ``--overwrite-wifi`` is given.
The CircuitPython libraries are installed separately with circup (the command is printed).

Refuses (exit status 2) when the folder does not look like a CIRCUITPY drive: no
``boot_out.txt``, or one from a CircuitPython older than 9. AWS problems exit with 1.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

HERE = Path(__file__).resolve().parent
CODE_FILE = HERE / "code.py"
REQUIREMENTS_FILE = HERE / "requirements.txt"

API_URL_OUTPUT = "ApiUrl"
API_KEY_ID_OUTPUT = "ApiKeyId"
WIFI_SSID = "CIRCUITPY_WIFI_SSID"
WIFI_PASSWORD = "CIRCUITPY_WIFI_PASSWORD"
API_URL = "MARS_API_URL"
API_KEY = "MARS_API_KEY"
REFRESH_MINUTES = "REFRESH_MINUTES"
DEFAULT_REFRESH_MINUTES = 30
MIN_CIRCUITPYTHON_MAJOR = 9
# Values PortalBase treats as "not configured yet".
PLACEHOLDER = "CHANGE ME"

_KEY_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=")
_VERSION = re.compile(r"CircuitPython\s+(\d+)\.(\d+)(?:\.(\d+))?")
_BASIC_STRING = re.compile(r'^\s*[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*"((?:[^"\\]|\\.)*)"')


class InstallError(Exception):
    """A reason to stop; ``exit_code`` 2 for the drive, 1 for AWS and the stack."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- the drive ------------------------------------------------------------------------

def check_volume(volume: Path) -> str:
    """The CircuitPython version on ``volume``, or :class:`InstallError` if it is not a CIRCUITPY drive."""
    if not volume.is_dir():
        raise InstallError(f"{volume} is not a folder. Plug the PyPortal in and pass its CIRCUITPY drive, "
                           "for example /Volumes/CIRCUITPY, /media/$USER/CIRCUITPY or E:\\", exit_code=2)
    boot_out = volume / "boot_out.txt"
    if not boot_out.is_file():
        raise InstallError(f"{volume} does not look like a CIRCUITPY drive: it has no boot_out.txt. "
                           "Pass the drive the PyPortal mounts (named CIRCUITPY), after CircuitPython "
                           "has started on it at least once.", exit_code=2)
    first_line = boot_out.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    match = _VERSION.search(first_line[0]) if first_line else None
    if match is None:
        raise InstallError(f"{volume} does not look like a CIRCUITPY drive: its boot_out.txt does not "
                           "name a CircuitPython version.", exit_code=2)
    version = ".".join(part for part in match.groups() if part is not None)
    if int(match.group(1)) < MIN_CIRCUITPYTHON_MAJOR:
        raise InstallError(f"{volume} runs CircuitPython {version}; the display needs CircuitPython "
                           f"{MIN_CIRCUITPYTHON_MAJOR} or newer (settings.toml, root_group). Update it first: "
                           "https://circuitpython.org/board/pyportal/", exit_code=2)
    return version


# --- the stack ------------------------------------------------------------------------

def stack_settings(session: Any, stack: str) -> dict[str, str]:
    """``MARS_API_URL`` and ``MARS_API_KEY`` from the deployed stack."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        cloudformation = session.client("cloudformation")
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except NoRegionError:
        raise InstallError("No AWS region configured: pass --region (the stack's region).") from None
    except NoCredentialsError:
        raise InstallError("No AWS credentials found: configure them or pass --profile.") from None
    except ClientError as error:
        raise InstallError(f"Could not read stack {stack!r} in {session.region_name}: "
                           f"{error.response['Error'].get('Message', error)}") from None
    except BotoCoreError as error:
        raise InstallError(f"Could not read stack {stack!r}: {error}") from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    missing = [name for name in (API_URL_OUTPUT, API_KEY_ID_OUTPUT) if not outputs.get(name)]
    if missing:
        raise InstallError(f"Stack {stack!r} has no output {' or '.join(missing)} (it has: "
                           f"{', '.join(sorted(outputs)) or 'no outputs'}). Is it the Mars weather stack, "
                           "and finished deploying?")
    try:
        key = session.client("apigateway").get_api_key(apiKey=outputs[API_KEY_ID_OUTPUT], includeValue=True)
    except ClientError as error:
        raise InstallError(f"Could not read API key {outputs[API_KEY_ID_OUTPUT]!r}: "
                           f"{error.response['Error'].get('Message', error)}") from None
    if not key.get("value"):
        raise InstallError(f"API key {outputs[API_KEY_ID_OUTPUT]!r} has no value to read.")
    return {API_URL: outputs[API_URL_OUTPUT], API_KEY: key["value"]}


# --- settings.toml ----------------------------------------------------------------------

def toml_string(value: str) -> str:
    """A TOML basic string CircuitPython's settings.toml parser reads back as ``value``."""
    escaped = []
    for character in value:
        if character == "\\":
            escaped.append("\\\\")
        elif character == '"':
            escaped.append('\\"')
        elif character == "\n":
            escaped.append("\\n")
        elif character == "\t":
            escaped.append("\\t")
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append(f"\\u{ord(character):04x}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def _toml_value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else toml_string(value)


def _existing_values(lines: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        key = _KEY_LINE.match(line)
        if key and key.group(1) not in found:
            string = _BASIC_STRING.match(line)
            found[key.group(1)] = string.group(1) if string else line.split("=", 1)[1].strip()
    return found


def merge_settings(existing: str | None, values: Mapping[str, str | int], *, keep_if_set: Iterable[str] = ()) -> str:
    """``existing`` with ``values`` written in; keys in ``keep_if_set`` that already hold a
    real value stay as they are. Comments, order and every other key are kept."""
    lines = (existing or "").splitlines()
    current = _existing_values(lines)
    keep = {key for key in keep_if_set if current.get(key) not in (None, "", PLACEHOLDER)}
    pending = {key: value for key, value in values.items() if key not in keep}
    written: set[str] = set()
    out: list[str] = []
    for line in lines:
        match = _KEY_LINE.match(line)
        key = match.group(1) if match else None
        if key in pending:
            if key not in written:
                out.append(f"{key} = {_toml_value(pending[key])}")
                written.add(key)
            continue  # a duplicate of a key we write: drop it
        out.append(line)
    added = [key for key in pending if key not in written]
    if added:
        if out and out[-1].strip():
            out.append("")
        out.append("# Mars weather display (python -m device.pyportal install)")
        out.extend(f"{key} = {_toml_value(pending[key])}" for key in added)
    return "\n".join(out) + "\n"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# --- install ----------------------------------------------------------------------------

def install(volume: Path, stack: str, session: Any, *, overwrite_wifi: bool = False, wifi_ssid: str | None = None,
            wifi_password: str | None = None, refresh_minutes: int | None = None,
            out: Any = sys.stdout) -> None:
    version = check_volume(volume)
    if overwrite_wifi and not wifi_ssid:
        raise InstallError("--overwrite-wifi needs --wifi-ssid (and --wifi-password for a protected network).",
                           exit_code=2)
    settings = stack_settings(session, stack)

    settings_path = volume / "settings.toml"
    existing = settings_path.read_text(encoding="utf-8") if settings_path.is_file() else None
    current = _existing_values((existing or "").splitlines())

    values: dict[str, str | int] = dict(settings)
    keep: list[str] = []
    if wifi_ssid is not None:
        values[WIFI_SSID] = wifi_ssid
        values[WIFI_PASSWORD] = wifi_password or ""
    else:
        values[WIFI_SSID] = PLACEHOLDER
        values[WIFI_PASSWORD] = PLACEHOLDER
    if not overwrite_wifi:
        keep += [WIFI_SSID, WIFI_PASSWORD]
    if refresh_minutes is not None:
        values[REFRESH_MINUTES] = refresh_minutes
    else:
        values[REFRESH_MINUTES] = DEFAULT_REFRESH_MINUTES
        keep.append(REFRESH_MINUTES)

    text = merge_settings(existing, values, keep_if_set=keep)
    code_path = volume / "code.py"
    new_code = CODE_FILE.read_bytes()
    if code_path.is_file() and code_path.read_bytes() != new_code:
        shutil.copyfile(code_path, volume / "code.py.bak")
        print(f"Saved the previous code.py as {volume / 'code.py.bak'}", file=out)
    _write_atomically(settings_path, text.encode("utf-8"))
    _write_atomically(code_path, new_code)

    ssid = _existing_values(text.splitlines()).get(WIFI_SSID)
    if ssid in (None, "", PLACEHOLDER):
        wifi = (f"Wi-Fi is not set yet: edit {settings_path} ({WIFI_SSID}, {WIFI_PASSWORD}) "
                "or run again with --wifi-ssid and --wifi-password.")
    elif WIFI_SSID in keep and current.get(WIFI_SSID) == ssid:
        wifi = "kept the Wi-Fi settings already there."
    else:
        wifi = "wrote the Wi-Fi settings given."
    print(f"Installed the Mars weather display on {volume} (CircuitPython {version}).", file=out)
    print(f"settings.toml: {API_URL} and {API_KEY} from stack {stack!r}; {wifi}", file=out)
    print("Now install the CircuitPython libraries with circup:", file=out)
    print(f"  circup --path {volume} install -r {REQUIREMENTS_FILE}", file=out)


def _minutes(value: str) -> int:
    minutes = int(value)
    if not 5 <= minutes <= 1440:
        raise argparse.ArgumentTypeError("must be between 5 and 1440")
    return minutes


def main(argv: list[str] | None = None, *, out: Any = sys.stdout, err: Any = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m device.pyportal",
                                     description="Install the Mars weather display on a PyPortal.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("install", help="copy code.py and write settings.toml from a deployed stack")
    command.add_argument("--volume", required=True, type=Path, help="the CIRCUITPY drive, e.g. /Volumes/CIRCUITPY")
    command.add_argument("--stack", required=True, help="name of the deployed Mars weather stack")
    command.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    command.add_argument("--profile", help="AWS profile to use")
    command.add_argument("--wifi-ssid",
                         help="Wi-Fi network name, written when the drive has none (or with --overwrite-wifi)")
    command.add_argument("--wifi-password", help="Wi-Fi password, see --wifi-ssid")
    command.add_argument("--overwrite-wifi", action="store_true",
                         help="replace Wi-Fi settings already in settings.toml")
    command.add_argument("--refresh-minutes", type=_minutes,
                         help=f"minutes between refreshes (default: keep, or {DEFAULT_REFRESH_MINUTES})")
    args = parser.parse_args(argv)

    try:
        import boto3

        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        install(args.volume, args.stack, session, overwrite_wifi=args.overwrite_wifi, wifi_ssid=args.wifi_ssid,
                wifi_password=args.wifi_password, refresh_minutes=args.refresh_minutes, out=out)
    except InstallError as error:
        print(f"error: {error}", file=err)
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - e.g. an unknown --profile
        print(f"error: {error}", file=err)
        return 1
    return 0
