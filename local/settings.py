"""Where every local service listens, and the names shared by the processes of ``python -m local``.

Each port has a default and an environment variable that overrides it (``LOCAL_<NAME>_PORT``).
Everything listens on loopback only; URLs use ``localhost`` (a secure context for the browser:
WebCrypto for PKCE, geolocation) and the processes connect to ``127.0.0.1``.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
BIND_HOST = "127.0.0.1"
URL_HOST = "localhost"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

# Stack names, as stacks/suite.py names them.
URL_SHORTENER = "UrlShortener"
ASK_AROUND_ME = "AskAroundMe"
MARS_WEATHER = "MarsWeather"


def project_context() -> dict:
    """The context of ``cdk.json`` (what ``cdk synth`` starts from)."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def _first_robot() -> str:
    robots = project_context().get("telepresenceRobot", {}).get("robots") or ["robot1"]
    return str(robots[0])


ROBOT_NAME = _first_robot()  # the robot local runs: the first of cdk.json's telepresenceRobot.robots
TELEPRESENCE_ROBOT = f"TelepresenceRobot-{ROBOT_NAME}"

# name -> (environment variable, default port)
PORTS: dict[str, tuple[str, int]] = {
    "oidc": ("LOCAL_OIDC_PORT", 8400),
    "shortener_api": ("LOCAL_SHORTENER_API_PORT", 8401),
    "askaroundme_api": ("LOCAL_ASKAROUNDME_API_PORT", 8402),
    "robot_api": ("LOCAL_ROBOT_API_PORT", 8403),
    "mars_api": ("LOCAL_MARS_API_PORT", 8404),
    "moto": ("LOCAL_MOTO_PORT", 8410),
    "mqtt_ws": ("LOCAL_MQTT_WS_PORT", 8420),
    "mqtt": ("LOCAL_MQTT_PORT", 8421),
    "shortener_web": ("LOCAL_SHORTENER_WEB_PORT", 8081),
    "askaroundme_web": ("LOCAL_ASKAROUNDME_WEB_PORT", 8082),
    "robot_web": ("LOCAL_ROBOT_WEB_PORT", 8083),
}

DEFAULT_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTRIBUTION = "&copy; OpenStreetMap contributors"
DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600  # Cognito's default
MAX_REFRESH_TOKEN_LIFETIME_SECONDS = 10 * 365 * 24 * 3600  # Cognito's maximum, ten years
MARS_API_KEY = "local-mars-api-key"  # the value of the Mars API's key (the deployed one is generated)


class SettingsError(ValueError):
    """An environment variable of ``python -m local`` has an invalid value; the message names it."""


def _seconds(environ: Mapping[str, str], variable: str, default: int, maximum: int) -> int:
    raw = environ.get(variable, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise SettingsError(f"{variable} must be 1 to {maximum}, got {raw!r}")
    return int(raw)


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{variable} must be a TCP port (1-65535), got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class WebClient:
    """One web client: ``web/<directory>`` served on its own port, signing in to its stack's pool."""

    name: str
    directory: str
    stack: str
    port_name: str


WEB_CLIENTS = (
    WebClient("shortener", "shortener", URL_SHORTENER, "shortener_web"),
    WebClient("askaroundme", "askaroundme", ASK_AROUND_ME, "askaroundme_web"),
    WebClient("robot", "robot", TELEPRESENCE_ROBOT, "robot_web"),
)


@dataclass(frozen=True)
class Settings:
    ports: dict[str, int]
    assembly: str
    token_lifetime_seconds: int = 3600
    refresh_token_lifetime_seconds: int = DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS
    tiles_url: str = DEFAULT_TILES_URL
    tiles_attribution: str = DEFAULT_TILES_ATTRIBUTION

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ, *, assembly: str | None = None) -> "Settings":
        ports = {name: _port(environ, variable, default) for name, (variable, default) in PORTS.items()}
        taken: dict[int, str] = {}
        for name, port in ports.items():
            if port in taken:
                raise SettingsError(f"{PORTS[name][0]} and {PORTS[taken[port]][0]} are both {port}: "
                                    "every service needs its own port")
            taken[port] = name
        # Cognito allows 300 s to a day for ID and access tokens, an hour to ten years for
        # refresh tokens; shorter ones let tests see tokens, then sessions, expire.
        return cls(ports=ports,
                   assembly=assembly or environ.get("LOCAL_ASSEMBLY") or str(ROOT / ".cache" / "local" / "cdk.out"),
                   token_lifetime_seconds=_seconds(environ, "LOCAL_TOKEN_LIFETIME_SECONDS", 3600, 86400),
                   refresh_token_lifetime_seconds=_seconds(environ, "LOCAL_REFRESH_TOKEN_LIFETIME_SECONDS",
                                                           DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
                                                           MAX_REFRESH_TOKEN_LIFETIME_SECONDS),
                   tiles_url=environ.get("LOCAL_TILES_URL") or DEFAULT_TILES_URL,
                   tiles_attribution=environ.get("LOCAL_TILES_ATTRIBUTION") or DEFAULT_TILES_ATTRIBUTION)

    # -- serialised for the service processes ---------------------------------------------

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        return cls(**json.loads(text))

    # -- URLs ------------------------------------------------------------------------------

    def url(self, port_name: str, path: str = "") -> str:
        return f"http://{URL_HOST}:{self.ports[port_name]}{path}"

    def internal_url(self, port_name: str, path: str = "") -> str:
        """The URL processes of ``python -m local`` use between themselves (no name resolution)."""
        return f"http://{BIND_HOST}:{self.ports[port_name]}{path}"

    @property
    def moto_url(self) -> str:
        return self.internal_url("moto")

    @property
    def issuer_base(self) -> str:
        return self.url("oidc")

    def web_origin(self, client: WebClient) -> str:
        return self.url(client.port_name)

    def web_origins(self, client: WebClient) -> list[str]:
        """The client's origin as the printed URL names it, then as typed with the loopback address."""
        return [self.web_origin(client), f"http://{BIND_HOST}:{self.ports[client.port_name]}"]

    def web_client(self, name: str) -> WebClient:
        return next(client for client in WEB_CLIENTS if client.name == name)
