"""Typed, validated reading of ``cdk.json`` context.

Every system owns one frozen dataclass built from its context block through a
:class:`ContextBlock`. A bad value raises :class:`ConfigError` naming the full key,
which fails ``cdk synth`` before any resource is created.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Node

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HTTPS_URL = re.compile(r"^https://[^\s/?#]+(?:[/?#]\S*)?$")
_ORIGIN = re.compile(r"^https?://[^\s/?#]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d$")

# Retention values CloudWatch Logs accepts, by number of days.
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}
LOG_RETENTION_DAYS = tuple(_RETENTION)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK enum for a number of days; CloudWatch Logs accepts only the listed values."""
    if isinstance(days, bool) or days not in _RETENTION:
        raise ValueError(f"log_retention_days must be one of {LOG_RETENTION_DAYS}, got {days!r}")
    return _RETENTION[days]


class ConfigError(ValueError):
    """A context value is missing or invalid; the message names the key."""


PROJECT_CONTEXT_FILE = Path(__file__).resolve().parents[2] / "cdk.json"


def _json_object(text: str, key: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a JSON object (-c {key}='{{\"name\": value}}'), got {text!r}")
    return value


def _project_block(project_file: Path, key: str) -> dict[str, Any]:
    try:
        block = json.loads(project_file.read_text()).get("context", {}).get(key, {})
    except (OSError, ValueError, AttributeError):
        return {}
    return block if isinstance(block, dict) else {}


_MISSING = object()


class ContextBlock:
    """One object of ``cdk.json`` context, read key by key with validation."""

    def __init__(self, prefix: str, values: Mapping[str, Any]) -> None:
        if not isinstance(values, Mapping):
            raise ConfigError(f"{prefix} must be an object, got {values!r}")
        self.prefix = prefix
        self._values = dict(values)
        self._read: set[str] = set()

    @classmethod
    def from_node(cls, node: Node, key: str, *, project_file: Path = PROJECT_CONTEXT_FILE) -> "ContextBlock":
        """The block ``key`` of the app's context.

        ``cdk -c key='{"name": value}'`` hands the app a JSON string, which replaces the whole
        block: it is parsed and laid over the block in ``cdk.json``, so the command line changes
        just the keys it names, as a user expects."""
        raw = node.try_get_context(key)
        if isinstance(raw, str):
            raw = {**_project_block(project_file, key), **_json_object(raw, key)}
        return cls(key, {} if raw is None else raw)

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def _get(self, name: str, default: Any) -> Any:
        self._read.add(name)
        value = self._values.get(name, default)
        if value is _MISSING:
            raise ConfigError(f"{self.key(name)} is required")
        return value

    def fail(self, name: str, message: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.key(name)} {message}, got {value!r}")

    def string(self, name: str, default: Any = _MISSING, *, pattern: re.Pattern[str] | None = None,
               description: str = "a non-empty string", max_length: int = 2048) -> str:
        value = self._get(name, default)
        if not isinstance(value, str) or not value or len(value) > max_length:
            raise self.fail(name, f"must be {description}", value)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(name, f"must be {description}", value)
        return value

    def optional_string(self, name: str, *, pattern: re.Pattern[str] | None = None,
                        description: str = "a non-empty string") -> str | None:
        if self._values.get(name) is None:
            self._read.add(name)
            return None
        return self.string(name, pattern=pattern, description=description)

    def https_url(self, name: str, default: Any = _MISSING) -> str:
        return self.string(name, default, pattern=_HTTPS_URL, description="an absolute https:// URL")

    def origins(self, name: str, default: Any = _MISSING, *, allow_wildcard: bool = True) -> tuple[str, ...]:
        value = self._get(name, default)
        if not isinstance(value, list) or not value:
            raise self.fail(name, "must be a non-empty list of origins such as 'https://app.example.com'", value)
        for origin in value:
            if origin == "*" and allow_wildcard and len(value) == 1:
                continue
            if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
                raise self.fail(name, "must list origins as scheme://host[:port] without a path "
                                      "(or be exactly [\"*\"])", value)
        return tuple(value)

    def url_list(self, name: str, default: Any = _MISSING) -> tuple[str, ...]:
        value = self._get(name, default)
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and re.fullmatch(r"^https?://\S+$", v) for v in value)):
            raise self.fail(name, "must be a non-empty list of absolute URLs", value)
        return tuple(value)

    def string_list(self, name: str, default: Any = _MISSING, *, pattern: re.Pattern[str],
                    description: str) -> tuple[str, ...]:
        value = self._get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and pattern.fullmatch(v) for v in value):
            raise self.fail(name, f"must be a list of {description}", value)
        return tuple(value)

    def removal_policy(self, name: str = "dataRemovalPolicy", default: str = "retain") -> cdk.RemovalPolicy:
        """``retain`` (the safe default for user data) or ``destroy``."""
        value = self.choice(name, default, choices=("retain", "destroy"))
        return cdk.RemovalPolicy.RETAIN if value == "retain" else cdk.RemovalPolicy.DESTROY

    def integer(self, name: str, default: Any = _MISSING, *, minimum: int, maximum: int) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(name, f"must be an integer from {minimum} to {maximum}", value)
        return value

    def number(self, name: str, default: Any = _MISSING, *, minimum: float, maximum: float) -> float:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
            raise self.fail(name, f"must be a number from {minimum} to {maximum}", value)
        return float(value)

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false", value)
        return value

    def choice(self, name: str, default: Any = _MISSING, *, choices: Iterable[str]) -> str:
        options = tuple(choices)
        value = self._get(name, default)
        if value not in options:
            raise self.fail(name, f"must be one of {', '.join(options)}", value)
        return value

    def log_retention_days(self, name: str = "logRetentionDays", default: int = 90) -> int:
        value = self._get(name, default)
        if value not in LOG_RETENTION_DAYS or isinstance(value, bool):
            raise self.fail(name, f"must be one of {LOG_RETENTION_DAYS}", value)
        return value

    def email(self, name: str) -> str | None:
        return self.optional_string(name, pattern=_EMAIL, description="an email address")

    def nested(self, name: str) -> "ContextBlock":
        """The object under ``name`` as a block of its own, its keys named
        ``<prefix>.<name>.<key>``; absent, it is empty and each of its keys takes its default.
        Call its own :meth:`reject_unknown_keys` too."""
        return ContextBlock(self.key(name), self._get(name, {}))

    def reject_unknown_keys(self) -> None:
        """Typos in cdk.json must not be silently ignored."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])} is not a known setting "
                              f"(known: {', '.join(sorted(self._read))})")


@dataclass(frozen=True)
class ObservabilityConfig:
    """Settings every system shares: where alarms go and how long logs are kept."""

    alarm_email: str | None
    log_retention_days: int

    @classmethod
    def read(cls, block: ContextBlock) -> "ObservabilityConfig":
        return cls(alarm_email=block.email("alarmEmail"),
                   log_retention_days=block.log_retention_days())


def account_from(value: Any, source: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise ConfigError(f"{source} must be a 12-digit AWS account id, got {value!r}")
    return value


def region_from(value: Any, source: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise ConfigError(f"{source} must be an AWS region such as 'eu-west-1', got {value!r}")
    return value
