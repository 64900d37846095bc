"""PLACEHOLDER (pc-stack): a request dataclass as a JSON Schema (draft 4); the handlers branch replaces it."""
from __future__ import annotations

import dataclasses
from typing import Any

DRAFT_4 = "http://json-schema.org/draft-04/schema#"


def json_schema(model: type) -> dict[str, Any]:
    """The draft-4 schema API Gateway validates a request body of ``model`` with."""
    properties = {f.name: {"type": "string", **f.metadata} for f in dataclasses.fields(model)}
    return {"$schema": DRAFT_4, "title": model.__name__, "type": "object", "properties": properties,
            "required": sorted(properties), "additionalProperties": False}
