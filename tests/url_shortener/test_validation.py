"""Request bodies checked against the stack's own JSON schema models (draft 4, as API Gateway)."""
from __future__ import annotations

import jsonschema
import pytest

from stacks.url_shortener.api import URL_MAX_LENGTH


def _model(template_json: dict, name: str) -> dict:
    [schema] = [r["Properties"]["Schema"] for r in template_json["Resources"].values()
                if r["Type"] == "AWS::ApiGateway::Model" and r["Properties"].get("Name") == name]
    return schema


@pytest.fixture(scope="module")
def create_validator(shortener_template_json):
    return jsonschema.Draft4Validator(_model(shortener_template_json, "CreateLink"))


@pytest.fixture(scope="module")
def update_validator(shortener_template_json):
    return jsonschema.Draft4Validator(_model(shortener_template_json, "UpdateLink"))


@pytest.mark.parametrize("body", [
    {"id": "aws", "url": "https://aws.amazon.com"},
    {"id": "A_b-9", "url": "http://example.com:8080/path?q=1#frag"},
    {"id": "x" * 64, "url": "https://example.com/" + "p" * (URL_MAX_LENGTH - 20)},
    {"id": "quotes", "url": "https://example.com/a\"b'c\\d/ünï"},
])
def test_well_formed_links_are_accepted(create_validator, body):
    assert list(create_validator.iter_errors(body)) == []


@pytest.mark.parametrize("body, reason", [
    ({"url": "https://example.com"}, "missing id"),
    ({"id": "abc"}, "missing url"),
    ({"id": 42, "url": "https://example.com"}, "id not a string"),
    ({"id": "abc", "url": ["https://example.com"]}, "url not a string"),
    ({"id": "abc", "url": "javascript:alert(1)"}, "javascript: URL"),
    ({"id": "abc", "url": "data:text/html,<script>"}, "data: URL"),
    ({"id": "abc", "url": "ftp://example.com/file"}, "not http(s)"),
    ({"id": "abc", "url": "https://exa mple.com"}, "whitespace in URL"),
    ({"id": "abc", "url": "https://example.com/\r\nSet-Cookie: x"}, "header injection"),
    ({"id": "x" * 65, "url": "https://example.com"}, "id too long"),
    ({"id": "", "url": "https://example.com"}, "empty id"),
    ({"id": "a/b", "url": "https://example.com"}, "slash in id"),
    ({"id": "a b", "url": "https://example.com"}, "space in id"),
    ({"id": "app", "url": "https://example.com"}, "reserved id"),
    ({"id": "abc", "url": "https://example.com/" + "p" * URL_MAX_LENGTH}, "url too long"),
    ({"id": "abc", "url": "https://example.com", "owner": "mallory@example.com"}, "owner in body"),
    ({"id": "abc", "url": "https://example.com", "timestamp": "yesterday"}, "timestamp in body"),
    ([], "not an object"),
])
def test_malformed_links_are_rejected(create_validator, body, reason):
    assert list(create_validator.iter_errors(body)), reason


def test_an_update_needs_only_the_url(update_validator):
    assert list(update_validator.iter_errors({"url": "https://example.com/new"})) == []
    assert list(update_validator.iter_errors({"id": "whatever", "url": "https://example.com/new"})) == []
    assert list(update_validator.iter_errors({"id": "abc"}))
    assert list(update_validator.iter_errors({"url": "javascript:alert(1)"}))
