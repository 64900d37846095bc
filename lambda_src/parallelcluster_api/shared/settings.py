"""The functions' settings, from their environment (set by the stack). Pure.

Read once per process (:func:`settings`); tests change the environment and call
``settings.cache_clear()``. A missing name is reported when a function needs it, so a function
that does not use a table need not be given its name.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Mapping

DEFAULT_ADMIN_SCOPE = "parallelcluster/admin"
DEFAULT_OWNER_TAG_KEY = "parallelcluster-api:owner"
DEFAULT_DRYRUN_WAIT_SECONDS = 20.0
# A request body: the cluster configuration is kept in the operation's DynamoDB item (400 KB at
# most, with its errors and results), so the body may not be much larger than this.
DEFAULT_MAX_BODY_BYTES = 128 * 1024
MAX_MAX_BODY_BYTES = 256 * 1024
# How long the workflow polls a cluster before it records the operation as FAILED (timed out).
DEFAULT_OPERATION_TIMEOUT_SECONDS = 3 * 3600
DEFAULT_OPERATION_TTL_DAYS = 90
# API Gateway's integration limit is 29 s: an API function answers before this, whatever
# ParallelCluster does.
API_DEADLINE_SECONDS = 27.0


class SettingsError(RuntimeError):
    """The function's environment is incomplete or wrong: a deployment error, never the caller's."""


@dataclass(frozen=True)
class Settings:
    region: str
    admin_scope: str
    owner_tag_key: str
    dryrun_wait_seconds: float
    max_body_bytes: int
    operation_timeout_seconds: int
    operation_ttl_days: int
    _environ: Mapping[str, str]

    def _required(self, name: str) -> str:
        value = self._environ.get(name, "")
        if not value:
            raise SettingsError(f"environment variable {name} is not set")
        return value

    @property
    def operations_table(self) -> str:
        return self._required("OPERATIONS_TABLE")

    @property
    def clusters_table(self) -> str:
        return self._required("CLUSTERS_TABLE")

    @property
    def state_machine_arn(self) -> str:
        return self._required("STATE_MACHINE_ARN")


def _number(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    region = environ.get("AWS_REGION", "")
    if not region:
        raise SettingsError("environment variable AWS_REGION is not set")
    return Settings(
        region=region,
        admin_scope=environ.get("ADMIN_SCOPE") or DEFAULT_ADMIN_SCOPE,
        owner_tag_key=environ.get("OWNER_TAG_KEY") or DEFAULT_OWNER_TAG_KEY,
        dryrun_wait_seconds=_number(environ, "DRYRUN_WAIT_SECONDS", DEFAULT_DRYRUN_WAIT_SECONDS, 0, 25),
        max_body_bytes=int(_number(environ, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024, MAX_MAX_BODY_BYTES)),
        operation_timeout_seconds=int(_number(environ, "OPERATION_TIMEOUT_SECONDS",
                                              DEFAULT_OPERATION_TIMEOUT_SECONDS, 60, 7 * 86400)),
        operation_ttl_days=int(_number(environ, "OPERATION_TTL_DAYS", DEFAULT_OPERATION_TTL_DAYS, 1, 3650)),
        _environ=dict(environ),
    )


@cache
def settings() -> Settings:
    return load_settings(os.environ)
