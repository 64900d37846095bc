"""Custom resource provider (the service token is this function): detaches the browser IoT
policy from every target before CloudFormation deletes the policy (see logic.py).

It answers CloudFormation in every case, success or failure with a reason, before its
deadline: the work stops ANSWER_RESERVE_S before the function's timeout, and an exception
becomes a FAILED answer. Only when the answer itself cannot be delivered does the invocation
fail, so that Lambda retries it (every request type is idempotent).

It logs through Powertools (from the function's layer, like every function of the suite) and
is traced by the function's active tracing.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError

from .logic import (
    PolicyGone,
    detach_every_target,
    parse_request,
    physical_resource_id,
    policies_to_clear,
    response_body,
)

logger = Logger()

# Throttling is retried by the standard mode; every call is bounded so the deadline holds.
iot = boto3.client("iot", config=Config(connect_timeout=2, read_timeout=5,
                                        retries={"mode": "standard", "total_max_attempts": 5}))
PAGE_SIZE = 250  # the most ListTargetsForPolicy returns at once
DETACH_WORKERS = 8
ANSWER_RESERVE_S = 30.0  # kept for answering: RESPONSE_ATTEMPTS x RESPONSE_TIMEOUT_S and backoff
RESPONSE_ATTEMPTS = 3
RESPONSE_TIMEOUT_S = 5.0


def _list_page(policy_name: str, marker: str | None) -> tuple[list[str], str | None]:
    request: dict[str, Any] = {"policyName": policy_name, "pageSize": PAGE_SIZE}
    if marker:
        request["marker"] = marker
    try:
        page = iot.list_targets_for_policy(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise PolicyGone(policy_name) from error
        raise
    return page.get("targets", []), page.get("nextMarker")


def _detach(policy_name: str, target: str) -> bool:
    """Detach one target; False when the target (or the attachment, or the policy) is already gone."""
    try:
        iot.detach_policy(policyName=policy_name, target=target)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def _detach_all(policy_name: str, targets: Iterable[str]) -> int:
    with ThreadPoolExecutor(max_workers=DETACH_WORKERS) as pool:
        return sum(pool.map(lambda target: _detach(policy_name, target), targets))


def _answer(event: dict[str, Any], body: bytes) -> None:
    """PUT the answer to the presigned ResponseURL (never logged: it is a credential)."""
    url = event.get("ResponseURL") if isinstance(event, dict) else None
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        logger.error("no ResponseURL to answer CloudFormation at")
        return
    # The URL is presigned without a content type: send an empty one, as cfn-response does.
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S) as response:
                logger.info("answered CloudFormation", extra={"status": response.status})
                return
        except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
            logger.warning("answering CloudFormation failed", extra={"attempt": attempt, "error": str(error)})
            if attempt == RESPONSE_ATTEMPTS:
                raise
            time.sleep(attempt)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> None:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_RESERVE_S

    def time_left() -> float:
        return deadline - time.monotonic()

    physical_id = (event.get("PhysicalResourceId") if isinstance(event, dict) else None) \
        or getattr(context, "log_stream_name", None) or "iot-policy-targets/invalid-request"
    try:
        request = parse_request(event)
        physical_id = physical_resource_id(request)
        detached = {policy: detach_every_target(policy, list_page=_list_page, detach_all=_detach_all,
                                                time_left=time_left)
                    for policy in policies_to_clear(request)}
        success, reason = True, f"{request.request_type}: detached {detached or 'nothing'}"
    except Exception as error:  # CloudFormation must get an answer whatever went wrong
        logger.exception("custom resource request failed")
        success, reason = False, f"{type(error).__name__}: {error}"
    logger.info("answering", extra={"success": success, "reason": reason})
    _answer(event, response_body(event if isinstance(event, dict) else {}, success=success, reason=reason,
                                 physical_id=physical_id))
