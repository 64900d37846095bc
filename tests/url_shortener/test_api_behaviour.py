"""The shortener's mapping templates executed against DynamoDB (moto), as API Gateway runs them."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from local.apigw.rest_api_emulator import RestApiEmulator, dynamodb_service

ALICE = "alice@example.com"
BOB = "bob@example.com"
TABLE_NAME = "links-under-test"


def _table_definition(template: dict) -> tuple[str, dict]:
    [(logical_id, resource)] = [(k, r) for k, r in template["Resources"].items()
                                if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    return logical_id, resource["Properties"]


def create_table_from_stack(client, template: dict) -> None:
    """The moto table gets exactly the stack's key schema and indexes."""
    _, props = _table_definition(template)
    client.create_table(
        TableName=TABLE_NAME, BillingMode="PAY_PER_REQUEST",
        KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
        GlobalSecondaryIndexes=[{"IndexName": index["IndexName"], "KeySchema": index["KeySchema"],
                                 "Projection": index["Projection"]}
                                for index in props["GlobalSecondaryIndexes"]])


class ShortenerClient:
    def __init__(self, emulator: RestApiEmulator, dynamodb) -> None:
        self.emulator = emulator
        self.dynamodb = dynamodb

    def get(self, path, **kwargs):
        return self.emulator.request("GET", path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.emulator.request("POST", path, body=body, **kwargs)

    def put(self, path, body, **kwargs):
        return self.emulator.request("PUT", path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.emulator.request("DELETE", path, **kwargs)

    def options(self, path, **kwargs):
        return self.emulator.request("OPTIONS", path, **kwargs)

    def item(self, link_id: str) -> dict | None:
        item = self.dynamodb.get_item(TableName=TABLE_NAME, Key={"id": {"S": link_id}}).get("Item")
        return {key: value["S"] for key, value in item.items()} if item else None


def make_client(template: dict) -> ShortenerClient:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    create_table_from_stack(dynamodb, template)
    table_logical_id, _ = _table_definition(template)
    emulator = RestApiEmulator(
        template,
        physical_names={table_logical_id: TABLE_NAME, "AWS::Partition": "aws", "AWS::Region": "us-east-1",
                        "AWS::URLSuffix": "amazonaws.com"},
        services={"dynamodb": dynamodb_service(dynamodb)})
    return ShortenerClient(emulator, dynamodb)


@pytest.fixture
def api(shortener_template_json):
    with mock_aws():
        yield make_client(shortener_template_json)


def create(api, link_id, url="https://example.com/", user=ALICE):
    return api.post("/app", {"id": link_id, "url": url}, user=user)


# -- create ----------------------------------------------------------------------------

def test_creating_a_link_answers_201_with_the_stored_link(api):
    response = create(api, "docs", "https://docs.aws.amazon.com/")
    assert response.status == 201
    body = response.json()
    assert body["id"] == "docs" and body["url"] == "https://docs.aws.amazon.com/"
    assert body["owner"] == ALICE and body["timestamp"]
    assert api.item("docs")["owner"] == ALICE


def test_owner_comes_from_the_token_even_when_the_body_names_another(api):
    response = api.post("/app", {"id": "x1", "url": "https://example.com", "owner": BOB}, user=ALICE)
    assert response.status == 400
    assert api.item("x1") is None


def test_a_taken_id_is_refused_with_409_and_the_first_link_is_kept(api):
    create(api, "taken", "https://first.example.com/")
    response = create(api, "taken", "https://second.example.com/", user=BOB)
    assert response.status == 409
    assert response.json() == {"message": "A link with this id already exists"}
    assert api.item("taken") == {**api.item("taken"), "url": "https://first.example.com/", "owner": ALICE}


def test_an_anonymous_caller_cannot_create_links(api):
    response = api.post("/app", {"id": "anon", "url": "https://example.com"})
    assert response.status == 401
    assert api.item("anon") is None


# -- list ------------------------------------------------------------------------------

def test_listing_returns_only_the_callers_own_links(api):
    create(api, "a-1", user=ALICE)
    create(api, "a-2", user=ALICE)
    create(api, "b-1", user=BOB)
    response = api.get("/app", user=ALICE)
    assert response.status == 200
    assert [item["id"] for item in response.json()["items"]] == ["a-1", "a-2"]
    assert response.header("Cache-Control") == "no-cache, no-store"


def test_listing_is_paginated_with_a_next_token(api, shortener_template_json):
    for index in range(30):
        create(api, f"link-{index:02d}")
    first = api.get("/app", user=ALICE).json()
    assert len(first["items"]) == 25 and first["next"]
    second = api.get("/app", user=ALICE, query={"next": first["next"]}).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert sorted(ids) == [f"link-{index:02d}" for index in range(30)]
    assert second["next"] is None


def test_a_crafted_next_token_never_reaches_another_users_links(api):
    create(api, "b-1", user=BOB)
    create(api, "b-2", user=BOB)
    forged = '", "owner": {"S": "bob@example.com"}}, "x": {"S": "'
    response = api.get("/app", user=ALICE, query={"next": forged})
    assert response.status == 200
    assert response.json()["items"] == []


def test_an_empty_list_has_no_next_token(api):
    assert api.get("/app", user=ALICE).json() == {"items": [], "next": None}


# -- update and delete -----------------------------------------------------------------

def test_updating_an_own_link_changes_its_url_and_the_path_id_wins(api):
    create(api, "mine", "https://old.example.com/")
    response = api.put("/app/mine", {"id": "other", "url": "https://new.example.com/"}, user=ALICE)
    assert response.status == 200
    assert response.json()["url"] == "https://new.example.com/"
    assert api.item("mine")["url"] == "https://new.example.com/"
    assert api.item("other") is None


def test_someone_elses_link_cannot_be_updated(api):
    create(api, "alices", "https://alice.example.com/")
    response = api.put("/app/alices", {"url": "https://evil.example.com/"}, user=BOB)
    assert response.status == 404
    assert response.json() == {"message": "You have no link with this id"}
    assert api.item("alices")["url"] == "https://alice.example.com/"


def test_updating_a_link_that_does_not_exist_is_404_and_creates_nothing(api):
    response = api.put("/app/ghost", {"url": "https://example.com/"}, user=ALICE)
    assert response.status == 404
    assert api.item("ghost") is None


def test_someone_elses_link_cannot_be_deleted(api):
    create(api, "alices")
    response = api.delete("/app/alices", user=BOB)
    assert response.status == 404
    assert api.item("alices")["owner"] == ALICE


def test_deleting_an_own_link_removes_it(api):
    create(api, "gone")
    response = api.delete("/app/gone", user=ALICE)
    assert response.status == 204
    assert api.item("gone") is None


# -- redirect --------------------------------------------------------------------------

def test_a_known_link_redirects_with_301_and_is_cached_five_minutes(api):
    create(api, "aws", "https://aws.amazon.com/")
    response = api.get("/aws")
    assert response.status == 301
    assert response.header("Location") == "https://aws.amazon.com/"
    assert response.header("Cache-Control") == "max-age=300"


def test_an_unknown_link_redirects_to_the_not_found_page(api):
    response = api.get("/nothing-here")
    assert response.status == 302
    assert response.header("Location") == "https://example.com/link-not-found"


def test_an_id_dynamodb_cannot_look_up_still_redirects_to_not_found(api):
    response = api.get("/" + "x" * 3000)  # beyond DynamoDB's 2048-byte key limit
    assert response.status == 302
    assert response.header("Location") == "https://example.com/link-not-found"


def test_a_throttled_lookup_is_a_503_that_is_never_cached(api):
    def throttled(action, payload):
        return 400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow down"}
    api.emulator.services["dynamodb"] = throttled
    response = api.get("/anything")
    assert response.status == 503
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Location") is None


def test_the_app_path_is_not_taken_for_a_link_id(api):
    assert api.get("/app").status == 401  # the /app resource, not a redirect lookup


# -- escaping --------------------------------------------------------------------------

TRICKY_URL = "https://example.com/p?q=\"quoted\"&s='single'&b=\\back\\slash&u=ünïcødé-日本-😀"


def test_a_url_with_quotes_backslashes_and_unicode_round_trips_intact(api):
    created = create(api, "tricky", TRICKY_URL)
    assert created.status == 201
    assert created.json()["url"] == TRICKY_URL
    assert api.item("tricky")["url"] == TRICKY_URL
    assert api.get("/app", user=ALICE).json()["items"][0]["url"] == TRICKY_URL
    assert api.get("/tricky").header("Location") == TRICKY_URL
    updated = api.put("/app/tricky", {"url": TRICKY_URL + "/again"}, user=ALICE)
    assert updated.json()["url"] == TRICKY_URL + "/again"


def test_an_email_with_an_apostrophe_owns_its_links(api):
    owner = "o'brien@example.com"
    assert create(api, "quote-owner", user=owner).status == 201
    assert api.item("quote-owner")["owner"] == owner
    assert [i["id"] for i in api.get("/app", user=owner).json()["items"]] == ["quote-owner"]


# -- validation and CORS ---------------------------------------------------------------

def test_a_bad_body_gets_400_with_a_message_and_writes_nothing(api):
    response = api.post("/app", {"id": "ok-id", "url": "javascript:alert(1)"}, user=ALICE)
    assert response.status == 400
    assert "Invalid request body" in response.json()["message"]
    assert api.item("ok-id") is None
    assert api.emulator.calls == []


def test_malformed_json_gets_400(api):
    response = api.post("/app", "{not json", user=ALICE)
    assert response.status == 400
    assert "Invalid request body" in response.json()["message"]


@pytest.mark.parametrize("call", [
    lambda api: api.get("/app"),
    lambda api: api.post("/app", {"id": "x"}, user=ALICE),
    lambda api: api.put("/app/none", {"url": "https://example.com"}, user=ALICE),
    lambda api: create(api, "dup") and create(api, "dup"),
], ids=["unauthorized", "invalid-body", "not-found", "conflict"])
def test_error_responses_carry_the_cors_headers(api, call):
    response = call(api)
    assert response.status >= 400
    assert response.header("Access-Control-Allow-Origin") == "http://localhost:8080"


def test_preflight_answers_with_the_allowed_methods_and_origin(api):
    response = api.options("/app/some-id", headers={"Origin": "http://localhost:8080"})
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == "http://localhost:8080"
    assert response.header("Access-Control-Allow-Methods") == "PUT,DELETE,OPTIONS"
    assert response.header("Access-Control-Allow-Headers") == "authorization,content-type"
