"""Dataclasses as the API's models: JSON Schema from them, and strict parsing of JSON into them. Pure.

A model is a dataclass whose field names are the JSON names (camelCase, as in the ParallelCluster
spec). What a field admits comes from its type and from :func:`constrained` metadata:

- ``str``, ``int``, ``float``, ``bool``; a ``str`` :class:`enum.Enum` or a ``Literal`` of strings
  (an ``enum``); ``list[X]``; ``dict[str, X]``; another model (nested object); ``Any`` (any JSON);
- ``X | None`` with a default: optional (may be absent; ``null`` is refused, like any wrong type).
  Any other field is required;
- metadata: ``pattern``, ``minLength``/``maxLength``, ``minimum``/``maximum``, ``maxItems``,
  ``format`` and ``description``.

Every object schema says ``additionalProperties: false``. :func:`json_schema` writes a draft-4
document with nested models inlined (what an API Gateway model validates);
:func:`openapi_schema` writes OpenAPI 3.0 schema objects that refer to named components.
:func:`parse` applies the same rules in the handler, where API Gateway's validation is not
the last word (it is skipped on routes without a model, and its regular expressions are Java's).
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import math
import re
import types
import typing
from typing import Any, Callable, Mapping

DRAFT4 = "http://json-schema.org/draft-04/schema#"
_CONSTRAINTS = ("pattern", "minLength", "maxLength", "minimum", "maximum", "maxItems", "format")
_PRIMITIVES: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_ARTICLES = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
# Values shown in error messages are clipped: a message never echoes a hostile input whole.
_SHOWN = 40


def constrained(*, description: str | None = None, pattern: str | None = None, min_length: int | None = None,
                max_length: int | None = None, minimum: float | None = None, maximum: float | None = None,
                max_items: int | None = None, format: str | None = None,
                default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with JSON Schema constraints; ``default=None`` makes it optional."""
    metadata = {key: value for key, value in (
        ("description", description), ("pattern", pattern), ("minLength", min_length), ("maxLength", max_length),
        ("minimum", minimum), ("maximum", maximum), ("maxItems", max_items), ("format", format)) if value is not None}
    return dataclasses.field(default=default, metadata=metadata)


class ModelError(ValueError):
    """The JSON does not fit the model; the message names the offending location (``body.x[2].y``)."""


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    type: Any
    required: bool
    metadata: Mapping[str, Any]


@functools.cache
def _fields(model: type) -> tuple[_Field, ...]:
    if not dataclasses.is_dataclass(model):
        raise TypeError(f"{model!r} is not a dataclass model")
    hints = typing.get_type_hints(model)
    result = []
    for field in dataclasses.fields(model):
        annotation, optional = _unwrap_optional(hints[field.name])
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        if optional and not has_default:
            raise TypeError(f"{model.__name__}.{field.name} is Optional but has no default")
        result.append(_Field(field.name, annotation, not has_default, dict(field.metadata)))
    return tuple(result)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) != 1:
            raise TypeError(f"only X | None unions are supported, got {annotation!r}")
        return members[0], True
    return annotation, False


def _enum_values(annotation: Any) -> list[str] | None:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return None


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _type_schema(annotation: Any, ref: Callable[[type], dict[str, Any]] | None) -> dict[str, Any]:
    if annotation is Any:
        return {}
    values = _enum_values(annotation)
    if values is not None:
        if isinstance(annotation, type) and ref is not None:
            return ref(annotation)
        return {"type": "string", "enum": values}
    if is_model(annotation):
        return ref(annotation) if ref is not None else _object_schema(annotation, None)
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": _type_schema(item, ref)}
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str:
            raise TypeError(f"dict keys must be str, got {annotation!r}")
        return {"type": "object", "additionalProperties": _type_schema(value, ref)}
    if annotation in _PRIMITIVES:
        return {"type": _PRIMITIVES[annotation]}
    raise TypeError(f"unsupported model field type {annotation!r}")


def _object_schema(model: type, ref: Callable[[type], dict[str, Any]] | None) -> dict[str, Any]:
    properties = {}
    for field in _fields(model):
        schema = _type_schema(field.type, ref)
        constraints = {key: field.metadata[key] for key in _CONSTRAINTS if key in field.metadata}
        if "$ref" in schema and (constraints or "description" in field.metadata):
            schema = {"allOf": [schema]}  # a $ref's siblings are ignored: wrap it to keep them
        if typing.get_origin(field.type) is list and "maxItems" in constraints:
            schema["maxItems"] = constraints.pop("maxItems")
        schema.update(constraints)
        if "description" in field.metadata:
            schema["description"] = field.metadata["description"]
        properties[field.name] = schema
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    required = [field.name for field in _fields(model) if field.required]
    if required:  # draft 4: "required" must not be an empty array
        schema["required"] = required
    if model.__doc__ and not model.__doc__.startswith(f"{model.__name__}("):
        schema["description"] = " ".join(model.__doc__.split())
    return schema


def json_schema(model: type) -> dict[str, Any]:
    """The draft-4 JSON Schema of ``model``, nested models inlined (an API Gateway model)."""
    return {"$schema": DRAFT4, "title": model.__name__, **_object_schema(model, None)}


def openapi_schema(model: type, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A ``$ref`` to ``model`` in OpenAPI 3.0 ``components``, adding it (and every model and enum
    it uses) to ``components``."""
    def ref(target: type) -> dict[str, Any]:
        if target.__name__ not in components:
            values = _enum_values(target)
            if values is not None:
                components[target.__name__] = {"type": "string", "enum": values}
            else:
                components[target.__name__] = {}  # reserved first: models may refer to each other
                components[target.__name__] = _object_schema(target, ref)
        return {"$ref": f"#/components/schemas/{target.__name__}"}

    return ref(model)


def enum_schema(annotation: Any) -> dict[str, Any]:
    """The schema of a query parameter's type: an enum's values, or its primitive type."""
    return _type_schema(annotation, None)


def python_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python with the meaning it has in JSON Schema (ECMA 262), where a
    final ``$`` matches only at the very end: Python's ``$`` also matches before a trailing newline,
    which would let ``"cluster1\\n"`` through ``^[a-zA-Z][a-zA-Z0-9-]+$``."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def shown(value: Any) -> str:
    """``repr(value)`` for a message, clipped."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** _SHOWN:
        return "an integer of more than 40 digits"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def parse(model: type, data: Any, location: str = "body") -> Any:
    """``data`` (parsed JSON) as an instance of ``model``, or :class:`ModelError`."""
    if not isinstance(data, dict):
        raise ModelError(f"{location} must be a JSON object")
    known = {field.name for field in _fields(model)}
    unknown = sorted(key for key in data if key not in known)
    if unknown:
        raise ModelError(f"{location} has unknown field {shown(unknown[0])} (known: {', '.join(sorted(known))})")
    values = {}
    for field in _fields(model):
        if field.name not in data:
            if field.required:
                raise ModelError(f"{location}.{field.name} is required")
            continue
        values[field.name] = _parse_value(field.type, data[field.name], f"{location}.{field.name}", field.metadata)
    return model(**values)


def _parse_value(annotation: Any, value: Any, location: str, metadata: Mapping[str, Any]) -> Any:
    if annotation is Any:
        return value
    values = _enum_values(annotation)
    if values is not None:
        if not isinstance(value, str) or value not in values:
            raise ModelError(f"{location} must be one of {', '.join(values)}, got {shown(value)}")
        return annotation(value) if isinstance(annotation, type) else value
    if is_model(annotation):
        return parse(annotation, value, location)
    origin = typing.get_origin(annotation)
    if origin is list:
        if not isinstance(value, list):
            raise ModelError(f"{location} must be an array")
        if "maxItems" in metadata and len(value) > metadata["maxItems"]:
            raise ModelError(f"{location} may have at most {metadata['maxItems']} items, got {len(value)}")
        (item,) = typing.get_args(annotation)
        return [_parse_value(item, entry, f"{location}[{index}]", {}) for index, entry in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ModelError(f"{location} must be an object")
        _, item = typing.get_args(annotation)
        return {key: _parse_value(item, entry, f"{location}.{key}", {}) for key, entry in value.items()}
    return _parse_primitive(annotation, value, location, metadata)


def _parse_primitive(annotation: type, value: Any, location: str, metadata: Mapping[str, Any]) -> Any:
    # bool is an int in Python, never in JSON; an int is a valid JSON Schema "number".
    valid = (isinstance(value, annotation) and not (annotation is int and isinstance(value, bool))) or (
        annotation is float and isinstance(value, int) and not isinstance(value, bool))
    if not valid:
        raise ModelError(f"{location} must be {_ARTICLES[annotation]}")
    if annotation is str:
        length = len(value)
        if "minLength" in metadata and length < metadata["minLength"]:
            raise ModelError(f"{location} must have at least {metadata['minLength']} characters")
        if "maxLength" in metadata and length > metadata["maxLength"]:
            raise ModelError(f"{location} must have at most {metadata['maxLength']} characters, got {length}")
        if "pattern" in metadata and not python_pattern(metadata["pattern"]).search(value):
            raise ModelError(f"{location} must match {metadata['pattern']}, got {shown(value)}")
    elif annotation in (int, float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ModelError(f"{location} must be a finite number")
        if "minimum" in metadata and value < metadata["minimum"]:
            raise ModelError(f"{location} must be at least {metadata['minimum']}, got {shown(value)}")
        if "maximum" in metadata and value > metadata["maximum"]:
            raise ModelError(f"{location} must be at most {metadata['maximum']}, got {shown(value)}")
    return value


def to_json(instance: Any) -> Any:
    """A model instance (or a list or dict of them) as JSON data; absent (None) fields are left out."""
    if is_model(type(instance)):
        return {field.name: to_json(getattr(instance, field.name)) for field in dataclasses.fields(instance)
                if getattr(instance, field.name) is not None}
    if isinstance(instance, enum.Enum):
        return instance.value
    if isinstance(instance, list):
        return [to_json(item) for item in instance]
    if isinstance(instance, dict):
        return {key: to_json(value) for key, value in instance.items()}
    return instance
