"""Deploy-time custom resource: the audit database's schema and its app user. Pure: no boto3.

Create and Update apply the pending migrations (db/migrate.py) and grant the app user; both
are idempotent, so a retried or repeated request is harmless. Delete does nothing: the schema
lives and dies with the cluster (deleted, or kept by its removal policy and deletion
protection), and deleting tables on a stack update that replaces the resource would lose the
audit trail.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from suite_lib import cloudformation

PHYSICAL_ID_PREFIX = "pdf-pipeline-audit-schema"


class InvalidSecret(ValueError):
    """The master secret is not the RDS-managed JSON with a username and a password."""


@dataclass(frozen=True)
class Request:
    request_type: str
    physical_resource_id: str | None


def parse_request(event: Any) -> Request:
    request_type = cloudformation.request_type(event)
    physical = event.get("PhysicalResourceId")
    return Request(request_type, physical if isinstance(physical, str) and physical else None)


def physical_resource_id(request: Request, database: str) -> str:
    """One id per database, kept across updates (a changed id would make CloudFormation delete
    the old resource); a Delete answers the id it was given."""
    if request.physical_resource_id and request.request_type != "Create":
        return request.physical_resource_id
    return f"{PHYSICAL_ID_PREFIX}/{database}"


def master_credentials(secret_string: str) -> tuple[str, str]:
    """(username, password) of the RDS-managed master secret; never echoes the secret."""
    try:
        secret = json.loads(secret_string)
    except ValueError:
        raise InvalidSecret("the master secret is not JSON") from None
    username = secret.get("username") if isinstance(secret, dict) else None
    password = secret.get("password") if isinstance(secret, dict) else None
    if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
        raise InvalidSecret("the master secret has no username and password")
    return username, password


def summary(request_type: str, applied: list[str], version: int) -> str:
    done = ", ".join(applied) if applied else "nothing (the schema was current)"
    return f"{request_type}: applied {done}; schema version {version}"
