"""Write the ParallelCluster API's OpenAPI 3 document from its routes and models.

    python -m scripts.export_openapi           # rewrite docs/parallelcluster_api.openapi.json
    python -m scripts.export_openapi --check   # exit 1 when the committed document is not current

Everything comes from ``lambda_src/parallelcluster_api/routes.py`` (paths, methods, parameters,
statuses, scopes) and the dataclasses of ``models.py`` (schemas), so the document cannot drift
from what the stack deploys and the functions accept.
"""
from __future__ import annotations

import argparse
import difflib
import enum
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file as well as with -m
    sys.path.insert(0, str(ROOT))

from lambda_src.parallelcluster_api import models, routes  # noqa: E402 - after the path is set
from lambda_src.parallelcluster_api.schema import enum_schema, openapi_schema  # noqa: E402

OUTPUT = ROOT / "docs" / "parallelcluster_api.openapi.json"
OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "bearerAuth"


def _parameter_schema(parameter: routes.Parameter, components: dict[str, Any]) -> dict[str, Any]:
    kind = parameter.type
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        schema = openapi_schema(kind, components)
    else:
        schema = enum_schema(kind)
        for key, value in (("pattern", parameter.pattern), ("maxLength", parameter.max_length),
                           ("minimum", parameter.minimum), ("maximum", parameter.maximum),
                           ("format", parameter.format)):
            if value is not None:
                schema[key] = value
    if parameter.multi:
        schema = {"type": "array", "items": schema, "uniqueItems": True}
    return schema


def _parameter(parameter: routes.Parameter, components: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": parameter.name, "in": parameter.location, "description": parameter.description,
                             "required": parameter.required or parameter.location == "path",
                             "schema": _parameter_schema(parameter, components)}
    if parameter.multi:
        entry.update(style="form", explode=True)
    return entry


def _response(response: routes.Response, route: routes.Route, components: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"description": response.description}
    if response.model is not None:
        schema = openapi_schema(response.model, components)
    elif route.path == routes.LEGACY_PATH and response.status == 200:
        schema = {"oneOf": [openapi_schema(model, components) for model in routes.LEGACY_OK_MODELS]}
    else:
        return entry
    entry["content"] = {"application/json": {"schema": schema}}
    return entry


def _operation(route: routes.Route, components: dict[str, Any]) -> dict[str, Any]:
    scope = routes.scope_name(route.scope)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": f"Requires the scope {scope} (or {routes.scope_name('admin')}). Lambda function: "
                       f"{route.function}.",
        "tags": [route.tag],
        "security": [{SECURITY_SCHEME: []}],
        "x-required-scope": scope,
        "parameters": [_parameter(parameter, components) for parameter in route.parameters],
        "responses": {str(response.status): _response(response, route, components) for response in route.responses},
    }
    if route.request_model is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": openapi_schema(route.request_model, components)}}}
    elif route.path == routes.LEGACY_PATH:
        operation["requestBody"] = {"required": False, "description": "create: the pcluster 3 configuration "
                                    "(YAML), base64-encoded; ignored by the other commands.",
                                    "content": {"application/x-www-form-urlencoded": {
                                        "schema": {"type": "string", "format": "byte"}}}}
    return operation


def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for route in routes.ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ParallelCluster API",
            "version": models.PARALLELCLUSTER_VERSION,
            "description": "The cluster operations of the official ParallelCluster 3 API (routes, models, "
                           "status codes), guarded by a JWT bearer token; create, update and delete run in a "
                           "workflow and answer 202 with an operation to read at /v3/operations/{operationId}. "
                           "See docs/parallelcluster_api.md.",
        },
        "servers": [{"url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
                     "variables": {"restApiId": {"default": "restApiId"}, "region": {"default": "us-east-1"},
                                   "stage": {"default": "prod"}}}],
        "security": [{SECURITY_SCHEME: []}],
        "tags": [{"name": name} for name in dict.fromkeys(route.tag for route in routes.ROUTES)],
        "paths": paths,
        "components": {
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An OAuth 2.0 access token (JWT) of the configured identity provider, whose scopes "
                               "grant the route: " + ", ".join(routes.scope_name(scope) for scope in routes.SCOPES),
            }},
            "schemas": dict(sorted(components.items())),
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    fresh = render()
    if not args.check:
        args.output.write_text(fresh)
        print(f"wrote {args.output}")
        return 0
    current = args.output.read_text() if args.output.exists() else ""
    if current == fresh:
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                               str(args.output), "generated now", n=2))
    print(f"{args.output} is out of date: run `python -m scripts.export_openapi`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
