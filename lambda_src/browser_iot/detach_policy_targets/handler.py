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
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError

from suite_lib import cloudformation

from .logic import (
    PolicyGone,
    detach_every_target,
    parse_request,
    physical_resource_id,
    policies_to_clear,
)

logger = Logger()

# Throttling is retried by the standard mode; every call is bounded so the deadline holds.
iot = boto3.client("iot", config=Config(connect_timeout=2, read_timeout=5,
                                        retries={"mode": "standard", "total_max_attempts": 5}))
PAGE_SIZE = 250  # the most ListTargetsForPolicy returns at once
DETACH_WORKERS = 8
ANSWER_RESERVE_S = cloudformation.ANSWER_BUDGET_S + 5.0  # kept for answering, attempts and backoff included


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


def _log(message: str, **fields: Any) -> None:
    logger.info(message, extra=fields)


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
    request_event = event if isinstance(event, dict) else {}
    cloudformation.put_response(request_event, cloudformation.response_body(
        request_event, success=success, reason=reason, physical_id=physical_id), log=_log)
