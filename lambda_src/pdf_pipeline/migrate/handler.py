"""Custom resource provider (the service token is this function, in the VPC): applies the audit
database's migrations and grants the functions' user, as the master user straight to the
cluster's writer endpoint (the proxy admits IAM-authenticated users only).

It answers CloudFormation in every case, SUCCESS or FAILED with a reason, before its deadline:
the database work is bounded (connect and socket timeouts, the session's statement and lock
timeouts, no migration started without time left) to end ANSWER_RESERVE_S before the
function's timeout, and any exception becomes a FAILED answer. Only when the answer itself
cannot be delivered does the invocation fail, so that Lambda retries it (every request type
is idempotent).
"""
from __future__ import annotations

import contextlib
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from ..db.connection import bound_socket, connect, timeout_for
from ..db.migrate import apply_migrations, schema_version
from ..settings import DB_NAME, DB_USER, MASTER_SECRET_ARN, Settings
from . import cloudformation, logic

logger = Logger()
ANSWER_RESERVE_S = cloudformation.ANSWER_BUDGET_S + 5.0
MAX_STATEMENT_S = 120.0
_secrets = None


def _secrets_client():
    global _secrets
    if _secrets is None:
        _secrets = boto3.client("secretsmanager", config=Config(
            connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}))
    return _secrets


def _migrate(settings: Settings, time_left) -> tuple[list[str], int]:
    secret = _secrets_client().get_secret_value(SecretId=settings.text(MASTER_SECRET_ARN))
    username, password = logic.master_credentials(secret["SecretString"])
    master = Settings.from_environ({**settings.environ, DB_USER: username})
    conn = connect(master, password=password, timeout_s=timeout_for(time_left(), reserve_s=0, ceiling_s=30.0))
    with contextlib.closing(conn):
        # Direct to the cluster, no proxy to pin: the session's own bounds, below what is left.
        statement_s = max(1.0, min(MAX_STATEMENT_S, time_left() - 5.0))
        bound_socket(conn, statement_s + 5.0)  # the socket outlasts a statement the server cancels
        conn.run(f"SET statement_timeout = '{int(statement_s * 1000)}ms'")
        conn.run("SET lock_timeout = '30s'")
        applied = apply_migrations(conn, app_user=settings.text(DB_USER), time_left=time_left)
        return applied, schema_version(conn)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> None:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_RESERVE_S

    def time_left() -> float:
        return deadline - time.monotonic()

    settings = Settings.from_environ()
    physical_id = (event.get("PhysicalResourceId") if isinstance(event, dict) else None) \
        or f"{logic.PHYSICAL_ID_PREFIX}/invalid-request"
    data: dict[str, str] = {}
    try:
        request = logic.parse_request(event)
        physical_id = logic.physical_resource_id(request, settings.text(DB_NAME))
        if request.request_type == "Delete":
            success, reason = True, "Delete: nothing to do (the audit schema goes with the cluster)"
        else:
            applied, version = _migrate(settings, time_left)
            success, reason = True, logic.summary(request.request_type, applied, version)
            data = {"SchemaVersion": str(version)}
    except Exception as error:  # CloudFormation must get an answer whatever went wrong
        logger.exception("custom resource request failed")
        success, reason = False, f"{type(error).__name__}: {error}"
    logger.info("answering", extra={"success": success, "reason": reason})
    body = cloudformation.response_body(event if isinstance(event, dict) else {}, success=success,
                                        reason=reason, physical_id=physical_id, data=data)
    cloudformation.put_response(event if isinstance(event, dict) else {}, body,
                                log=lambda message, **extra: logger.info(message, extra=extra))
