"""GET /questions?lat=&lng=: open questions within 8 km, nearest first.

One DynamoDB Query per covering cell of the ``cell`` index (at most 4 between
latitudes -65.8 and 65.8), run in parallel, then an exact haversine filter.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from boto3.dynamodb.conditions import Key

from ..shared import aws
from ..shared.handlers import count, http_handler, logger
from ..shared.http import json_response
from .logic import covering_cells, open_since, parse_search_params, question_summary, select_in_range

# The queries of one search run in parallel on the resource's low-level client, which is
# thread-safe (resource objects are not) and still speaks Python types.
_executor = ThreadPoolExecutor(max_workers=8)


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
        page = aws.dynamodb.meta.client.query(**request)
        calls += 1
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, calls
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    lat, lng = parse_search_params(event.get("queryStringParameters"))

    since = open_since(datetime.now(timezone.utc), float(os.environ.get("QUESTION_OPEN_HOURS", "24")))
    cells = covering_cells(lat, lng)
    results = list(_executor.map(lambda cell: _query_cell(cell, since), cells))
    items = [item for cell_items, _ in results for item in cell_items]
    found = select_in_range(lat, lng, items, limit=int(os.environ.get("MAX_RESULTS", "100")))

    queries = sum(calls for _, calls in results)
    count("CellQueries", queries)
    count("ItemsRead", len(items))
    logger.debug("radius search", extra={"cells": cells, "queries": queries, "read": len(items), "found": len(found)})
    return json_response(200, {"questions": [question_summary(f) for f in found]})
