"""API Gateway Lambda TOKEN authorizer for JWT access tokens of a third-party identity provider.

Thin: read the settings once per execution environment, keep the provider's keys across
invocations (``jwks.py``), answer every event with the policy ``logic.decide`` makes. It never
raises: a refused token, a bad event, an unreadable configuration or a bug all answer an
explicit Deny (API Gateway's 403), never the 500 an exception would cause.

Environment:
    ISSUER                          the tokens' ``iss``, exactly
    AUDIENCE                        the API's audience (several: space-separated)
    AUDIENCE_CLAIM                  the claim holding it: ``aud`` (default); ``client_id`` for
                                    Cognito access tokens, which carry no ``aud``
    JWKS_URL                        the provider's key set (default ``<ISSUER>/.well-known/jwks.json``)
    PERMISSIONS                     JSON list of ``{"method", "resource", "scope"}``
    JWKS_REFETCH_COOLDOWN_SECONDS   at most one refetch per this for unknown ``kid`` s and after failures
    JWKS_TIMEOUT_SECONDS            a fetch of the key set takes at most this, in total
    JWKS_CACHE_SECONDS              the key set is refreshed after this (a withdrawn key's lifetime)
    LEEWAY_SECONDS                  clock skew allowed on ``exp``, ``nbf`` and ``iat``
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from .jwks import JwksKeys
from .logic import ConfigurationError, Decision, DenyReason, Settings, decide, deny_everything

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _fetch_failed(message: str, serving_stale_keys: bool) -> None:
    metrics.add_metric(name="JwksFetchFailures", unit=MetricUnit.Count, value=1)
    logger.warning("fetching the identity provider's keys failed",
                   extra={"error": message, "serving_cached_keys": serving_stale_keys})


@cache
def _configured() -> tuple[Settings, JwksKeys]:
    """Settings and key cache of this execution environment (an error is not cached: retried)."""
    settings = Settings.from_environment(os.environ)
    try:
        keys = JwksKeys(settings.jwks_url, lifespan=settings.jwks_cache_seconds,
                        cooldown=settings.jwks_refetch_cooldown_seconds,
                        timeout=settings.jwks_timeout_seconds, on_fetch_failure=_fetch_failed)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    return settings, keys


def _decision(event: Any) -> Decision:
    method_arn = event.get("methodArn") if isinstance(event, dict) else None
    try:
        settings, keys = _configured()
        return decide(event, keys=keys, settings=settings)
    except ConfigurationError as error:
        logger.error("the authorizer's configuration is invalid; every token is refused", extra={"error": str(error)})
        return Decision(deny_everything(method_arn), DenyReason.CONFIGURATION, str(error))
    except Exception:  # a bug must refuse the token (403), not fail the request (500)
        logger.exception("deciding on the token failed; it is refused")
        return Decision(deny_everything(method_arn), DenyReason.INTERNAL, "unexpected error")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: Any, context: Any) -> dict[str, Any]:
    decision = _decision(event)
    if decision.reason is None:
        metrics.add_metric(name="TokensAllowed", unit=MetricUnit.Count, value=1)
        logger.info("token allowed", extra={"sub": decision.response["principalId"],
                                            "scopes": decision.response["context"]["scopes"]})
    else:
        metrics.add_metric(name="TokensDenied", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"TokensDenied{decision.reason.value}", unit=MetricUnit.Count, value=1)
        logger.info("token refused", extra={"reason": decision.reason.value, "detail": decision.detail})
    return decision.response
