"""GET /questions?lat=&lng=: open questions within 8 km, nearest first.

One DynamoDB Query per covering cell of the ``cell`` index (at most 4 between
latitudes -65.8 and 65.8), run in parallel, then an exact haversine filter.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Key

from .logic import BadRequest, covering_cells, open_since, parse_search_params, question_summary, select_in_range

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# The queries of one search run in parallel on the resource's low-level client, which is
# thread-safe (resource objects are not) and still speaks Python types.
dynamodb = boto3.resource("dynamodb")
_executor = ThreadPoolExecutor(max_workers=8)


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def _query_cell(cell: str, since: str) -> tuple[list[dict[str, Any]], int]:
    """All open questions of one cell; returns the items and the number of Query calls (pages)."""
    request: dict[str, Any] = {
        "TableName": os.environ["QUESTIONS_TABLE_NAME"],
        "IndexName": os.environ.get("QUESTIONS_CELL_INDEX_NAME", "byCell"),
        "KeyConditionExpression": Key("cell").eq(cell) & Key("created").gte(since),
    }
    items: list[dict[str, Any]] = []
    calls = 0
    while True:
        page = dynamodb.meta.client.query(**request)
        calls += 1
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, calls
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        lat, lng = parse_search_params(event.get("queryStringParameters"))
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})

    since = open_since(datetime.now(timezone.utc), float(os.environ.get("QUESTION_OPEN_HOURS", "24")))
    cells = covering_cells(lat, lng)
    results = list(_executor.map(lambda cell: _query_cell(cell, since), cells))
    items = [item for cell_items, _ in results for item in cell_items]
    found = select_in_range(lat, lng, items, limit=int(os.environ.get("MAX_RESULTS", "100")))

    queries = sum(calls for _, calls in results)
    metrics.add_metric(name="CellQueries", unit=MetricUnit.Count, value=queries)
    metrics.add_metric(name="ItemsRead", unit=MetricUnit.Count, value=len(items))
    logger.debug("radius search", extra={"cells": cells, "queries": queries, "read": len(items), "found": len(found)})
    return _response(200, {"questions": [question_summary(f) for f in found]})
