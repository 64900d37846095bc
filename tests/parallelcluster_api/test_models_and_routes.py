"""Models as dataclasses, once: their JSON Schema (what API Gateway validates), the handler's parse of
the same rules, the routes as the single source of truth, and the OpenAPI document exported from
them (current and valid)."""
from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from lambda_src.parallelcluster_api import models, routes, schema
from scripts import export_openapi

ROOT = Path(__file__).resolve().parents[2]
REQUEST_MODELS = [route.request_model for route in routes.ROUTES if route.request_model is not None]


class Colour(str, enum.Enum):
    red = "red"
    blue = "blue"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inner:
    size: int = schema.constrained(minimum=1, maximum=10)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sample:
    """A sample."""

    name: str = schema.constrained(pattern="^[a-z]+$", max_length=8)
    colour: Colour
    shade: Literal["light", "dark"] | None = None
    inner: Inner | None = None
    sizes: list[int] | None = schema.constrained(max_items=3, default=None)


def _objects(node: Any):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_a_model_becomes_a_draft_4_schema_with_its_types_enums_and_constraints():
    document = schema.json_schema(Sample)
    jsonschema.Draft4Validator.check_schema(document)
    assert document["required"] == ["name", "colour"]
    assert document["properties"]["name"] == {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8}
    assert document["properties"]["colour"] == {"type": "string", "enum": ["red", "blue"]}
    assert document["properties"]["shade"] == {"type": "string", "enum": ["light", "dark"]}
    assert document["properties"]["inner"]["properties"]["size"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert document["properties"]["sizes"] == {"type": "array", "items": {"type": "integer"}, "maxItems": 3}
    assert document["description"] == "A sample."


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
def test_every_object_of_a_request_model_refuses_unknown_fields(model):
    document = schema.json_schema(model)
    jsonschema.Draft4Validator.check_schema(document)
    assert all(node["additionalProperties"] is False for node in _objects(document))


@pytest.mark.parametrize("body", [
    {"name": "abc", "colour": "red"},
    {"name": "abc", "colour": "red", "shade": "dark", "inner": {"size": 3}, "sizes": [1, 2, 3]},
    {"name": "abc"},
    {"name": "ABC", "colour": "red"},
    {"name": "abc\n", "colour": "red"},
    {"name": "abcdefghi", "colour": "red"},
    {"name": "abc", "colour": "green"},
    {"name": "abc", "colour": "red", "shade": None},
    {"name": "abc", "colour": "red", "inner": {"size": 11}},
    {"name": "abc", "colour": "red", "inner": {"size": True}},
    {"name": "abc", "colour": "red", "inner": {"size": 2, "extra": 1}},
    {"name": "abc", "colour": "red", "sizes": [1, 2, 3, 4]},
    {"name": "abc", "colour": "red", "sizes": [1, "2"]},
    {"name": "abc", "colour": "red", "unknown": 1},
    {"name": 5, "colour": "red"},
])
def test_the_handlers_parse_accepts_exactly_what_the_schema_accepts(body):
    schema_accepts = jsonschema.Draft4Validator(schema.json_schema(Sample)).is_valid(body)
    if body.get("name") == "abc\n":
        # ECMA 262 (JSON Schema) has "$" match only at the end; Python's jsonschema uses re.search, whose
        # "$" also matches before a final newline: the handler holds the stricter, ECMA meaning.
        schema_accepts = False
    try:
        schema.parse(Sample, body)
        parse_accepts = True
    except schema.ModelError:
        parse_accepts = False
    assert parse_accepts is schema_accepts


def test_parse_builds_the_dataclass_with_enum_members():
    parsed = schema.parse(Sample, {"name": "abc", "colour": "blue", "inner": {"size": 2}})
    assert parsed == Sample(name="abc", colour=Colour.blue, inner=Inner(size=2))
    assert schema.to_json(parsed) == {"name": "abc", "colour": "blue", "inner": {"size": 2}}


def test_an_optional_field_without_a_default_is_a_model_error_at_definition():
    @dataclasses.dataclass(kw_only=True)
    class Broken:
        name: str | None

    with pytest.raises(TypeError, match="Broken.name is Optional but has no default"):
        schema.json_schema(Broken)


def test_the_create_request_model_has_the_specs_fields_and_pattern():
    document = schema.json_schema(models.CreateClusterRequestContent)
    assert document["required"] == ["clusterName", "clusterConfiguration"]
    assert document["properties"]["clusterName"]["pattern"] == "^[a-zA-Z][a-zA-Z0-9-]+$"


def test_every_function_of_the_contract_has_its_package():
    package = ROOT / "lambda_src" / "parallelcluster_api"
    assert sorted(routes.FUNCTIONS) == sorted([
        "list_clusters", "create_cluster", "describe_cluster", "update_cluster", "delete_cluster",
        "describe_compute_fleet", "update_compute_fleet", "describe_cluster_instances", "delete_cluster_instances",
        "get_cluster_stack_events", "list_cluster_log_streams", "get_cluster_log_events", "list_official_images",
        "get_operation", "legacy_pcluster", "submit_operation", "poll_cluster", "record_outcome"])
    assert all((package / function / "handler.py").is_file() for function in routes.FUNCTIONS)


def test_routes_are_unique_and_declare_every_path_parameter():
    assert len({(route.method, route.path) for route in routes.ROUTES}) == len(routes.ROUTES)
    assert len({route.operation_id for route in routes.ROUTES}) == len(routes.ROUTES)
    for route in routes.ROUTES:
        in_path = {part[1:-1] for part in route.path.split("/") if part.startswith("{")}
        assert in_path == {parameter.name for parameter in route.parameters_in("path")}, route.path


def test_the_default_permissions_grant_each_route_by_its_scope_and_by_admin_only():
    permissions = routes.default_permissions()
    for route in routes.ROUTES:
        granted = {entry["scope"] for entry in permissions
                   if (entry["method"], entry["resource"]) == (route.method, route.path)}
        assert granted == {f"parallelcluster/{route.scope}", "parallelcluster/admin"}
    assert {entry["scope"] for entry in permissions if entry["method"] == "GET"} == {
        "parallelcluster/read", "parallelcluster/admin"}


def test_the_committed_openapi_document_is_current():
    assert export_openapi.main(["--check"]) == 0


def test_the_committed_openapi_document_is_valid_openapi_3():
    import json

    validate_openapi(json.loads((ROOT / "docs" / "parallelcluster_api.openapi.json").read_text()))


def test_the_openapi_document_has_every_route_with_its_statuses_and_the_bearer_scheme():
    document = export_openapi.document()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}
    for route in routes.ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert set(operation["responses"]) == {str(response.status) for response in route.responses}
        assert operation["security"] == [{"bearerAuth": []}]
        assert operation["x-required-scope"] == f"parallelcluster/{route.scope}"


def test_a_stale_openapi_document_is_reported(tmp_path, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    assert export_openapi.main(["--check", "--output", str(stale)]) == 1
    assert "is out of date" in capsys.readouterr().err


@pytest.mark.parametrize("function", sorted(routes.FUNCTIONS_WITHOUT_PCLUSTER))
def test_a_function_declared_without_the_layer_imports_neither_pyyaml_nor_pcluster(function):
    import subprocess
    import sys

    blocked = "import sys; sys.modules['yaml'] = None; sys.modules['pcluster'] = None; "
    result = subprocess.run(
        [sys.executable, "-c", blocked + f"import lambda_src.parallelcluster_api.{function}.handler"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert result.returncode == 0, result.stderr[-2000:]
