"""GET /questions/{id}/heatmap: response shape. Pure: no boto3."""

from __future__ import annotations

from typing import Any, Mapping

import pygeohash

from ..shared.http import BadRequest


def heatmap_view(question: Mapping[str, Any]) -> dict[str, Any]:
    """Per-geohash (precision 6) answer counts with each cell's centre, busiest first."""
    if question.get("type") != "geo":
        raise BadRequest(f"question {question['questionId']} is a {question.get('type')} question; "
                         "only geo questions have a heat map")
    cells = []
    for cell, count in (question.get("heatmap") or {}).items():
        if int(count) > 0:  # cells that emptied keep a 0 entry in the item
            centre = pygeohash.decode(cell)
            cells.append({"geohash": cell, "count": int(count),
                          "lat": float(centre.latitude), "lng": float(centre.longitude)})
    cells.sort(key=lambda c: (-c["count"], c["geohash"]))
    return {"questionId": question["questionId"], "answerCount": int(question.get("answerCount", 0)),
            "cells": cells}
