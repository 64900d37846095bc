"""A JSON Schema (draft 4, as a plain mapping) turned into API Gateway's request model type.

Handlers own their validation rules as JSON Schema documents (they validate with them too);
the stacks derive the API Gateway model from the same document, so the two can never drift.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from aws_cdk import aws_apigateway as apigw

_VERSIONS = {"http://json-schema.org/draft-04/schema#": apigw.JsonSchemaVersion.DRAFT4,
             "http://json-schema.org/draft-07/schema#": apigw.JsonSchemaVersion.DRAFT7}
# Keywords whose value is one schema, a list of schemas, or a mapping of names to schemas.
_ONE_SCHEMA = {"items", "not", "additionalItems", "additionalProperties", "contains", "propertyNames"}
_SCHEMA_LIST = {"allOf", "anyOf", "oneOf"}
_SCHEMA_MAP = {"properties", "patternProperties", "definitions", "dependencies"}
_RENAMED = {"$schema": "schema", "$ref": "ref", "$id": "id"}


def _snake(keyword: str) -> str:
    return _RENAMED.get(keyword) or re.sub(r"(?<!^)(?=[A-Z])", "_", keyword).lower()


def api_gateway_schema(schema: Mapping[str, Any]) -> apigw.JsonSchema:
    """``schema`` as :class:`apigw.JsonSchema`; synthesizes back to the same document."""
    props: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword == "$schema":
            value = _VERSIONS[value]
        elif keyword == "type":
            value = ([apigw.JsonSchemaType[v.upper()] for v in value] if isinstance(value, list)
                     else apigw.JsonSchemaType[value.upper()])
        elif keyword in _ONE_SCHEMA and isinstance(value, Mapping):
            value = api_gateway_schema(value)
        elif keyword in _SCHEMA_LIST or (keyword == "items" and isinstance(value, list)):
            value = [api_gateway_schema(item) for item in value]
        elif keyword in _SCHEMA_MAP:
            value = {name: api_gateway_schema(sub) if isinstance(sub, Mapping) else sub
                     for name, sub in value.items()}
        props[_snake(keyword)] = value
    return apigw.JsonSchema(**props)
