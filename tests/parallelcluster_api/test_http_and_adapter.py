"""The strict HTTP edge (body, caller, headers) and the pcluster adapter's own rules (keywords,
region, configuration type, translated exceptions, deadline, lazy import)."""
from __future__ import annotations

import base64
import time

import pytest

from lambda_src.parallelcluster_api import models, routes
from lambda_src.parallelcluster_api.shared import http, pcluster
from lambda_src.parallelcluster_api.shared.deadlines import Deadline, DeadlineExceeded
from tests.parallelcluster_api import fake_pcluster as fake_lib
from tests.parallelcluster_api.conftest import rest_event

LIMIT = 1024


def body_event(body: str | None, *, base64_body: bool = False) -> dict:
    return {"body": body, "isBase64Encoded": base64_body}


@pytest.mark.parametrize(("body", "message"), [
    (None, "request body is required"),
    ('{"a": NaN}', "NaN and Infinity are not JSON numbers"),
    ('{"a": ' + "1" * 41 + "}", "at most 40 characters, got one of 41"),
    ('{"a": "\\ud800"}', "unpaired UTF-16 surrogate"),
    ("[1, 2]", "request body must be a JSON object"),
    ('{"a": 1,}', "request body must be valid JSON"),
    ("x" * (LIMIT + 1), "request body must be at most 1024 bytes"),
    ("é" * (LIMIT // 2 + 1), "request body must be at most 1024 bytes"),
])
def test_a_body_that_is_not_one_json_object_within_the_limits_is_refused(body, message):
    with pytest.raises(http.BadRequest, match=message):
        http.read_json_object(body_event(body), max_bytes=LIMIT)


def test_a_base64_body_is_decoded_and_then_checked_the_same_way():
    encoded = base64.b64encode(b'{"a": 1, "a": 2}').decode()
    with pytest.raises(http.BadRequest, match="repeats the key 'a'"):
        http.read_json_object(body_event(encoded, base64_body=True), max_bytes=LIMIT)


def test_a_huge_base64_body_is_refused_before_it_is_decoded():
    with pytest.raises(http.BadRequest, match="at most 1024 bytes"):
        http.read_body_text(body_event("A" * 10_000_000, base64_body=True), max_bytes=LIMIT)


@pytest.mark.parametrize(("body", "message"), [
    ("not base64!", "marked base64 but is not valid base64"),
    (base64.b64encode(b"\xff\xfe").decode(), "request body must be UTF-8"),
])
def test_a_broken_base64_body_is_refused(body, message):
    with pytest.raises(http.BadRequest, match=message):
        http.read_body_text(body_event(body, base64_body=True), max_bytes=LIMIT)


def test_the_caller_comes_from_the_authorizer_context_with_its_scopes():
    caller = http.caller_of(rest_event("list_clusters"), admin_scope="parallelcluster/admin")
    assert caller.scopes == frozenset({"parallelcluster/read", "parallelcluster/write"})
    assert (caller.admin, caller.client_id) == (False, "app-client-people")


@pytest.mark.parametrize("sub", ["", " padded", "x" * 257, "line\nbreak", 42])
def test_an_unusable_subject_is_refused_with_401(sub):
    event = rest_event("list_clusters")
    event["requestContext"]["authorizer"]["sub"] = sub
    with pytest.raises(http.Unauthorized, match="missing or unusable caller identity"):
        http.caller_of(event, admin_scope="parallelcluster/admin")


def test_headers_are_found_whatever_their_case():
    event = rest_event("legacy_pcluster", query={"command": "list"}, headers={"Additional_Parameters": "--color"})
    assert http.header(event, "additional_parameters") == "--color"


def test_query_parameters_come_from_the_multi_value_form_when_present():
    event = rest_event("list_clusters", query={"clusterStatus": ["CREATE_COMPLETE", "UPDATE_FAILED"]})
    assert http.parameters(routes.route("list_clusters"), event) == {"clusterStatus": [
        models.ClusterStatusFilteringOption.CREATE_COMPLETE, models.ClusterStatusFilteringOption.UPDATE_FAILED]}


@pytest.fixture
def fake(world):
    return world.fake


def test_the_adapter_leaves_out_options_that_were_not_set(fake):
    fake.add_cluster("alpha")
    pcluster.call("describe_cluster_instances", cluster_name="alpha", next_token=None, node_type=None)
    assert fake.called("describe_cluster_instances") == [{"cluster_name": "alpha", "region": "us-east-1"}]


def test_the_adapter_always_uses_the_apis_region(fake):
    pcluster.call("list_official_images")
    assert fake.called("list_official_images") == [{"region": "us-east-1"}]


def test_the_adapter_passes_enum_members_as_their_values(fake):
    fake.add_cluster("alpha")
    pcluster.call("update_compute_fleet", cluster_name="alpha",
                  status=models.RequestedComputeFleetStatus.STOP_REQUESTED)
    assert fake.called("update_compute_fleet")[0]["status"] == "STOP_REQUESTED"


def test_the_adapter_refuses_a_keyword_it_does_not_declare(fake):
    with pytest.raises(TypeError, match=r"pcluster.lib.delete_cluster is not called with \['keep_logs'\]"):
        pcluster.call("delete_cluster", cluster_name="alpha", keep_logs=True)


def test_the_adapter_refuses_a_configuration_that_is_not_a_mapping(fake):
    with pytest.raises(TypeError, match="cluster_configuration must be a dict"):
        pcluster.call("create_cluster", cluster_name="alpha", cluster_configuration="HeadNode: {}")


def test_a_parallelcluster_api_exception_becomes_its_status_and_body(fake):
    fake.fail["list_clusters"] = fake_lib.ConflictException("Cluster 'alpha' already exists.")
    with pytest.raises(pcluster.PclusterError, match="already exists") as raised:
        pcluster.call("list_clusters")
    assert (raised.value.status, raised.value.body) == (409, {"message": "Cluster 'alpha' already exists."})
    assert not isinstance(raised.value, pcluster.DryrunSucceeded)


def test_a_dry_run_that_would_succeed_becomes_dryrun_succeeded(fake):
    with pytest.raises(pcluster.DryrunSucceeded, match="DryRun flag is set") as raised:
        pcluster.call("create_cluster", cluster_name="alpha", cluster_configuration={"Image": {}}, dryrun=True)
    assert raised.value.status == 412


def test_a_parameter_exception_becomes_a_400(fake):
    fake.fail["list_official_images"] = fake_lib.ParameterException({"message": "Bad Request: Wrong type"})
    with pytest.raises(pcluster.PclusterError, match="Wrong type") as raised:
        pcluster.call("list_official_images")
    assert raised.value.status == 400


def test_a_call_past_its_deadline_raises_deadline_exceeded(fake):
    fake.delay["list_official_images"] = 30
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="no answer within the deadline"):
        pcluster.call("list_official_images", deadline=Deadline.after(0.2))
    assert time.monotonic() - started < 1


def test_every_pcluster_function_the_routes_use_is_declared_by_the_adapter():
    through_workflow = {"create_cluster", "update_cluster", "delete_cluster"}
    without = {"get_operation", "legacy_pcluster"}
    used = {route.function for route in routes.ROUTES} - without
    assert used | {"describe_cluster"} <= set(pcluster.LIBRARY_CALLS) | through_workflow
    assert through_workflow <= set(pcluster.LIBRARY_CALLS)


def test_without_a_fake_the_adapter_imports_the_real_library_lazily(monkeypatch):
    monkeypatch.setattr(pcluster, "_library", None)
    with pytest.raises(ModuleNotFoundError, match="pcluster"):
        pcluster.library()
