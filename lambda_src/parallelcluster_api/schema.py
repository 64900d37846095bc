"""PLACEHOLDER (pc-stack): a request dataclass as a draft-4 JSON Schema (the handlers branch's
schema.py, with the same ``json_schema``, replaces this file)."""
from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

DRAFT4 = "http://json-schema.org/draft-04/schema#"


def _property(field: dataclasses.Field) -> dict[str, Any]:
    if isinstance(field.type, type) and issubclass(field.type, Enum):
        return {"type": "string", "enum": [member.value for member in field.type]}
    return {"type": "string", **field.metadata}


def json_schema(model: type) -> dict[str, Any]:
    """The draft-4 JSON Schema of ``model`` (an API Gateway model)."""
    fields = dataclasses.fields(model)
    return {"$schema": DRAFT4, "title": model.__name__, "type": "object",
            "properties": {f.name: _property(f) for f in fields}, "additionalProperties": False,
            "required": [f.name for f in fields]}
