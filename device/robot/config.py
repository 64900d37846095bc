"""config.json: read, check everything at start, and say exactly what is wrong.

Relative paths in the file are relative to the file's own directory, so the certificate
files can sit next to it. See ``config.example.json`` and docs/telepresence_robot_device.md for every key.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .commands import DURATION_MS_RANGE, SPEED_RANGE

DRIVERS = ("explorerhat", "motorkit", "simulated")
ROOT_CA_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
DEFAULT_CAMERA_BINARY = "/opt/telepresence-robot/kvs/kvsWebrtcClientMasterGstSample"
# The CA bundle the sample trusts for the IoT credentials provider and Kinesis Video (Debian's
# ca-certificates, which install.sh installs); the sample's compiled-in default points into its
# build tree, which is easy to move or delete.
DEFAULT_CAMERA_CA_CERT = "/etc/ssl/certs/ca-certificates.crt"
# What AWS IoT accepts as a thing name (and so as the MQTT client id and topic prefix).
_THING_NAME = re.compile(r"^[a-zA-Z0-9:_-]{1,128}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class ConfigError(ValueError):
    """config.json is unusable; the message lists every problem, one per line."""


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    private_key: Path
    root_ca: Path | None  # None: the system trust store (Debian's ca-certificates has Amazon Root CA 1)


@dataclass(frozen=True)
class BrokerSettings:
    """Where the MQTT client connects. Production: the IoT data endpoint with mutual TLS."""
    host: str
    port: int
    tls: TlsFiles | None  # None only for a local development/test broker


@dataclass(frozen=True)
class MotorSettings:
    driver: str = "simulated"
    default_speed: int = 50
    default_duration_ms: int = 500
    dead_man_ms: int = 1500
    invert_left: bool = False
    invert_right: bool = False
    journal: Path | None = None  # simulated driver: append every call as a JSON line


@dataclass(frozen=True)
class CameraSettings:
    enabled: bool = False
    binary: Path = Path(DEFAULT_CAMERA_BINARY)
    channel_name: str = ""
    args: tuple[str, ...] = ()
    credentials_endpoint: str = ""
    role_alias: str = ""
    certificate: Path | None = None  # the thing's certificate and key, for the IoT credentials provider
    private_key: Path | None = None
    ca_cert: Path = Path(DEFAULT_CAMERA_CA_CERT)
    restart_delay_s: float = 1.0
    max_restart_delay_s: float = 60.0
    stable_after_s: float = 30.0
    stop_timeout_s: float = 5.0


@dataclass(frozen=True)
class RobotConfig:
    thing_name: str
    region: str
    broker: BrokerSettings
    motors: MotorSettings = field(default_factory=MotorSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    telemetry_interval_s: float = 30.0
    log_level: str = "INFO"

    @property
    def action_topic(self) -> str:
        return f"{self.thing_name}/action"

    @property
    def telemetry_topic(self) -> str:
        return f"{self.thing_name}/telemetry"


class _Reader:
    """Typed access to nested JSON that records every problem instead of stopping at the first."""

    def __init__(self, *, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.errors: list[str] = []
        self._broken: set[str] = set()  # sections already reported as missing or malformed

    def error(self, message: str) -> None:
        self.errors.append(message)

    def section(self, raw: dict[str, Any], key: str, *, required: bool) -> dict[str, Any]:
        """The section, or {} (reported when required or not an object)."""
        value = raw.get(key)
        if value is None:
            if required:
                self.error(f"{key}: section is required")
                self._broken.add(key)
            return {}
        if not isinstance(value, dict):
            self.error(f"{key}: must be an object, got {type(value).__name__}")
            self._broken.add(key)
            return {}
        return value

    @contextmanager
    def keys_of(self, section: str) -> Iterator[None]:
        """Read a section's keys; if the section itself was reported, its keys' errors would be noise."""
        before = len(self.errors)
        yield
        if section in self._broken:
            del self.errors[before:]

    def unknown_keys(self, raw: dict[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in sorted(set(raw) - set(known)):
            self.error(f"{where}{key}: unknown key (expected one of {', '.join(known)})")

    def string(self, raw: dict[str, Any], key: str, where: str, *, default: str | None = None,
               check: Callable[[str], str | None] | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.error(f"{where}{key}: must be a non-empty string, got {value!r}")
            return default or ""
        if check is not None and (problem := check(value)):
            self.error(f"{where}{key}: {problem}")
        return value

    def number(self, raw: dict[str, Any], key: str, where: str, default: float, *, low: float, high: float,
               integer: bool = False) -> Any:
        value = raw.get(key, default)
        kind = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            self.error(f"{where}{key}: must be {kind} between {low:g} and {high:g}, got {value!r}")
            return default
        if not low <= value <= high:
            self.error(f"{where}{key}: must be between {low:g} and {high:g}, got {value!r}")
            return default
        return value

    def boolean(self, raw: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.error(f"{where}{key}: must be true or false, got {value!r}")
            return default
        return value

    def path(self, raw: dict[str, Any], key: str, where: str, *, required: bool, default: str | None = None,
             must_exist: bool = True, hint: str = "") -> Path | None:
        value = raw.get(key, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"{where}{key}: must be a file path, got {value!r}")
            return None
        resolved = (self.base_dir / os.path.expanduser(value)).resolve()
        if must_exist and not resolved.is_file():
            self.error(f"{where}{key}: file {resolved} does not exist{hint}")
        return resolved


def _thing_name_problem(value: str) -> str | None:
    if not _THING_NAME.match(value):
        return "must be 1-128 characters of letters, digits, ':', '_' or '-'"
    return None


def _region_problem(value: str) -> str | None:
    if not _REGION.match(value):
        return f"must be an AWS region such as us-east-1, got {value!r}"
    return None


def _host_problem(value: str) -> str | None:
    if "://" in value or "/" in value:
        return f"must be a host name without scheme or path, got {value!r}"
    return None


def _tls_files(reader: _Reader, iot: dict[str, Any]) -> TlsFiles:
    root_ca_hint = (f" (download it: curl -o <that path> {ROOT_CA_URL}, or set root_ca to null to use the "
                    "system trust store)")
    certificate = reader.path(iot, "certificate", "iot.", required=True,
                              hint=" (written by `python -m device.robot provision`)")
    private_key = reader.path(iot, "private_key", "iot.", required=True,
                              hint=" (written by `python -m device.robot provision`)")
    root_ca = reader.path(iot, "root_ca", "iot.", required=False, hint=root_ca_hint)
    return TlsFiles(certificate=certificate or Path(), private_key=private_key or Path(), root_ca=root_ca)


def parse_config(raw: Any, *, source: str = "config.json", base_dir: Path | None = None) -> RobotConfig:
    """Check a decoded config; raise :class:`ConfigError` listing every problem."""
    reader = _Reader(base_dir=base_dir or Path.cwd())
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: must be a JSON object")
    reader.unknown_keys(raw, ("thing_name", "region", "iot", "broker", "motors", "camera", "telemetry",
                              "log_level"), "")
    thing_name = reader.string(raw, "thing_name", "", check=_thing_name_problem)
    region = reader.string(raw, "region", "", check=_region_problem)
    log_level = reader.string(raw, "log_level", "", default="INFO",
                              check=lambda v: None if v.upper() in ("DEBUG", "INFO", "WARNING", "ERROR")
                              else "must be DEBUG, INFO, WARNING or ERROR")

    iot = reader.section(raw, "iot", required="broker" not in raw)
    broker = _broker(reader, reader.section(raw, "broker", required=False) if "broker" in raw else None, iot)
    motors_raw = reader.section(raw, "motors", required=True)
    with reader.keys_of("motors"):
        motors = _motors(reader, motors_raw)

    telemetry_raw = reader.section(raw, "telemetry", required=False)
    reader.unknown_keys(telemetry_raw, ("interval_s",), "telemetry.")
    interval = reader.number(telemetry_raw, "interval_s", "telemetry.", 30.0, low=0.05, high=3600)

    camera = _camera(reader, reader.section(raw, "camera", required=False), thing_name, broker, iot)

    if reader.errors:
        raise ConfigError("\n".join(f"{source}: {message}" for message in reader.errors))
    return RobotConfig(thing_name=thing_name, region=region, broker=broker, motors=motors, camera=camera,
                       telemetry_interval_s=float(interval), log_level=log_level.upper())


def _broker(reader: _Reader, broker_raw: dict[str, Any] | None, iot: dict[str, Any]) -> BrokerSettings:
    """Production: AWS IoT from ``iot``. ``broker`` (development and tests only): a local broker,
    optionally without TLS; with TLS it presents the certificate from ``iot``."""
    with reader.keys_of("iot"):
        reader.unknown_keys(iot, ("endpoint", "port", "certificate", "private_key", "root_ca"), "iot.")
        if broker_raw is None:
            return BrokerSettings(
                host=reader.string(iot, "endpoint", "iot.", check=_host_problem),
                port=reader.number(iot, "port", "iot.", 8883, low=1, high=65535, integer=True),
                tls=_tls_files(reader, iot))
    with reader.keys_of("broker"):
        reader.unknown_keys(broker_raw, ("host", "port", "tls"), "broker.")
        use_tls = reader.boolean(broker_raw, "tls", "broker.", True)
        host = reader.string(broker_raw, "host", "broker.", check=_host_problem)
        port = reader.number(broker_raw, "port", "broker.", 8883, low=1, high=65535, integer=True)
    with reader.keys_of("iot"):
        return BrokerSettings(host=host, port=port, tls=_tls_files(reader, iot) if use_tls else None)


def _motors(reader: _Reader, raw: dict[str, Any]) -> MotorSettings:
    reader.unknown_keys(raw, ("driver", "default_speed", "default_duration_ms", "dead_man_ms",
                              "invert_left", "invert_right", "journal"), "motors.")
    driver = reader.string(raw, "driver", "motors.", default="",
                           check=lambda v: None if v in DRIVERS else f"must be one of {', '.join(DRIVERS)}, got {v!r}")
    journal = reader.path(raw, "journal", "motors.", required=False, must_exist=False)
    if journal is not None and driver in DRIVERS and driver != "simulated":
        reader.error("motors.journal: only the simulated driver writes a journal")
    return MotorSettings(
        driver=driver,
        default_speed=reader.number(raw, "default_speed", "motors.", 50, low=SPEED_RANGE[0],
                                    high=SPEED_RANGE[1], integer=True),
        default_duration_ms=reader.number(raw, "default_duration_ms", "motors.", 500,
                                          low=DURATION_MS_RANGE[0], high=DURATION_MS_RANGE[1], integer=True),
        dead_man_ms=reader.number(raw, "dead_man_ms", "motors.", 1500, low=50, high=60_000, integer=True),
        invert_left=reader.boolean(raw, "invert_left", "motors.", False),
        invert_right=reader.boolean(raw, "invert_right", "motors.", False),
        journal=journal,
    )


def _camera(reader: _Reader, raw: dict[str, Any], thing_name: str, broker: BrokerSettings,
            iot: dict[str, Any]) -> CameraSettings:
    reader.unknown_keys(raw, ("enabled", "binary", "channel_name", "args", "credentials_endpoint", "role_alias",
                              "ca_cert", "restart_delay_s", "max_restart_delay_s", "stable_after_s",
                              "stop_timeout_s"), "camera.")
    enabled = reader.boolean(raw, "enabled", "camera.", False)
    if not enabled:
        return CameraSettings(enabled=False)
    binary = reader.path(raw, "binary", "camera.", required=True, default=DEFAULT_CAMERA_BINARY,
                         hint=" (build it with install.sh, or set camera.enabled to false)")
    if binary is not None and binary.is_file() and not os.access(binary, os.X_OK):
        reader.error(f"camera.binary: {binary} is not executable")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        reader.error(f"camera.args: must be a list of strings, got {args!r}")
        args = []
    # The camera authenticates with the thing's certificate even when MQTT goes to a local broker.
    with reader.keys_of("iot"):
        tls = broker.tls or _tls_files(reader, iot)
    restart = reader.number(raw, "restart_delay_s", "camera.", 1.0, low=0.01, high=600)
    return CameraSettings(
        enabled=True,
        binary=binary or Path(DEFAULT_CAMERA_BINARY),
        channel_name=reader.string(raw, "channel_name", "camera.", default=thing_name or None),
        args=tuple(args),
        credentials_endpoint=reader.string(raw, "credentials_endpoint", "camera.", check=_host_problem),
        role_alias=reader.string(raw, "role_alias", "camera."),
        certificate=tls.certificate,
        private_key=tls.private_key,
        ca_cert=reader.path(raw, "ca_cert", "camera.", required=True, default=DEFAULT_CAMERA_CA_CERT,
                            hint=" (install the ca-certificates package)") or Path(DEFAULT_CAMERA_CA_CERT),
        restart_delay_s=float(restart),
        max_restart_delay_s=float(reader.number(raw, "max_restart_delay_s", "camera.", 60.0, low=restart, high=3600)),
        stable_after_s=float(reader.number(raw, "stable_after_s", "camera.", 30.0, low=0, high=3600)),
        stop_timeout_s=float(reader.number(raw, "stop_timeout_s", "camera.", 5.0, low=0.1, high=120)),
    )


def load_config(path: str | os.PathLike[str]) -> RobotConfig:
    config_path = Path(path).expanduser()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: file not found (create it with `python -m device.robot provision`, "
                          "or copy config.example.json)") from None
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot be read: {error.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{config_path}: not valid JSON: {error.msg} at line {error.lineno} "
                          f"column {error.colno}") from None
    return parse_config(raw, source=str(config_path), base_dir=config_path.resolve().parent)
