r"""Render API Gateway (REST API) mapping templates the way API Gateway does.

API Gateway runs mapping templates with Apache Velocity (Velocity 1.7 semantics) plus its
own ``$input``, ``$util``, ``$context`` and ``$stageVariables`` variables. This module uses
``airspeed`` (LocalStack's ``airspeed-ext``) to *parse* templates and evaluates the parse
tree itself. It doesn't use airspeed's evaluator because that one follows Python rules where
API Gateway follows Java/Velocity rules: truthiness, ``==``, integer division, unknown
methods and null handling. Nothing is monkeypatched, so other airspeed users are not affected.

Usage::

    out = render(template, body='{"url": "https://example.com"}',
                 params=RequestParams(path={"id": "abc"}),
                 context=default_context(email="alice@example.com", httpMethod="POST"))
    out.text, out.json(), out.status_override, out.header_overrides, out.request_overrides

Sources
=======
[DOC-REF]      AWS, "API Gateway mapping template and access logging variable reference"
               ($context, $input, $stageVariables, $util).
[DOC-OVR]      AWS, "Use a mapping template to override an API's request and response
               parameters and status codes".
[LS-SNAP]      Responses recorded against real AWS in LocalStack's AWS-validated snapshot tests:
               tests/aws/services/apigateway/test_apigateway_common.snapshot.json
               (test_input_path_template_formatting, test_input_body_formatting) and
               test_apigateway_kinesis.snapshot.json.
[LS-12774]     localstack/localstack PR #12774 (results from the AWS console for $input.json
               and $input.path when the body is empty or not JSON).
[SLS-50]       dherault/serverless-offline issue #50 ("#if($elem.value)" with an undefined
               value *is* rendered on AWS).
[JSONPATH-707] json-path/JsonPath issue #707 (json-smart's JSONArray.toString escapes "/").

What is emulated (and where a choice had to be made)
====================================================
Null handling (API Gateway differs from stock Velocity here)
    Every reference step that yields null (an undefined variable, a missing property or map
    key, a method that returns null, a JSONPath that matches nothing) becomes the empty
    string "" *in every context*: it renders as "", compares equal to "" and to another
    missing value (``$x == $null``), and you can call String methods on it
    (``$missing.length()`` is 0). [LS-SNAP] shows ``$result`` / ``$result.nested`` for a
    missing path render as nothing, with both ``$result == $null`` and ``$result == ""``
    true. In the Kinesis snapshot, ``#if($foo.bar.stuff != '')`` with an undefined ``$foo``
    takes the else branch. Consequences:
      * An undefined ``$ref`` renders as "", NOT as its literal text as in stock Velocity,
        and ``$!ref`` is the same as ``$ref``.
      * ``#if($missing)`` is TRUE, because "" is truthy in Velocity 1.7 (see below). [SLS-50]
        confirms this on AWS. To test for presence, use ``#if($x != "")`` or
        ``#if("$!x" != "")``.
    CHOICE: the conversion happens at every step of a reference chain (``$a.b.c``), not
    only at its end. This is the simplest model that fits all the observations above.

Velocity 1.7 semantics
    * Truthiness (``#if``, ``&&``, ``||``, ``!``): only null and Boolean false are false.
      "", 0 and empty lists are TRUE (unlike Velocity 2.x and Python), so
      ``#if($list.size())`` is always true.
    * ``==``/``!=``: numbers compare numerically (1 == 1.0). Values of related classes use
      equals(). Anything else compares the toString() forms, so ``3 == "3"`` is true and
      ``true == "true"`` is true, but ``3.0 == "3"`` is false.
    * ``<``, ``<=``, ``>``, ``>=`` work on numbers only. Otherwise the result is false and a
      warning is recorded.
    * ``&&`` and ``||`` short-circuit. Precedence: || < && < ==,!= < relational < +,- < *,/,%.
    * Arithmetic: Integer/Integer is integer division truncating toward zero. ``%`` takes
      the sign of the dividend. Division by zero gives null. ``+`` with a String operand
      concatenates.
    * ``#foreach`` over a Map iterates its *values*. Over a non-iterable (for example the ""
      of a missing value) the loop does nothing and a warning is recorded. Available inside:
      ``$foreach.hasNext/.index/.count/.first/.last/.parent``, ``$velocityCount``
      (counts from 1) and ``$velocityHasNext``. The loop variable is restored after the loop.
    * ``#set`` writes the global context, so a value set inside a loop is visible after it.
      ``#set($x = <null>)`` (only possible with arithmetic errors) leaves $x unchanged.
    * String literals: '...' is verbatim. "..." interpolates ``$``/``#`` and turns ``""``
      into ``"``. NO backslash escapes are processed, so ``"\\'"`` is the three characters
      ``\\'``. Because of that, the [DOC-REF] idiom
      ``$util.escapeJavaScript($x).replaceAll("\\'","'")`` gives Java's replaceAll the regex
      ``\\'``, which matches a literal backslash followed by a quote.
    * Index notation ``$list[0]``, ``$list[-1]`` (counts from the end) and ``$map['k']``. An
      index out of range raises, like Velocity does.
    * ``#macro``, ``#define``, ``#evaluate`` and ``#stop`` work. An unknown ``#name(...)``
      renders literally. ``#include``/``#parse`` raise (templates have no resource loader).
      ``#break`` is NOT supported (airspeed cannot parse it).
    * Whitespace and newline handling around directives is airspeed's. It is close to
      Velocity 1.7 but not byte-identical for multi-line templates, so compare JSON output
      with ``Rendered.json()`` rather than exact text.

Java method calls
    Strings: length, isEmpty, trim, toLowerCase, toUpperCase, startsWith, endsWith, contains,
    equals, equalsIgnoreCase, indexOf, lastIndexOf, substring, charAt, replace (literal),
    replaceAll, replaceFirst, matches (whole-string match), split, concat, compareTo,
    toString. Indexes and lengths count UTF-16 code units, as in Java. Regex methods use Java
    regex rules (ASCII ``\w \d \s``, ``(?<name>)``, ``\Q..\E``, ``\p{Alpha}``-style
    classes) and Java replacement strings (``$1``, ``${name}``, ``\$``). split() drops
    trailing empty strings, and its String[] result supports size()/get() but renders as
    Java's array toString. Maps (LinkedHashMap): get, getOrDefault, containsKey,
    containsValue, keySet, values, entrySet, size, isEmpty, put, putAll, remove, equals,
    toString. Lists: size, get, isEmpty, contains, indexOf, lastIndexOf, add, addAll, set,
    remove, subList, equals, toString. Calling a method that does not exist (or passing
    arguments of the wrong type) returns null, which renders as "", the same as on AWS. The
    call is also listed in ``Rendered.warnings`` so tests can catch typos. A Java exception
    (for example substring out of range) raises ``TemplateRuntimeError``. On AWS this would
    be a 5XX.

$input
    * ``$input.body``: the raw payload string. An EMPTY payload reads as ``{}`` ([LS-SNAP]).
      CHOICE: ``$input.json``/``$input.path`` also treat an empty payload as ``{}``.
    * ``$input.path(p)``: the value at JSONPath ``p``. Objects are Java Maps, which render as
      ``{a=1, b=x}``. Arrays are json-smart JSONArrays, which render as compact JSON with
      ``/`` escaped as ``\/`` ([LS-SNAP], [JSONPATH-707]). Strings, numbers and booleans
      are themselves. A path that matches nothing, or a JSON null, gives "" (see null handling).
    * ``$input.json(p)``: the same value as JSON text. Strings come back quoted and escaped,
      objects and arrays as compact JSON with keys in document order. CHOICE: ``/`` is NOT
      escaped here. This is an inference from Jayway JsonPath's toJson (LT_COMPRESS style)
      and was not verified on AWS. A path that matches NOTHING returns ``""`` (two
      double-quote characters, a JSON empty string), per [LS-12774]. A JSON null returns
      ``null``.
    * A non-JSON payload: any path below the root matches nothing, so path() gives "" and
      json() gives ``""`` ([LS-12774], AWS console). CHOICE (not verified): the root ``$``
      is the raw text as a string. That is what the permissive json-smart parser behind
      Jayway JsonPath yields for plain text.
    * JSONPath: ``$``, ``.name``, ``['name']``/``["name"]``, ``[n]``, ``[-n]``, ``[a,b]``,
      ``[start:end]``, ``[*]``/``.*`` and ``..name`` are supported. Following Jayway, a
      *definite* path returns one value, while wildcards, slices, unions and deep scans
      return a JSONArray of the matches. Filters (``[?(...)]``) raise ``TemplateRuntimeError``.
    * ``$input.params()``: a map with ``path``, ``querystring`` and ``header`` keys, in that
      order. ``$input.params('x')`` searches path, then querystring, then header, and
      returns "" when the parameter is absent. CHOICE: header lookups (including
      ``$input.params().header.get('X')``) ignore case, as HTTP header names do.
    * Numbers follow json-smart: integers stay integers and decimals become Double.
      Doubles render with Java's Double.toString: ``1.0``, ``1.0E20``, ``1.5E-5``.

$util ([DOC-REF])
    * ``escapeJavaScript``: Apache Commons StringEscapeUtils.escapeJavaScript. It escapes
      ``" ' \ /`` with a backslash, uses ``\b \f \n \r \t`` for those controls, and
      writes other control characters and all non-ASCII characters as ``\uXXXX`` (upper-case
      hex, one per UTF-16 code unit, so an emoji becomes a surrogate pair). Its ``\'`` is not
      valid JSON, hence the replaceAll idiom above. CHOICE: arguments that are not strings
      are converted with toString().
    * ``parseJson``: parses like ``$input.path``. Invalid JSON raises ``TemplateRuntimeError``.
    * ``urlEncode``/``urlDecode``: java.net.URLEncoder/URLDecoder with UTF-8. A space
      becomes ``+``, ``. - * _`` and alphanumerics stay as they are, everything else becomes
      upper-case %XX. A malformed escape in urlDecode raises.
    * ``base64Encode``/``base64Decode``: standard alphabet with padding, strings as UTF-8.

$context and overrides ([DOC-OVR])
    * ``context=`` is deep-merged over ``default_context()``. Dicts become Java maps.
      ``$context.authorizer.claims`` on its own renders as "" ([DOC-REF]: "Calling
      $context.authorizer.claims returns null"), but its properties work.
    * ``#set($context.responseOverride.status = 409)`` and
      ``#set($context.responseOverride.header.Name = "...")`` go to
      ``Rendered.status_override`` (an int) and ``Rendered.header_overrides``. The
      ``$context.requestOverride.header/querystring/path`` maps go to
      ``Rendered.request_overrides``. You can read values back after setting them. Setting
      the same parameter twice raises ``OverrideConflictError`` ([DOC-OVR]: "Overrides are
      final ... will result in 5XX"). A status that is not an integer from 100 to 599 raises.

Not emulated
    Validating that the output is the JSON a given integration needs, and choosing a
    template by content type. Quirks of Java's ``toLowerCase``/``toUpperCase`` that depend
    on the locale. ``#break``. JSONPath filters. Velocity's parse-time errors for inputs
    that airspeed accepts.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json as _json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import airspeed
from airspeed import operators as _ops

__all__ = [
    "MappingTemplateError",
    "OverrideConflictError",
    "Rendered",
    "RequestParams",
    "TemplateRuntimeError",
    "TemplateSyntaxError",
    "default_context",
    "render",
]


# =============================================================================================
# Public data types and errors
# =============================================================================================


@dataclass(frozen=True)
class RequestParams:
    """Method request parameters, as seen through ``$input.params()``."""

    path: Mapping[str, str] = field(default_factory=dict)
    querystring: Mapping[str, str] = field(default_factory=dict)
    header: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """Result of rendering a mapping template."""

    text: str
    status_override: int | None
    header_overrides: dict[str, str]
    #: ``{"header": {...}, "querystring": {...}, "path": {...}}`` from ``$context.requestOverride``
    request_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Diagnostics for things API Gateway silently renders as "" (e.g. unknown methods).
    warnings: tuple[str, ...] = ()

    def json(self) -> Any:
        """Parse :attr:`text` as JSON; raise ``AssertionError`` showing the text if it is invalid."""
        try:
            return _json.loads(self.text)
        except _json.JSONDecodeError as exc:
            lines = self.text.splitlines() or [""]
            numbered = "\n".join(f"{n:>4} | {line}" for n, line in enumerate(lines, 1))
            raise AssertionError(
                f"mapping template output is not valid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno})\n{numbered}"
            ) from None


class MappingTemplateError(Exception):
    """Base class for template failures (API Gateway would answer with an error status)."""


class TemplateSyntaxError(MappingTemplateError):
    """The template cannot be parsed."""


class TemplateRuntimeError(MappingTemplateError):
    """A Java exception or an unsupported construct while rendering (a 5XX on API Gateway)."""


class OverrideConflictError(MappingTemplateError):
    """The same request/response override was set twice ("Overrides are final")."""


class _JavaException(Exception):
    """Raised by emulated Java methods; converted to TemplateRuntimeError with a location."""


class _NoSuchMethod(Exception):
    """No Java method with this name and argument types: Velocity returns null."""


# =============================================================================================
# Java value model
# =============================================================================================


class _JavaMap(dict):
    """A java.util.LinkedHashMap: insertion ordered, ``toString()`` is ``{k=v, k2=v2}``."""

    def java_to_string(self) -> str:
        parts = (
            f"{_java_str(k)}={'(this Map)' if v is self else _java_str(v)}" for k, v in self.items()
        )
        return "{" + ", ".join(parts) + "}"

    # Hooks used by the interpreter; subclasses customise lookups and writes.
    def vtl_lookup(self, key: Any) -> Any:
        try:
            return self.get(key)
        except TypeError:  # unhashable key (a list or map): no such entry
            return None

    def vtl_contains(self, key: Any) -> bool:
        try:
            return key in self
        except TypeError:
            return False

    def vtl_put(self, key: Any, value: Any) -> Any:
        previous = self.get(key)
        self[key] = value
        return previous

    def vtl_remove(self, key: Any) -> Any:
        return self.pop(key, None)


class _CaseInsensitiveMap(_JavaMap):
    """Header map: keeps the caller's spelling, looks keys up case-insensitively."""

    def _find(self, key: Any) -> Any:
        if isinstance(key, str):
            folded = key.lower()
            for existing in self:
                if isinstance(existing, str) and existing.lower() == folded:
                    return existing
        return key

    def vtl_lookup(self, key: Any) -> Any:
        return self.get(self._find(key))

    def vtl_contains(self, key: Any) -> bool:
        return self._find(key) in self

    def vtl_put(self, key: Any, value: Any) -> Any:
        return super().vtl_put(self._find(key), value)

    def vtl_remove(self, key: Any) -> Any:
        return self.pop(self._find(key), None)


class _ClaimsMap(_JavaMap):
    """``$context.authorizer.claims``: rendering the map itself yields null (see [DOC-REF])."""

    def java_to_string(self) -> str | None:  # type: ignore[override]
        return None


class _JavaList(list):
    """A java.util.ArrayList: ``toString()`` is ``[a, b]``."""

    def java_to_string(self) -> str:
        return "[" + ", ".join("(this Collection)" if v is self else _java_str(v) for v in self) + "]"


class _JsonArray(_JavaList):
    """A json-smart JSONArray (what JsonPath returns for arrays): ``toString()`` is compact JSON."""

    def java_to_string(self) -> str:
        return _json_smart_dumps(self, escape_slash=True)


class _JavaArray(_JavaList):
    """A Java ``String[]`` (from split): list methods work, toString is the array identity."""

    def java_to_string(self) -> str:
        return "[Ljava.lang.String;@1b6d3586"


class _MapEntry:
    def __init__(self, key: Any, value: Any) -> None:
        self.key, self.value = key, value

    def vtl_get(self, name: str) -> Any:
        return {"key": self.key, "value": self.value}.get(name)

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        _expect(args)
        if name == "getKey":
            return self.key
        if name == "getValue":
            return self.value
        if name == "toString":
            return self.java_to_string()
        raise _NoSuchMethod

    def java_to_string(self) -> str:
        return f"{_java_str(self.key)}={_java_str(self.value)}"


def _java_str(value: Any) -> str:
    """Java ``String.valueOf(value)`` (null -> "null"; used for nested values)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    to_string = getattr(value, "java_to_string", None)
    if to_string is not None:
        result = to_string()
        return "null" if result is None else result
    if isinstance(value, Mapping):
        return _JavaMap(value).java_to_string()
    if isinstance(value, (list, tuple)):
        return _JavaList(value).java_to_string()
    return str(value)


def _java_double(x: float) -> str:
    """Java ``Double.toString``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)  # Python's shortest repr is in plain notation in this range
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    scientific_exponent = len(digits) + int(exponent) - 1
    text = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{scientific_exponent}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truthy(value: Any) -> bool:
    """Velocity 1.7: only null and Boolean.FALSE are false."""
    return not (value is None or value is False)


def _json_smart_escape(text: str, escape_slash: bool) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ch == "/" and escape_slash:
            out.append("\\/")
        elif code <= 0x1F or 0x7F <= code <= 0x9F or 0x2000 <= code <= 0x20FF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


def _json_smart_dumps(value: Any, *, escape_slash: bool) -> str:
    """Serialize like json-smart (compact). ``escape_slash`` selects its default (web-safe) style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "null" if math.isnan(value) or math.isinf(value) else _java_double(value)
    if isinstance(value, str):
        return '"' + _json_smart_escape(value, escape_slash) + '"'
    if isinstance(value, Mapping):
        items = (
            f'"{_json_smart_escape(_java_str(k), escape_slash)}":'
            f"{_json_smart_dumps(v, escape_slash=escape_slash)}"
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_smart_dumps(v, escape_slash=escape_slash) for v in value) + "]"
    return '"' + _json_smart_escape(_java_str(value), escape_slash) + '"'


def _json_to_vtl(value: Any) -> Any:
    """Parsed JSON -> the Java objects JsonPath hands to Velocity (LinkedHashMap / JSONArray)."""
    if isinstance(value, dict):
        return _JavaMap((k, _json_to_vtl(v)) for k, v in value.items())
    if isinstance(value, list):
        return _JsonArray(_json_to_vtl(v) for v in value)
    return value


def _to_vtl(value: Any) -> Any:
    """Plain Python data (context, stage variables) -> Java-like objects."""
    if isinstance(value, _JavaMap) or isinstance(value, _JavaList):
        return value
    if isinstance(value, Mapping):
        return _JavaMap((k, _to_vtl(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _JavaList(_to_vtl(v) for v in value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


# =============================================================================================
# JSONPath (Jayway semantics, subset)
# =============================================================================================


class _PathNotFound(Exception):
    pass


_NAME = re.compile(r"[^.\[\]\s]+")
_BRACKET = re.compile(r"\[\s*((?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\]'\"])*)\s*\]")


@functools.lru_cache(maxsize=512)
def _compile_jsonpath(path: str) -> tuple[tuple[tuple[Any, ...], ...], bool]:
    """Return (segments, definite). Segment kinds: name, index, names, indexes, slice, wild, deep."""
    path = path.strip()
    if not path.startswith("$"):
        raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: path must start with $: {path!r}")
    segments: list[tuple[Any, ...]] = []
    i = 1
    while i < len(path):
        if path.startswith("..", i):
            i += 2
            if path.startswith("[", i):
                inner, i = _bracket_segment(path, i)
            else:
                inner, i = _dot_segment(path, i)
            segments.append(("deep", inner))
        elif path[i] == ".":
            inner, i = _dot_segment(path, i + 1)
            segments.append(inner)
        elif path[i] == "[":
            inner, i = _bracket_segment(path, i)
            segments.append(inner)
        else:
            raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: unexpected {path[i]!r} in {path!r}")
    definite = all(seg[0] in ("name", "index") for seg in segments)
    return tuple(segments), definite


def _dot_segment(path: str, i: int) -> tuple[tuple[Any, ...], int]:
    match = _NAME.match(path, i)
    if not match:
        raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: missing property name in {path!r}")
    name = match.group(0)
    return (("wild",) if name == "*" else ("name", name)), match.end()


def _bracket_segment(path: str, i: int) -> tuple[tuple[Any, ...], int]:
    match = _BRACKET.match(path, i)
    if not match:
        raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: unbalanced [ in {path!r}")
    body = match.group(1).strip()
    end = match.end()
    if body == "*":
        return ("wild",), end
    if body.startswith("?"):
        raise _JavaException(f"JSONPath filter expressions are not supported by this emulator: {path!r}")
    if body[:1] in ("'", '"'):
        names = [_unquote(part.strip()) for part in _split_top_level(body)]
        return (("name", names[0]) if len(names) == 1 else ("names", names)), end
    if ":" in body:
        start, _, stop = body.partition(":")
        return ("slice", _int_or_none(start, path), _int_or_none(stop, path)), end
    indexes = [_int_or_none(part, path) for part in body.split(",")]
    if any(index is None for index in indexes):
        raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: bad index in {path!r}")
    return (("index", indexes[0]) if len(indexes) == 1 else ("indexes", indexes)), end


def _split_top_level(body: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", body)]


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _int_or_none(text: str, path: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise _JavaException(f"com.jayway.jsonpath.InvalidPathException: bad index {text!r} in {path!r}") from None


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _apply_segment(segment: tuple[Any, ...], node: Any) -> list[Any]:
    kind = segment[0]
    if kind == "name":
        return [node[segment[1]]] if isinstance(node, dict) and segment[1] in node else []
    if kind == "names":
        return [node[n] for n in segment[1] if isinstance(node, dict) and n in node]
    if kind in ("index", "indexes"):
        if not isinstance(node, list):
            return []
        wanted = [segment[1]] if kind == "index" else segment[1]
        return [node[i] for i in wanted if -len(node) <= i < len(node)]
    if kind == "slice":
        return list(node[segment[1] : segment[2]]) if isinstance(node, list) else []
    if kind == "wild":
        return _children(node)
    if kind == "deep":
        found: list[Any] = []
        stack = [node]
        while stack:
            current = stack.pop()
            found.extend(_apply_segment(segment[1], current))
            stack.extend(reversed(_children(current)))
        return found
    raise AssertionError(kind)  # pragma: no cover


def _jsonpath_read(document: Any, path: str) -> Any:
    """Jayway ``JsonPath.read``: one value for a definite path, a JSONArray otherwise."""
    segments, definite = _compile_jsonpath(path)
    nodes = [document]
    for segment in segments:
        nodes = [found for node in nodes for found in _apply_segment(segment, node)]
    if definite:
        if not nodes:
            raise _PathNotFound(path)
        return nodes[0]
    return nodes


# =============================================================================================
# Java String / regex helpers
# =============================================================================================

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))


def _u16(text: str) -> str:
    """Represent ``text`` as UTF-16 code units (astral chars -> surrogate pairs), Java-style."""
    if not _ASTRAL.search(text):
        return text

    def split(match: re.Match[str]) -> str:
        code = ord(match.group(0)) - 0x10000
        return chr(0xD800 | (code >> 10)) + chr(0xDC00 | (code & 0x3FF))

    return _ASTRAL.sub(split, text)


def _from_u16(units: str) -> str:
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


_POSIX_CLASSES = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0B\\f\\r",
}


@functools.lru_cache(maxsize=512)
def _java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a java.util.regex pattern with Python's ``re`` (ASCII classes like Java's default)."""
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if nxt == "z":
                out.append(r"\Z")
            elif nxt == "Z":
                out.append(r"(?=\n?\Z)")
            elif nxt in "pP" and pattern.startswith("{", i + 2):
                close = pattern.find("}", i + 3)
                name = pattern[i + 3 : close].removeprefix("Is") if close > 0 else ""
                body = _POSIX_CLASSES.get(name)
                if body is None or (nxt == "P" and in_class):
                    raise _JavaException(f"unsupported regex class \\{nxt}{{{name}}} in {pattern!r}")
                out.append(body if in_class else f"[{'^' if nxt == 'P' else ''}{body}]")
                i = close + 1
                continue
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            if ch == "]" and out[-1] not in ("[", "[^"):
                in_class = False
        elif ch == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
                continue
        elif pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        out.append(ch)
        i += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except re.error as exc:
        raise _JavaException(f"java.util.regex.PatternSyntaxException: {exc} in {pattern!r}") from None


def _java_replacement(replacement: str, regex: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    """Compile a ``Matcher.appendReplacement`` string (``$1``, ``${name}``, ``\\x``)."""
    parts: list[str | int] = []  # str literal or group reference
    i, n = 0, len(replacement)
    while i < n:
        ch = replacement[i]
        if ch == "\\":
            if i + 1 >= n:
                raise _JavaException("java.lang.IllegalArgumentException: character to be escaped is missing")
            parts.append(replacement[i + 1])
            i += 2
        elif ch == "$":
            if i + 1 >= n:
                raise _JavaException("java.lang.IllegalArgumentException: Illegal group reference: missing index")
            if replacement[i + 1] == "{":
                close = replacement.find("}", i + 2)
                name = replacement[i + 2 : close] if close > 0 else ""
                if not name or name not in regex.groupindex:
                    raise _JavaException(f"java.lang.IllegalArgumentException: No group with name {{{name}}}")
                parts.append(regex.groupindex[name])
                i = close + 1
            elif replacement[i + 1].isdigit():
                number = int(replacement[i + 1])
                i += 2
                while i < n and replacement[i].isdigit() and number * 10 + int(replacement[i]) <= regex.groups:
                    number = number * 10 + int(replacement[i])
                    i += 1
                if number > regex.groups:
                    raise _JavaException(f"java.lang.IndexOutOfBoundsException: No group {number}")
                parts.append(number)
            else:
                raise _JavaException("java.lang.IllegalArgumentException: Illegal group reference")
        else:
            parts.append(ch)
            i += 1

    def expand(match: re.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (match.group(p) or "") for p in parts)

    return expand


def _java_split(text: str, pattern: str, limit: int = 0) -> list[str]:
    regex = _java_regex(pattern)
    pieces: list[str] = []
    index = 0
    for match in regex.finditer(text):
        if limit > 0 and len(pieces) >= limit - 1:
            break
        if match.end() == 0:  # Java 8+: no leading empty string for a zero-width match at 0
            continue
        pieces.append(text[index : match.start()])
        index = match.end()
    if index == 0 and not pieces:
        return [text]
    pieces.append(text[index:])
    if limit == 0:
        while pieces and pieces[-1] == "":
            pieces.pop()
    return pieces


def _expect(args: list[Any], *kinds: type) -> None:
    """Overload check: ``str`` / ``int`` parameters must match; ``object`` takes anything."""
    if len(args) != len(kinds):
        raise _NoSuchMethod
    for arg, kind in zip(args, kinds, strict=True):
        if kind is str and not isinstance(arg, str):
            raise _NoSuchMethod
        if kind is int and (not isinstance(arg, int) or isinstance(arg, bool)):
            raise _NoSuchMethod


def _check_range(begin: int, end: int, length: int) -> None:
    if begin < 0 or end > length or begin > end:
        raise _JavaException(
            f"java.lang.StringIndexOutOfBoundsException: begin {begin}, end {end}, length {length}"
        )


def _string_method(s: str, name: str, args: list[Any]) -> Any:
    n = len(args)
    if name == "length":
        _expect(args)
        return len(_u16(s))
    if name == "isEmpty":
        _expect(args)
        return s == ""
    if name == "trim":
        _expect(args)
        return s.strip(_JAVA_TRIM)
    if name in ("toLowerCase", "toUpperCase"):
        _expect(args)
        return s.lower() if name == "toLowerCase" else s.upper()
    if name in ("toString", "intern"):
        _expect(args)
        return s
    if name == "contains":
        _expect(args, str)
        return args[0] in s
    if name == "startsWith":
        if n == 2:
            _expect(args, str, int)
            units = _u16(s)
            return 0 <= args[1] <= len(units) and units.startswith(_u16(args[0]), args[1])
        _expect(args, str)
        return s.startswith(args[0])
    if name == "endsWith":
        _expect(args, str)
        return s.endswith(args[0])
    if name == "equals":
        _expect(args, object)
        return isinstance(args[0], str) and args[0] == s
    if name == "equalsIgnoreCase":
        _expect(args, object)
        return isinstance(args[0], str) and args[0].lower() == s.lower()
    if name == "concat":
        _expect(args, str)
        return s + args[0]
    if name in ("indexOf", "lastIndexOf"):
        if n == 2:
            _expect(args, str, int)
        else:
            _expect(args, str)
        units, needle = _u16(s), _u16(args[0])
        if name == "indexOf":
            return units.find(needle, max(args[1], 0)) if n == 2 else units.find(needle)
        if n == 2:
            return -1 if args[1] < 0 else units.rfind(needle, 0, args[1] + len(needle))
        return units.rfind(needle)
    if name == "substring":
        units = _u16(s)
        if n == 1:
            _expect(args, int)
            begin, end = args[0], len(units)
        else:
            _expect(args, int, int)
            begin, end = args
        _check_range(begin, end, len(units))
        return _from_u16(units[begin:end])
    if name == "charAt":
        _expect(args, int)
        units = _u16(s)
        if not 0 <= args[0] < len(units):
            raise _JavaException(f"java.lang.StringIndexOutOfBoundsException: index {args[0]}, length {len(units)}")
        return _from_u16(units[args[0]])
    if name == "compareTo":
        _expect(args, str)
        a, b = _u16(s), _u16(args[0])
        for x, y in zip(a, b, strict=False):
            if x != y:
                return ord(x) - ord(y)
        return len(a) - len(b)
    if name == "replace":
        _expect(args, str, str)
        return s.replace(args[0], args[1])
    if name in ("replaceAll", "replaceFirst"):
        _expect(args, str, str)
        regex = _java_regex(args[0])
        return regex.sub(_java_replacement(args[1], regex), s, count=1 if name == "replaceFirst" else 0)
    if name == "matches":
        _expect(args, str)
        return _java_regex(args[0]).fullmatch(s) is not None
    if name == "split":
        if n == 2:
            _expect(args, str, int)
        else:
            _expect(args, str)
        return _JavaArray(_java_split(s, *args))
    raise _NoSuchMethod


def _map_method(m: _JavaMap, name: str, args: list[Any]) -> Any:
    if name == "get":
        _expect(args, object)
        return m.vtl_lookup(args[0])
    if name == "getOrDefault":
        _expect(args, object, object)
        return m.vtl_lookup(args[0]) if m.vtl_contains(args[0]) else args[1]
    if name == "containsKey":
        _expect(args, object)
        return m.vtl_contains(args[0])
    if name == "containsValue":
        _expect(args, object)
        return args[0] in m.values()
    if name == "keySet":
        _expect(args)
        return _JavaList(m.keys())
    if name == "values":
        _expect(args)
        return _JavaList(m.values())
    if name == "entrySet":
        _expect(args)
        return _JavaList(_MapEntry(k, v) for k, v in m.items())
    if name == "size":
        _expect(args)
        return len(m)
    if name == "isEmpty":
        _expect(args)
        return len(m) == 0
    if name == "put":
        _expect(args, object, object)
        return m.vtl_put(args[0], args[1])
    if name == "putAll":
        _expect(args, object)
        if not isinstance(args[0], Mapping):
            raise _NoSuchMethod
        for key, value in list(args[0].items()):
            m.vtl_put(key, value)
        return None
    if name == "remove":
        _expect(args, object)
        return m.vtl_remove(args[0])
    if name == "equals":
        _expect(args, object)
        return isinstance(args[0], Mapping) and dict(m) == dict(args[0])
    if name == "toString":
        _expect(args)
        return _java_str(m)
    raise _NoSuchMethod


def _list_index(items: list[Any], index: int, *, allow_end: bool = False) -> int:
    if not 0 <= index < len(items) + (1 if allow_end else 0):
        raise _JavaException(
            f"java.lang.IndexOutOfBoundsException: Index {index} out of bounds for length {len(items)}"
        )
    return index


def _list_method(items: _JavaList, name: str, args: list[Any]) -> Any:
    if name == "size":
        _expect(args)
        return len(items)
    if name == "isEmpty":
        _expect(args)
        return len(items) == 0
    if name == "get":
        _expect(args, int)
        return items[_list_index(items, args[0])]
    if name == "contains":
        _expect(args, object)
        return args[0] in items
    if name in ("indexOf", "lastIndexOf"):
        _expect(args, object)
        positions = [i for i, item in enumerate(items) if item == args[0]]
        if not positions:
            return -1
        return positions[0] if name == "indexOf" else positions[-1]
    if name == "add":
        if len(args) == 2:
            _expect(args, int, object)
            items.insert(_list_index(items, args[0], allow_end=True), args[1])
            return None
        _expect(args, object)
        items.append(args[0])
        return True
    if name == "addAll":
        _expect(args, object)
        if not isinstance(args[0], list):
            raise _NoSuchMethod
        items.extend(args[0])
        return bool(args[0])
    if name == "set":
        _expect(args, int, object)
        index = _list_index(items, args[0])
        previous, items[index] = items[index], args[1]
        return previous
    if name == "remove":
        _expect(args, object)
        if _is_number(args[0]) and isinstance(args[0], int):
            return items.pop(_list_index(items, args[0]))
        if args[0] in items:
            items.remove(args[0])
            return True
        return False
    if name == "subList":
        _expect(args, int, int)
        if not 0 <= args[0] <= args[1] <= len(items):
            raise _JavaException(f"java.lang.IndexOutOfBoundsException: subList({args[0]}, {args[1]})")
        return _JavaList(items[args[0] : args[1]])
    if name == "equals":
        _expect(args, object)
        return isinstance(args[0], list) and list(items) == list(args[0])
    if name == "toString":
        _expect(args)
        return _java_str(items)
    raise _NoSuchMethod


def _scalar_method(value: Any, name: str, args: list[Any]) -> Any:
    if name == "toString":
        _expect(args)
        return _java_str(value)
    if name == "equals":
        _expect(args, object)
        return type(args[0]) is type(value) and args[0] == value
    if isinstance(value, bool):
        if name == "booleanValue":
            _expect(args)
            return value
        raise _NoSuchMethod
    if name in ("intValue", "longValue"):
        _expect(args)
        return int(value)
    if name == "doubleValue":
        _expect(args)
        return float(value)
    if name == "compareTo":
        _expect(args, object)
        if not _is_number(args[0]):
            raise _NoSuchMethod
        return (value > args[0]) - (value < args[0])
    raise _NoSuchMethod


# =============================================================================================
# $util, $input, overrides
# =============================================================================================


def _escape_javascript(text: str) -> str:
    """Commons-Lang ``StringEscapeUtils.escapeJavaScript`` (UTF-16 code units, upper-case hex)."""
    out = []
    for ch in _u16(text):
        code = ord(ch)
        if ch in "'\"\\/":
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20 or code > 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


def _url_encode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``."""
    out = []
    for ch in text:
        if ch in _URL_SAFE:
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "replace"))
    return "".join(out)


_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _url_decode(text: str) -> str:
    """``java.net.URLDecoder.decode(text, "UTF-8")`` (malformed escapes raise)."""
    stray = re.search(r"%(?![0-9A-Fa-f]{2})", text)
    if stray:
        raise _JavaException(
            "java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) "
            f"pattern at index {stray.start()}"
        )
    plus_decoded = text.replace("+", " ")
    return _PERCENT_RUN.sub(
        lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8", "replace"), plus_decoded
    )


class _Util:
    """``$util``."""

    def vtl_get(self, name: str) -> Any:
        return None

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        _expect(args, object)
        arg = args[0]
        if name not in ("escapeJavaScript", "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode"):
            raise _NoSuchMethod
        if arg is None:
            return None
        text = _java_str(arg)
        if name == "escapeJavaScript":
            return _escape_javascript(text)
        if name == "parseJson":
            try:
                return _json_to_vtl(_json.loads(text))
            except ValueError as exc:
                raise _JavaException(f"$util.parseJson: invalid JSON: {exc}") from None
        if name == "urlEncode":
            return _url_encode(text)
        if name == "urlDecode":
            return _url_decode(text)
        if name == "base64Encode":
            return base64.b64encode(text.encode("utf-8")).decode("ascii")
        try:
            return base64.b64decode(re.sub(r"\s+", "", text)).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            raise _JavaException(f"java.lang.IllegalArgumentException: invalid base64: {exc}") from None

    def java_to_string(self) -> str:
        return "$util"


_NOT_JSON = object()


class _Input:
    """``$input``."""

    def __init__(self, body: str, params: RequestParams) -> None:
        self._body = body
        self._params = params
        self._all_params: _JavaMap | None = None
        self._document: Any = None
        if body == "":
            self._document = {}
        else:
            try:
                self._document = _json.loads(body)
            except ValueError:
                self._document = _NOT_JSON

    def _read(self, path: str) -> Any:
        """Raw (Python) value at ``path``; raises _PathNotFound."""
        if self._document is _NOT_JSON:
            segments, _ = _compile_jsonpath(path)
            if segments:
                raise _PathNotFound(path)
            return self._body
        return _jsonpath_read(self._document, path)

    def vtl_get(self, name: str) -> Any:
        if name == "body":
            return self._body or "{}"
        return None

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        if name == "params":
            if not args:
                return self._params_map()
            _expect(args, object)
            return self._param(args[0])
        if name == "path":
            _expect(args, str)
            try:
                return _json_to_vtl(self._read(args[0]))
            except _PathNotFound:
                return None
        if name == "json":
            _expect(args, str)
            try:
                return _json_smart_dumps(self._read(args[0]), escape_slash=False)
            except _PathNotFound:
                return '""'
        raise _NoSuchMethod

    def _params_map(self) -> _JavaMap:
        if self._all_params is None:
            self._all_params = _JavaMap(
                path=_JavaMap(self._params.path),
                querystring=_JavaMap(self._params.querystring),
                header=_CaseInsensitiveMap(self._params.header),
            )
        return self._all_params

    def _param(self, name: Any) -> str:
        params = self._params_map()
        for location in ("path", "querystring", "header"):
            source = params.get(location)
            if isinstance(source, _JavaMap) and source.vtl_contains(name):
                value = source.vtl_lookup(name)
                if value is not None:
                    return value
        return ""

    def java_to_string(self) -> str:
        return "$input"


class _OverrideMap(_JavaMap):
    """``$context.requestOverride.header`` etc.: every parameter may be set only once."""

    def __init__(self, label: str, *, case_insensitive: bool) -> None:
        super().__init__()
        self._label = label
        self._case_insensitive = case_insensitive

    def _key(self, key: Any) -> str:
        return _java_str(key)

    def vtl_lookup(self, key: Any) -> Any:
        key = self._key(key)
        for existing, value in self.items():
            if existing == key or (self._case_insensitive and existing.lower() == key.lower()):
                return value
        return None

    def vtl_contains(self, key: Any) -> bool:
        return self.vtl_lookup(key) is not None

    def vtl_put(self, key: Any, value: Any) -> Any:
        key = self._key(key)
        if self.vtl_contains(key):
            raise OverrideConflictError(
                f"$context.{self._label}.{key} is overridden twice; API Gateway answers 5XX "
                "('Overrides are final. An override may only be applied to each parameter once.')"
            )
        self[key] = value
        return None

    def vtl_remove(self, key: Any) -> Any:
        raise _JavaException(f"overrides cannot be removed ($context.{self._label}.{key})")

    def as_dict(self) -> dict[str, Any]:
        return {
            k: [_java_str(x) for x in v] if isinstance(v, list) else _java_str(v) for k, v in self.items()
        }


class _FixedKeysMap(_JavaMap):
    """``$context.requestOverride`` / ``$context.responseOverride`` containers."""

    def __init__(self, label: str, settable: Iterable[str], warn: Callable[[str], None]) -> None:
        super().__init__()
        self._label = label
        self._settable = frozenset(settable)
        self._warn = warn

    def vtl_put(self, key: Any, value: Any) -> Any:
        key = _java_str(key)
        if key not in self._settable:
            self._warn(f"#set($context.{self._label}.{key} = ...) has no effect (ignored)")
            return None
        if key in self:
            raise OverrideConflictError(f"$context.{self._label}.{key} is overridden twice; API Gateway answers 5XX")
        self[key] = value
        return None

    def vtl_remove(self, key: Any) -> Any:
        raise _JavaException(f"overrides cannot be removed ($context.{self._label}.{key})")


def _status_code(value: Any) -> int | None:
    if value is None:
        return None
    text = _java_str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{3}", text) or not 100 <= int(text) <= 599:
        raise TemplateRuntimeError(
            f"$context.responseOverride.status = {_java_str(value)!r} is not a valid HTTP status code "
            "(API Gateway answers 5XX)"
        )
    return int(text)


# =============================================================================================
# Interpreter over airspeed's parse tree
# =============================================================================================

_PRECEDENCE = {
    "||": 1, "or": 1,
    "&&": 2, "and": 2,
    "==": 3, "!=": 3, "eq": 3, "ne": 3,
    "<": 4, ">": 4, "<=": 4, ">=": 4, "lt": 4, "gt": 4, "le": 4, "ge": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "%": 6,
}  # fmt: skip
_CANONICAL_OP = {"or": "||", "and": "&&", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_MISSING = object()


@functools.lru_cache(maxsize=256)
def _parse(template: str) -> _ops.TemplateBody:
    try:
        parsed = airspeed.Template(template)
        parsed.ensure_compiled()
    except airspeed.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(str(exc)) from None
    return parsed.root_element


class _ForeachState:
    def __init__(self, index: int, total: int, parent: Any) -> None:
        self.index, self.total, self.parent = index, total, parent

    def vtl_get(self, name: str) -> Any:
        return {
            "index": self.index,
            "count": self.index + 1,
            "hasNext": self.index + 1 < self.total,
            "first": self.index == 0,
            "last": self.index + 1 == self.total,
            "parent": self.parent,
        }.get(name)

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        _expect(args)
        aliases = {"hasNext": "hasNext", "getIndex": "index", "getCount": "count", "isFirst": "first",
                   "isLast": "last", "getHasNext": "hasNext", "getParent": "parent"}  # fmt: skip
        if name not in aliases:
            raise _NoSuchMethod
        return self.vtl_get(aliases[name])


class _DefineBlock:
    """A ``#define($name)`` block: rendered each time ``$name`` is rendered."""

    def __init__(self, block: _ops.Block, interpreter: _Interpreter) -> None:
        self.block, self.interpreter = block, interpreter

    def java_to_string(self) -> str:
        return self.interpreter.render_to_string(self.block)


def _location(node: _ops._Element) -> str:
    text = node.full_text()
    line = text.count("\n", 0, node.start) + 1
    column = node.start - text.rfind("\n", 0, node.start)
    snippet = node.my_text().splitlines()[0] if node.my_text() else ""
    return f"line {line}, column {column} ({snippet[:60]!r})"


class _Interpreter:
    def __init__(self, variables: dict[str, Any], warnings: list[str]) -> None:
        self.vars = variables
        self.macros: dict[str, _ops.MacroDefinition] = {}
        self.stopped = False
        self.warnings = warnings  # shared with the override maps

    # ------------------------------------------------------------------ output
    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def render(self, root: _ops.TemplateBody) -> str:
        self._register_macros(root)
        return self.render_to_string(root.block)

    def render_to_string(self, block: _ops.Block) -> str:
        out: list[str] = []
        self.render_block(block, out)
        return "".join(out)

    def render_block(self, block: _ops.Block, out: list[str]) -> None:
        for child in block.children:
            if self.stopped:
                return
            try:
                self.render_node(child, out)
            except MappingTemplateError:
                raise
            except _JavaException as exc:
                raise TemplateRuntimeError(f"{_location(child)}: {exc}") from exc

    def render_node(self, node: _ops._Element, out: list[str]) -> None:
        kind = type(node)
        if kind in (_ops.Text, _ops.FallthroughHashText):
            out.append(node.text)
        elif kind is _ops.FormalReference:
            out.append(self.render_reference(node))
        elif kind in (_ops.Comment, _ops.MacroDefinition):
            pass  # macros are registered before rendering, like Velocity does at parse time
        elif kind is _ops.SetDirective:
            self.assign(node.assignment)
        elif kind is _ops.IfDirective:
            self.render_if(node, out)
        elif kind is _ops.ForeachDirective:
            self.render_foreach(node, out)
        elif kind is _ops.MacroCall:
            self.render_macro_call(node, out)
        elif kind is _ops.DefineDefinition:
            self.vars[node.function_name] = _DefineBlock(node.block, self)
        elif kind is _ops.StopDirective:
            self.stopped = True
        elif kind is _ops.ReturnDirective:  # airspeed extension; not a Velocity 1.7 directive
            self.warn("#return is not a Velocity 1.7 directive; rendered literally")
            out.append(node.my_text())
        elif kind is _ops.EvaluateDirective:
            source = self.value(node.value)
            self.render_block(_parse(_java_str(source) if source is not None else "").block, out)
        elif kind in (_ops.IncludeDirective, _ops.ParseDirective):
            raise TemplateRuntimeError(f"{_location(node)}: #include/#parse are not available in mapping templates")
        else:
            raise TemplateRuntimeError(f"{_location(node)}: unsupported template element {kind.__name__}")

    def render_reference(self, ref: _ops.FormalReference) -> str:
        if ref.expression is None:  # "$" not followed by an identifier: plain text
            return ref.my_text()
        return self.to_text(self.reference_value(ref))

    def to_text(self, value: Any) -> str:
        """Velocity rendering of a value; API Gateway renders null as ""."""
        if value is None:
            return ""
        text = getattr(value, "java_to_string", None)
        if text is not None:
            rendered = text()
            return "" if rendered is None else rendered
        return _java_str(value)

    # ------------------------------------------------------------------ directives
    def _register_macros(self, node: Any) -> None:
        if isinstance(node, _ops.MacroDefinition):
            self.macros[node.function_name.lower()] = node
        if isinstance(node, _ops._Element):
            for child in vars(node).values():
                if isinstance(child, (_ops._Element, list)):
                    self._register_macros(child)
        elif isinstance(node, list):
            for child in node:
                self._register_macros(child)

    def render_if(self, node: _ops.IfDirective, out: list[str]) -> None:
        if _truthy(self.value(node.condition.expression)):
            self.render_block(node.block, out)
            return
        for branch in node.elseifs:
            if _truthy(self.value(branch.condition.expression)):
                self.render_block(branch.block, out)
                return
        if isinstance(node.else_block, _ops.ElseBlock):
            self.render_block(node.else_block.block, out)

    def render_foreach(self, node: _ops.ForeachDirective, out: list[str]) -> None:
        collection = self.value(node.value)
        if isinstance(collection, Mapping):
            items = list(collection.values())
        elif isinstance(collection, (list, tuple, range)):
            items = list(collection)
        else:
            self.warn(f"#foreach over a non-collection ({self.to_text(collection)!r}): no iterations")
            return
        names = (node.loop_var_name, "foreach", "velocityCount", "velocityHasNext")
        saved = {name: self.vars.get(name, _MISSING) for name in names}
        parent = saved["foreach"] if saved["foreach"] is not _MISSING else None
        try:
            for index, item in enumerate(items):
                self.vars[node.loop_var_name] = item
                self.vars["foreach"] = _ForeachState(index, len(items), parent)
                self.vars["velocityCount"] = index + 1
                self.vars["velocityHasNext"] = index + 1 < len(items)
                self.render_block(node.block, out)
                if self.stopped:
                    break
        finally:
            for name, value in saved.items():
                if value is _MISSING:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = value

    def render_macro_call(self, node: _ops.MacroCall, out: list[str]) -> None:
        macro = self.macros.get(node.macro_name)
        if macro is None:
            self.warn(f"#{node.macro_name}(...) is not a defined macro; rendered literally")
            out.append(node.my_text())
            return
        values = [self.value(arg) for arg in node.args]
        if len(values) != len(macro.arg_names):
            self.warn(f"macro #{node.macro_name} expects {len(macro.arg_names)} arguments, got {len(values)}")
        saved = {name: self.vars.get(name, _MISSING) for name in macro.arg_names}
        try:
            for name, value in zip(macro.arg_names, values, strict=False):
                self.vars[name] = value
            self.render_block(macro.block, out)
        finally:
            for name, value in saved.items():
                if value is _MISSING:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = value

    def assign(self, assignment: _ops.Assignment) -> None:
        value = self.value(assignment.value)
        if value is None:
            self.warn(f"#set(${assignment.root_term}...) with a null value is ignored (Velocity 1.7)")
            return
        if not assignment.terms:
            self.vars[assignment.root_term] = value
            return
        target = self._nn(self.vars.get(assignment.root_term))
        keys = [(isinstance(t.term, _ops.DotDictAccessTerm), self._term_key(t.term)) for t in assignment.terms]
        for is_property, key in keys[:-1]:
            target = self._nn(self.get_property(target, key) if is_property else self.index(target, key))
        is_property, key = keys[-1]
        if isinstance(target, _JavaMap):
            target.vtl_put(key, value)
        elif isinstance(target, list) and not is_property and isinstance(key, int):
            target[self._list_position(target, key)] = value
        else:
            self.warn(f"cannot set {key!r} on {self.to_text(target)!r} (ignored)")

    def _term_key(self, term: Any) -> Any:
        return term.value if isinstance(term, _ops.DotDictAccessTerm) else self.value(term.value)

    # ------------------------------------------------------------------ expressions
    def value(self, node: Any) -> Any:
        kind = type(node)
        if kind is _ops.Value:
            return self.value(node.expression)
        if kind is _ops.FormalReference:
            return self.reference_value(node) if node.expression is not None else node.my_text()
        if kind in (_ops.IntegerLiteral, _ops.FloatingPointLiteral, _ops.BooleanLiteral, _ops.StringLiteral):
            return node.value
        if kind is _ops.InterpolatedStringLiteral:
            return self.render_to_string(node.block)
        if kind is _ops.NullLiteral:
            return None
        if kind is _ops.ParenthesizedExpression:
            return self.expression(node.calculate.__self__)
        if kind is _ops.Expression:
            return self.expression(node)
        if kind is _ops.UnaryOperatorValue:
            return not _truthy(self.value(node.value))
        if kind is _ops.ArrayLiteral:
            values = node.values
            if isinstance(values, _ops.Range):
                return self.range(values)
            if isinstance(values, _ops.ValueList):
                return _JavaList(self.value(v) for v in values.values)
            return _JavaList()
        if kind is _ops.DictionaryLiteral:
            return _JavaMap((self.value(k), self.value(v)) for k, v in node.local_data.items())
        if kind is _ops.Range:
            return self.range(node)
        raise TemplateRuntimeError(f"{_location(node)}: unsupported expression element {kind.__name__}")

    def range(self, node: _ops.Range) -> _JavaList:
        start, stop = self.value(node.value1), self.value(node.value2)
        if not (isinstance(start, int) and isinstance(stop, int)) or isinstance(start, bool) or isinstance(stop, bool):
            self.warn(f"range [{self.to_text(start)}..{self.to_text(stop)}] needs integers")
            return _JavaList()
        step = 1 if stop >= start else -1
        return _JavaList(range(start, stop + step, step))

    def expression(self, expr: _ops.Expression) -> Any:
        items = expr.expression
        operands: list[Any] = [items[0]]
        operators: list[str] = []
        for op_node, operand in zip(items[1::2], items[2::2], strict=False):
            op = op_node.my_text().strip()
            while operators and _PRECEDENCE[operators[-1]] >= _PRECEDENCE[op]:
                right, left = operands.pop(), operands.pop()
                operands.append((operators.pop(), left, right))
            operators.append(op)
            operands.append(operand)
        while operators:
            right, left = operands.pop(), operands.pop()
            operands.append((operators.pop(), left, right))
        return self._evaluate_tree(operands[0])

    def _evaluate_tree(self, tree: Any) -> Any:
        if not isinstance(tree, tuple):
            return self.value(tree)
        op, left, right = tree
        op = _CANONICAL_OP.get(op, op)
        if op == "&&":
            return _truthy(self._evaluate_tree(left)) and _truthy(self._evaluate_tree(right))
        if op == "||":
            return _truthy(self._evaluate_tree(left)) or _truthy(self._evaluate_tree(right))
        a, b = self._evaluate_tree(left), self._evaluate_tree(right)
        if op == "==":
            return _velocity_equals(a, b)
        if op == "!=":
            return not _velocity_equals(a, b)
        if op in ("<", ">", "<=", ">="):
            if not (_is_number(a) and _is_number(b)):
                self.warn(f"{self.to_text(a)!r} {op} {self.to_text(b)!r}: relational operators need numbers (false)")
                return False
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return self.arithmetic(op, a, b)

    def arithmetic(self, op: str, a: Any, b: Any) -> Any:
        if op == "+" and (isinstance(a, str) or isinstance(b, str)):
            return _java_str(a) + _java_str(b)
        if not (_is_number(a) and _is_number(b)):
            self.warn(f"{self.to_text(a)!r} {op} {self.to_text(b)!r}: arithmetic needs numbers (null)")
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            self.warn(f"{self.to_text(a)} {op} 0: division by zero (null)")
            return None
        if isinstance(a, int) and isinstance(b, int):
            quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
            return quotient if op == "/" else a - b * quotient
        return a / b if op == "/" else math.fmod(a, b)

    # ------------------------------------------------------------------ references
    @staticmethod
    def _nn(value: Any) -> Any:
        """API Gateway: a null reference step evaluates to the empty string."""
        return "" if value is None else value

    def reference_value(self, ref: _ops.FormalReference) -> Any:
        value = self.chain(ref.expression)
        if ref.alternate is not None and value in (None, ""):
            self.warn("${a|b} alternate values are Velocity 2 syntax")
            value = self.value(ref.alternate.expression)
        return value

    def chain(self, expr: _ops.VariableExpression) -> Any:
        head = expr.part
        current = self.vars.get(head.name)
        if head.parameters is not None:
            self.warn(f"${head.name}(...) is not a valid reference")
            current = None
        current = self._nn(current)
        if head.index is not None:
            current = self._nn(self.index(current, self.value(head.index.index)))
        sub = expr.subexpression
        while sub is not None:
            step = sub.expression
            if isinstance(step, _ops.VariableExpression):
                current = self.step(current, step.part)
                sub = step.subexpression
            else:
                current = self._nn(self.index(current, self.value(step.index)))
                sub = getattr(sub, "subexpression", None)
        return current

    def step(self, current: Any, part: _ops.NameOrCall) -> Any:
        if part.parameters is not None:
            args = [self.value(v) for v in getattr(part.parameters.values, "values", [])]
            result = self.call_method(current, part.name, args)
        else:
            result = self.get_property(current, part.name)
        result = self._nn(result)
        if part.index is not None:
            result = self._nn(self.index(result, self.value(part.index.index)))
        return result

    def get_property(self, target: Any, name: str) -> Any:
        """Velocity property lookup: getter / Map.get / isX()."""
        if isinstance(target, _JavaMap):
            return target.vtl_lookup(name)
        if isinstance(target, Mapping):
            return target.get(name)
        if hasattr(target, "vtl_get"):
            return target.vtl_get(name)
        if isinstance(target, (str, list)) and name == "empty":
            return len(target) == 0
        return None

    def call_method(self, target: Any, name: str, args: list[Any]) -> Any:
        try:
            if isinstance(target, str):
                return _string_method(target, name, args)
            if isinstance(target, _JavaMap):
                return _map_method(target, name, args)
            if isinstance(target, _JavaList):
                return _list_method(target, name, args)
            if isinstance(target, (bool, int, float)):
                return _scalar_method(target, name, args)
            if hasattr(target, "vtl_call"):
                return target.vtl_call(name, args)
            if isinstance(target, _DefineBlock) and name == "toString" and not args:
                return target.java_to_string()
        except _NoSuchMethod:
            pass
        described = ", ".join(type(a).__name__ for a in args)
        self.warn(f"no method {name}({described}) on {_java_type(target)}; rendered as empty string")
        return None

    def index(self, target: Any, key: Any) -> Any:
        if isinstance(target, _JavaMap):
            return target.vtl_lookup(key)
        if isinstance(target, list):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _JavaException(f"list index must be an integer, got {self.to_text(key)!r}")
            return target[self._list_position(target, key)]
        self.warn(f"cannot index {_java_type(target)} with [{self.to_text(key)}]")
        return None

    @staticmethod
    def _list_position(items: list[Any], index: int) -> int:
        position = index + len(items) if index < 0 else index
        if not 0 <= position < len(items):
            raise _JavaException(f"index {index} out of bounds for a list of size {len(items)}")
        return position


def _java_type(value: Any) -> str:
    if isinstance(value, str):
        return "String"
    if isinstance(value, _JsonArray):
        return "JSONArray"
    if isinstance(value, _JavaList):
        return "ArrayList"
    if isinstance(value, _JavaMap):
        return "LinkedHashMap"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Double"
    return type(value).__name__.lstrip("_")


def _velocity_equals(a: Any, b: Any) -> bool:
    """Velocity 1.7 ``==``: numbers numerically, related classes by equals(), else by toString()."""
    if _is_number(a) and _is_number(b):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) != isinstance(b, bool):
        return _java_str(a) == _java_str(b)
    if isinstance(a, type(b)) or isinstance(b, type(a)):
        return a == b
    return _java_str(a) == _java_str(b)


# =============================================================================================
# Context
# =============================================================================================

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _coerce_now(now: datetime | int | float | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if isinstance(now, datetime):
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    return datetime.fromtimestamp(now / 1000, timezone.utc)  # epoch milliseconds


def _clf_time(ts: datetime) -> str:
    return f"{ts.day:02d}/{_MONTHS[ts.month - 1]}/{ts.year}:{ts:%H:%M:%S} +0000"


def java_date(ts: datetime) -> str:
    """``java.util.Date.toString()`` in UTC, as Cognito authorizers pass ``iat`` and ``exp`` claims."""
    return f"{_WEEKDAYS[ts.weekday()]} {_MONTHS[ts.month - 1]} {ts.day:02d} {ts:%H:%M:%S} UTC {ts.year}"


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def default_context(*, email: str | None = None, now: datetime | int | None = None, **overrides: Any) -> dict[str, Any]:
    """A realistic REST API ``$context`` as a plain dict.

    ``email`` adds Cognito user-pool authorizer claims (``sub`` is a stable UUID derived from
    the email, so the same user always has the same ``sub``). ``now`` (datetime, or epoch
    milliseconds) fixes ``requestTime``/``requestTimeEpoch``. A fresh ``requestId`` is
    generated on each call. Keyword overrides are deep-merged, e.g.
    ``default_context(httpMethod="POST", identity={"sourceIp": "192.0.2.1"})``. ``path``
    is derived from ``stage`` and ``resourcePath`` unless given.
    """
    ts = _coerce_now(now)
    request_id = str(uuid.uuid4())
    api_id = "a1b2c3d4e5"
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": api_id,
        "domainName": f"{api_id}.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": api_id,
        "extendedRequestId": base64.b64encode(uuid.UUID(request_id).bytes[:11]).decode("ascii"),
        "httpMethod": "GET",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": _clf_time(ts),
        "requestTimeEpoch": int(ts.timestamp() * 1000),
        "resourceId": "abc123",
        "resourcePath": "/",
        "stage": "prod",
        "identity": {
            "sourceIp": "198.51.100.7",
            "userAgent": "apigw-vtl",
            "accountId": None,
            "apiKey": None,
            "apiKeyId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "user": None,
            "userArn": None,
        },
        "authorizer": {},
    }
    if email is not None:
        sub = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cognito-user:{email}"))
        issued = int(ts.timestamp())
        context["authorizer"] = {
            "claims": {
                "sub": sub,
                "email": email,
                "email_verified": "true",
                "cognito:username": sub,
                "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
                "aud": "exampleappclientid",
                "token_use": "id",
                "auth_time": str(issued),
                "iat": java_date(ts),
                "exp": java_date(ts + timedelta(hours=1)),
            }
        }
    context = _deep_merge(context, overrides)
    if "path" not in overrides:
        resource_path = context["resourcePath"]
        context["path"] = f"/{context['stage']}{resource_path if resource_path != '/' else '/'}"
    return context


def _build_context(context: Mapping[str, Any] | None) -> _JavaMap:
    merged = default_context() if context is None else _deep_merge(default_context(), context)
    java_context = _to_vtl(merged)
    authorizer = java_context.get("authorizer")
    if isinstance(authorizer, _JavaMap) and isinstance(authorizer.get("claims"), _JavaMap):
        authorizer["claims"] = _ClaimsMap(authorizer["claims"])
    return java_context


# =============================================================================================
# Public entry point
# =============================================================================================


def render(
    template: str,
    *,
    body: str | bytes = "",
    params: RequestParams | Mapping[str, Mapping[str, str]] = RequestParams(),
    context: Mapping[str, Any] | None = None,
    stage_variables: Mapping[str, str] | None = None,
) -> Rendered:
    """Render an API Gateway mapping template (see the module docstring for the semantics).

    ``body`` is the raw payload (``$input.body``): the method request body for a request
    template, the integration response body for a response template.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not isinstance(body, str):
        raise TypeError(f"body must be the raw payload as str/bytes, not {type(body).__name__}")
    if not isinstance(params, RequestParams):
        params = RequestParams(**params)
    tree = _parse(template)

    warnings: list[str] = []
    locations = ("header", "querystring", "path")
    request_override = _FixedKeysMap("requestOverride", (), warnings.append)
    for location in locations:
        override = _OverrideMap(f"requestOverride.{location}", case_insensitive=location == "header")
        dict.__setitem__(request_override, location, override)  # bypass vtl_put: these maps are fixed
    response_override = _FixedKeysMap("responseOverride", ("status",), warnings.append)
    dict.__setitem__(response_override, "header", _OverrideMap("responseOverride.header", case_insensitive=True))

    java_context = _build_context(context)
    java_context["requestOverride"] = request_override
    java_context["responseOverride"] = response_override

    variables = {
        "input": _Input(body, params),
        "util": _Util(),
        "context": java_context,
        "stageVariables": _to_vtl(dict(stage_variables or {})),
    }
    text = _Interpreter(variables, warnings).render(tree)
    return Rendered(
        text=text,
        status_override=_status_code(response_override.get("status")),
        header_overrides=response_override["header"].as_dict(),
        request_overrides={location: request_override[location].as_dict() for location in locations},
        warnings=tuple(dict.fromkeys(warnings)),
    )
