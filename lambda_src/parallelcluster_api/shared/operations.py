"""Operations: the Operations table (key ``operationId``) and the workflow that runs each one.

An item is what ``GET /v3/operations/{operationId}`` shows (``OperationResponseContent``), plus
``configuration`` (the YAML text as sent, for submit_operation; never shown), ``tagOwner`` (the
owner tag value the configuration gets) and ``expiresAt`` (epoch seconds, the table's TTL).
Status moves PENDING -> IN_PROGRESS -> SUCCEEDED | FAILED, or PENDING -> FAILED | DRYRUN_SUCCEEDED
| SUCCEEDED; every change is conditional on the status it moves from, so a late or repeated
writer never overwrites an ending.

The workflow is started with the operation id as the execution name: Step Functions starts one
execution per name, so a retried start is harmless.
"""
from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any, Iterable, Mapping

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from .. import models
from . import aws
from .deadlines import Deadline
from .settings import settings
from .timestamps import epoch_seconds, now_iso

# uuid5 namespace of operation ids derived from API Gateway request ids: a re-invoked request
# gets the id (and the item, and the execution) it had the first time.
_OPERATION_NAMESPACE = uuid.UUID("9b0e7c1e-4f43-5d5e-9a9e-5c1d1b3f6a10")
WAIT_POLL_SECONDS = 0.5
MAX_LISTED = 200  # entries kept per list of errors or messages: the item must stay under 400 KB
MAX_MESSAGE = 4000
HIDDEN = frozenset({"configuration", "tagOwner", "expiresAt"})
_SHOWN_FIELDS = frozenset(field for field in models.OperationResponseContent.__dataclass_fields__)
NON_TERMINAL = frozenset({models.OperationStatus.PENDING.value, models.OperationStatus.IN_PROGRESS.value})


def operation_id_for(request_id: str | None, operation: models.OperationKind, cluster_name: str) -> str:
    if not request_id:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_OPERATION_NAMESPACE, f"{operation.value}:{cluster_name}:{request_id}"))


def _table() -> Any:
    return aws.table(settings().operations_table)


def to_item_value(value: Any) -> Any:
    """JSON data as DynamoDB accepts it (floats as Decimal)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_item_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [from_item_value(item) for item in value]
    if isinstance(value, dict):
        return {key: from_item_value(item) for key, item in value.items()}
    return value


def bounded(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every list clipped to MAX_LISTED entries and messages to MAX_MESSAGE characters."""
    result = {}
    for key, value in fields.items():
        if isinstance(value, list):
            value = value[:MAX_LISTED]
        elif isinstance(value, str) and key == "message":
            value = value[:MAX_MESSAGE]
        result[key] = value
    return result


def new_item(*, operation_id: str, operation: models.OperationKind, cluster_name: str, owner: str, dryrun: bool,
             parameters: Mapping[str, Any], configuration: str | None, tag_owner: str | None) -> dict[str, Any]:
    now = now_iso()
    item: dict[str, Any] = {
        "operationId": operation_id, "operation": operation.value, "clusterName": cluster_name,
        "status": models.OperationStatus.PENDING.value, "dryrun": dryrun, "owner": owner,
        "createdAt": now, "updatedAt": now, "parameters": dict(parameters),
        "expiresAt": epoch_seconds() + settings().operation_ttl_days * 86400,
    }
    if configuration is not None:
        item["configuration"] = configuration
    if tag_owner is not None:
        item["tagOwner"] = tag_owner
    return item


def put_new(item: Mapping[str, Any]) -> dict[str, Any]:
    """Write a new operation; when its id exists already (a re-invoked request), the stored one."""
    written = aws.conditional(_table().put_item, Item=to_item_value(item),
                              ConditionExpression=Attr("operationId").not_exists())
    if written:
        return dict(item)
    existing = get(item["operationId"])
    if existing is None:  # pragma: no cover - a condition cannot fail on a missing item
        raise RuntimeError(f"operation {item['operationId']} vanished")
    return existing


def get(operation_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key={"operationId": operation_id}, ConsistentRead=True).get("Item")
    return from_item_value(item) if item else None


def update(operation_id: str, *, expected: Iterable[str], fields: Mapping[str, Any]) -> bool:
    """Set ``fields`` (and ``updatedAt``) while the status is one of ``expected``; False otherwise."""
    values = {**bounded(fields), "updatedAt": now_iso()}
    names = {f"#f{index}": name for index, name in enumerate(values)}
    expression_values = {f":v{index}": to_item_value(value) for index, value in enumerate(values.values())}
    expected = sorted(expected)
    expression_values.update({f":s{index}": status for index, status in enumerate(expected)})
    names["#status"] = "status"
    return aws.conditional(
        _table().update_item, Key={"operationId": operation_id},
        UpdateExpression="SET " + ", ".join(f"#f{index} = :v{index}" for index in range(len(values))),
        ConditionExpression=f"#status IN ({', '.join(f':s{index}' for index in range(len(expected)))})",
        ExpressionAttributeNames=names, ExpressionAttributeValues=expression_values)


def view(item: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows of an operation."""
    return {key: value for key, value in item.items() if key in _SHOWN_FIELDS and key not in HIDDEN}


def visible(operation_id: str, *, sub: str, admin: bool) -> dict[str, Any] | None:
    """What the API shows of the operation, if ``sub`` asked for it or ``admin``; else None."""
    item = get(operation_id)
    if item is None or not (admin or item.get("owner") == sub):
        return None
    return view(item)


def execution_input(item: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow's input: names only (the configuration stays in the table, out of the
    execution history)."""
    return {"operationId": item["operationId"], "operation": item["operation"], "clusterName": item["clusterName"],
            "dryrun": bool(item["dryrun"])}


def start_workflow(item: Mapping[str, Any]) -> None:
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=settings().state_machine_arn, name=item["operationId"],
            input=json.dumps(execution_input(item)))
    except ClientError as error:
        # Same name, other input cannot happen (the input derives from the item); same name, same
        # input while it runs is answered with success; after it ended, this error says it ran.
        if aws.error_code(error) != "ExecutionAlreadyExists":
            raise


def wait_until_ended(operation_id: str, deadline: Deadline) -> dict[str, Any] | None:
    """The operation once it has ended, or None if it has not by ``deadline``."""
    while True:
        item = get(operation_id)
        if item is not None and item["status"] not in NON_TERMINAL:
            return item
        if deadline.remaining() <= WAIT_POLL_SECONDS:
            return None
        time.sleep(WAIT_POLL_SECONDS)
