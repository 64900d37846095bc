"""The AWS SDK of the in-process handlers, pointed at the local moto server and broker.

Handlers are the deployed code, unchanged; what changes is their SDK's environment:

* ``AWS_ENDPOINT_URL`` (botocore's global endpoint variable; a service-specific one is
  ``AWS_ENDPOINT_URL_<SERVICE_ID>``, e.g. ``AWS_ENDPOINT_URL_DYNAMODB``) sends every client
  the handlers create without an ``endpoint_url`` to moto;
* a client created *with* an explicit AWS endpoint (the Mars function's regional S3 URL,
  the iot-data clients' ATS endpoint) ignores that variable, so a ``before-endpoint-resolution``
  hook replaces any ``*.amazonaws.com`` endpoint by moto's, presigned URLs included;
* iot-data ``Publish`` never leaves the process: a ``before-send`` hook answers it after
  publishing the message to the local MQTT broker (:mod:`local.iot`);
* credentials are dummies and the shared config and credentials files are ignored, so
  nothing can reach a real account.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import boto3

from local.settings import REGION

# Hosts that stand in for the account's IoT endpoints (never contacted: see local.iot).
IOT_DATA_ENDPOINT = f"local-ats.iot.{REGION}.amazonaws.com"
IOT_CREDENTIALS_ENDPOINT = f"local.credentials.iot.{REGION}.amazonaws.com"
IOT_DATA_SERVICE_ID = "iot-data-plane"  # botocore's hyphenized service id of the iot-data client


def sdk_environment(moto_url: str) -> dict[str, str]:
    """Environment variables for a process whose AWS SDK calls go to moto."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # moto serves DynamoDB Streams only without account-id based endpoints.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


SDK_VARIABLES_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                         "AWS_CA_BUNDLE", "AWS_SECURITY_TOKEN", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                         "http_proxy")


def apply_sdk_environment(moto_url: str, environ: Any = os.environ) -> None:
    for name in SDK_VARIABLES_REMOVED:
        environ.pop(name, None)
    environ.update(sdk_environment(moto_url))


def redirect_aws_endpoints(moto_url: str) -> Callable[..., None]:
    """A ``before-endpoint-resolution`` handler: AWS endpoints become moto's (not iot-data's,
    whose requests the MQTT adapter answers before they are sent)."""

    def redirect(builtins: dict[str, Any], model: Any = None, **_: Any) -> None:
        endpoint = builtins.get("SDK::Endpoint")
        service = model.service_model.service_id.hyphenize() if model is not None else ""
        if endpoint and service != IOT_DATA_SERVICE_ID and _is_aws_host(endpoint):
            builtins["SDK::Endpoint"] = moto_url

    return redirect


def _is_aws_host(url: str) -> bool:
    host = urlsplit(url if "//" in url else f"https://{url}").hostname or ""
    return host == "amazonaws.com" or host.endswith(".amazonaws.com")


def install_sdk_hooks(moto_url: str, handlers: Mapping[str, Callable[..., Any]]) -> boto3.session.Session:
    """Set up boto3's default session (the one ``boto3.client()`` uses) with the endpoint
    redirect and the given event handlers, before any handler module creates its clients."""
    boto3.setup_default_session(region_name=REGION)
    session = boto3.DEFAULT_SESSION
    session.events.register("before-endpoint-resolution", redirect_aws_endpoints(moto_url))
    for event, handler in handlers.items():
        session.events.register(event, handler)
    return session
