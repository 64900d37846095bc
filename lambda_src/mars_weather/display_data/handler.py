"""GET /mars (API Gateway REST API, proxy integration, API key required).

Thin: read settings, bound the upstream work by the time this invocation has left, let
:mod:`.logic` compose (or serve from cache), answer. Always 200 with a version 1 body:
parts that could not be had are ``null`` with a reason in ``missing``; an unexpected
error is logged, counted (``UnhandledErrors``) and answered the same way, never with a
5xx the device could only show as "API error".
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from . import logic
from .config import ENVIRONMENT_VARIABLES, ConfigError, Settings
from .storage import SecretApiKey, Store
from .upstream import Deadline, Upstream

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["handler", "ENVIRONMENT_VARIABLES"]

# Timeouts on AWS calls too: a slow S3 or Secrets Manager must not eat the Lambda timeout.
_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
# Presigned photo URLs: SigV4 (required by every region opened since 2014 and by SSE-KMS).
_S3_CONFIG = _AWS_CONFIG.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
_clients: dict[str, Any] = {}
_api_keys: dict[str | None, SecretApiKey] = {}


def _client(service: str) -> Any:
    if service not in _clients:
        if service == "s3":
            # The regional endpoint: presigned URLs on the global one can be redirected (307)
            # for a day after a bucket outside us-east-1 is created.
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            endpoint = f"https://s3.{region}.amazonaws.com" if region else None
            _clients[service] = boto3.client("s3", endpoint_url=endpoint, config=_S3_CONFIG)
        else:
            _clients[service] = boto3.client(service, config=_AWS_CONFIG)
    return _clients[service]


def clear_warm_state() -> None:
    """Forget what a warm container keeps: clients, the cached record, the cached API key."""
    _clients.clear()
    _api_keys.clear()
    logic.MEMORY_CACHE.clear()


def _api_key(secret_id: str | None) -> SecretApiKey:
    if secret_id not in _api_keys:
        _api_keys[secret_id] = SecretApiKey(lambda: _client("secretsmanager"), secret_id)
    return _api_keys[secret_id]


def _response(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {
            "Content-Type": "application/json",
            # The body carries a signed URL: no shared caches.
            "Cache-Control": "no-store",
            "X-Mars-Response-Version": str(body["version"]),
        },
        "body": json.dumps(body),
    }


def _remaining_seconds(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None


@tracer.capture_method
def _display_data(settings: Settings, context: Any, now: datetime) -> tuple[dict[str, Any], str, int]:
    deadline = Deadline.for_invocation(settings.upstream_budget_seconds, _remaining_seconds(context))
    upstream = Upstream(timeout=settings.upstream_timeout_seconds, retries=settings.upstream_retries,
                        backoff=settings.upstream_backoff_seconds, deadline=deadline)
    store = Store(_client("s3"), settings.bucket)
    body, served_from = logic.display_data(settings, store=store, upstream=upstream,
                                           api_key=_api_key(settings.nasa_api_key_secret_id), now=now)
    return body, served_from, upstream.calls


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    try:
        settings = Settings.from_env(os.environ)
        body, served_from, upstream_calls = _display_data(settings, context, now)
    except ConfigError as error:
        logger.error("function misconfigured", extra={"error": str(error)})
        metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        return _response(logic.unavailable_body(now, f"the function is misconfigured: {error}"))
    except Exception:
        logger.exception("composing the display data failed")
        metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        request_id = getattr(context, "aws_request_id", "unknown")
        return _response(logic.unavailable_body(now, f"internal error (request {request_id})"))

    metrics.add_metric(name="CacheHits" if served_from != "upstream" else "CacheMisses",
                       unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="UpstreamCalls", unit=MetricUnit.Count, value=upstream_calls)
    for part in body["missing"]:
        metrics.add_metric(name=f"{part.title()}Missing", unit=MetricUnit.Count, value=1)
    logger.info("answered", extra={"served_from": served_from, "status": body["status"],
                                   "missing": body["missing"], "upstream_calls": upstream_calls})
    return _response(body)
