"""The read and fleet routes: answers in the spec's shapes, errors mapped to the spec's statuses,
and every option handed to pcluster.lib under its keyword (pcluster.lib faked at its edge)."""
from __future__ import annotations

import time

import pytest

from lambda_src.parallelcluster_api import models, routes
from tests.parallelcluster_api import fake_pcluster as fake_lib
from tests.parallelcluster_api.conftest import ADMIN, ALICE, BOB, assert_model, call

# Routes that read (or act on) one cluster, with parameters that make a valid request.
CLUSTER_ROUTES = {
    "describe_cluster": {},
    "describe_compute_fleet": {},
    "describe_cluster_instances": {},
    "get_cluster_stack_events": {},
    "list_cluster_log_streams": {},
    "get_cluster_log_events": {"path": {"logStreamName": "ip-10-0-0-10.i-0123456789abcdef0.cfn-init"}},
    "update_compute_fleet": {"body": {"status": "STOP_REQUESTED"}},
    "delete_cluster_instances": {},
}


def _request(function: str, cluster: str = "alpha", **extra):
    options = dict(CLUSTER_ROUTES[function])
    options["path"] = {"clusterName": cluster, **options.get("path", {})}
    options.update(extra)
    return options


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_a_cluster_route_answers_its_success_status_in_the_spec_shape(world, function):
    world.own("alpha", ALICE)
    answer = call(function, **_request(function))
    route = routes.route(function)
    assert answer.status == route.success_status
    if route.success.model is None:
        assert answer.body is None
    else:
        assert_model(route.success.model, answer.body)


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_another_users_cluster_is_answered_as_a_cluster_that_does_not_exist(world, function):
    world.own("alpha", BOB)
    hidden = call(function, **_request(function, "alpha"))
    missing = call(function, **_request(function, "nothing-here"))
    assert (hidden.status, hidden.body) == (404, {"message": fake_lib.NOT_FOUND.format("alpha")})
    assert missing.status == 404
    assert missing.body["message"] == fake_lib.NOT_FOUND.format("nothing-here")


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_another_users_cluster_is_never_passed_to_parallelcluster(world, function):
    world.own("alpha", BOB)
    call(function, **_request(function))
    assert world.fake.calls == []


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_an_admin_reaches_any_users_cluster(world, function):
    world.own("alpha", BOB)
    assert call(function, caller=ADMIN, **_request(function)).status == routes.route(function).success_status


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_a_cluster_name_outside_the_spec_pattern_is_refused_with_400(world, function):
    answer = call(function, **_request(function, "1-starts-with-a-digit"))
    assert answer.status == 400
    assert "clusterName must match" in answer.body["message"]


@pytest.mark.parametrize("function", CLUSTER_ROUTES)
def test_a_region_other_than_the_apis_is_refused_with_400(world, function):
    world.own("alpha", ALICE)
    answer = call(function, query={"region": "eu-west-1"}, **_request(function))
    assert answer.status == 400
    assert answer.body == {"message": "region must be us-east-1, the region this API manages, got 'eu-west-1'"}


def test_every_call_to_parallelcluster_carries_the_apis_region(world):
    world.own("alpha", ALICE)
    for function in CLUSTER_ROUTES:
        call(function, **_request(function))
    assert {kwargs["region"] for _, kwargs in world.fake.calls} == {"us-east-1"}


def test_an_unknown_query_parameter_is_refused_with_400(world):
    world.own("alpha", ALICE)
    answer = call("describe_cluster", path={"clusterName": "alpha"}, query={"dryRun": "true"})
    assert answer.status == 400
    assert answer.body["message"] == "unknown query parameter 'dryRun' (this route takes: region)"


def test_a_single_valued_query_parameter_given_twice_is_refused_with_400(world):
    world.own("alpha", ALICE)
    answer = call("describe_cluster_instances", path={"clusterName": "alpha"},
                  query={"nodeType": ["HeadNode", "ComputeNode"]})
    assert answer.status == 400
    assert answer.body["message"] == "query parameter nodeType may be given once"


def test_describe_cluster_instances_passes_its_filters_under_their_keywords(world):
    world.own("alpha", ALICE)
    call("describe_cluster_instances", path={"clusterName": "alpha"},
         query={"nodeType": "ComputeNode", "queueName": "compute", "nextToken": "token-1"})
    assert world.fake.called("describe_cluster_instances") == [{
        "cluster_name": "alpha", "region": "us-east-1", "node_type": "ComputeNode", "queue_name": "compute",
        "next_token": "token-1"}]


def test_a_node_type_outside_the_spec_enum_is_refused_with_400(world):
    world.own("alpha", ALICE)
    answer = call("describe_cluster_instances", path={"clusterName": "alpha"}, query={"nodeType": "Master"})
    assert answer.status == 400
    assert answer.body["message"] == ("query parameter nodeType must be one of HeadNode, ComputeNode, LoginNode, "
                                      "got 'Master'")


def test_get_cluster_log_events_passes_its_options_with_their_types(world):
    world.own("alpha", ALICE)
    call("get_cluster_log_events", path={"clusterName": "alpha", "logStreamName": "ip-10-0-0-10.cfn-init"},
         query={"startFromHead": "true", "limit": "100", "startTime": "2026-01-01T20:00:00Z",
                "endTime": "2026-01-02T20:00:00Z", "nextToken": "f/1234"})
    assert world.fake.called("get_cluster_log_events") == [{
        "cluster_name": "alpha", "log_stream_name": "ip-10-0-0-10.cfn-init", "region": "us-east-1",
        "start_from_head": True, "limit": 100, "start_time": "2026-01-01T20:00:00Z",
        "end_time": "2026-01-02T20:00:00Z", "next_token": "f/1234"}]


@pytest.mark.parametrize(("query", "message"), [
    ({"limit": "0"}, "query parameter limit must be at least 1, got 0"),
    ({"limit": "10001"}, "query parameter limit must be at most 10000, got 10001"),
    ({"limit": "9" * 400}, "query parameter limit must be an integer, got '" + "9" * 39 + "..."),
    ({"startFromHead": "yes"}, "query parameter startFromHead must be true or false, got 'yes'"),
    ({"startTime": "yesterday"}, "query parameter startTime must be an ISO 8601 date-time such as "
                                 "2021-01-01T20:00:00Z, got 'yesterday'"),
    ({"endTime": "2026-01-01T20:00:00"}, "query parameter endTime must carry a time zone (e.g. Z), got "
                                         "'2026-01-01T20:00:00'"),
    ({"nextToken": "x" * 3000}, "query parameter nextToken may have at most 2048 characters, got 3000"),
    ({"nextToken": "abc\u202edef"}, "query parameter nextToken holds a control or invisible character"),
])
def test_a_malformed_log_events_option_is_refused_with_400(world, query, message):
    world.own("alpha", ALICE)
    answer = call("get_cluster_log_events", path={"clusterName": "alpha", "logStreamName": "s"}, query=query)
    assert (answer.status, answer.body) == (400, {"message": message})


def test_a_log_stream_name_with_a_colon_is_refused_with_400(world):
    world.own("alpha", ALICE)
    answer = call("get_cluster_log_events", path={"clusterName": "alpha", "logStreamName": "a:b"})
    assert answer.status == 400
    assert answer.body["message"].startswith("path parameter logStreamName must match")


def test_list_cluster_log_streams_passes_repeated_filters_as_a_list(world):
    world.own("alpha", ALICE)
    call("list_cluster_log_streams", path={"clusterName": "alpha"},
         query={"filters": ["Name=node-type,Values=HeadNode", "Name=private-dns-name,Values=ip-10-0-0-10"]})
    assert world.fake.called("list_cluster_log_streams")[0]["filters"] == [
        "Name=node-type,Values=HeadNode", "Name=private-dns-name,Values=ip-10-0-0-10"]


def test_update_compute_fleet_answers_the_specs_204_with_the_new_status(world):
    world.own("alpha", ALICE)
    answer = call("update_compute_fleet", path={"clusterName": "alpha"}, body={"status": "STOP_REQUESTED"})
    assert (answer.status, answer.body["status"]) == (204, "STOP_REQUESTED")
    assert world.fake.called("update_compute_fleet")[0]["status"] == "STOP_REQUESTED"


def test_a_compute_fleet_status_outside_the_requested_enum_is_refused_with_400(world):
    world.own("alpha", ALICE)
    answer = call("update_compute_fleet", path={"clusterName": "alpha"}, body={"status": "RUNNING"})
    assert answer.status == 400
    assert answer.body["message"] == ("body.status must be one of START_REQUESTED, STOP_REQUESTED, ENABLED, "
                                      "DISABLED, got 'RUNNING'")
    assert world.fake.calls == []


def test_parallelclusters_own_400_is_passed_on_with_its_message(world):
    world.own("alpha", ALICE)
    answer = call("update_compute_fleet", path={"clusterName": "alpha"}, body={"status": "ENABLED"})
    assert answer.status == 400
    assert answer.body == {"message": "Bad Request: the status ENABLED does not apply to the slurm scheduler"}


def test_delete_cluster_instances_passes_force_as_a_boolean(world):
    world.own("alpha", ALICE)
    answer = call("delete_cluster_instances", path={"clusterName": "alpha"}, query={"force": "TRUE"})
    assert (answer.status, answer.body) == (202, None)
    assert world.fake.called("delete_cluster_instances")[0]["force"] is True


def test_list_official_images_answers_the_images_and_passes_its_filters(world):
    answer = call("list_official_images", query={"os": "alinux2023", "architecture": "x86_64"})
    assert answer.status == 200
    assert_model(models.ListOfficialImagesResponseContent, answer.body)
    assert world.fake.called("list_official_images") == [{"os": "alinux2023", "architecture": "x86_64",
                                                          "region": "us-east-1"}]


def test_list_clusters_answers_only_the_callers_clusters(world):
    world.own("alpha", ALICE)
    world.own("bravo", BOB)
    world.fake.add_cluster("outside")  # created with the pcluster CLI: no owner in this API
    answer = call("list_clusters")
    assert answer.status == 200
    assert_model(models.ListClustersResponseContent, answer.body)
    assert [cluster["clusterName"] for cluster in answer.body["clusters"]] == ["alpha"]


def test_an_admin_lists_every_cluster_also_those_created_outside_the_api(world):
    world.own("alpha", ALICE)
    world.own("bravo", BOB)
    world.fake.add_cluster("outside")
    answer = call("list_clusters", caller=ADMIN)
    assert sorted(cluster["clusterName"] for cluster in answer.body["clusters"]) == ["alpha", "bravo", "outside"]


def test_list_clusters_passes_repeated_status_filters_as_a_list_of_strings(world):
    call("list_clusters", query={"clusterStatus": ["CREATE_COMPLETE", "UPDATE_FAILED", "CREATE_COMPLETE"]})
    assert world.fake.called("list_clusters") == [{"cluster_status": ["CREATE_COMPLETE", "UPDATE_FAILED"],
                                                   "region": "us-east-1"}]


def test_a_cluster_status_filter_outside_the_spec_enum_is_refused_with_400(world):
    answer = call("list_clusters", query={"clusterStatus": "DELETE_COMPLETE"})
    assert answer.status == 400
    assert answer.body["message"].startswith("query parameter clusterStatus must be one of CREATE_IN_PROGRESS")


@pytest.mark.parametrize(("exception", "status"), [
    (fake_lib.LimitExceededException("Rate exceeded"), 429),
    (fake_lib.InternalServiceException("Failed when calling AWS service in describe_stacks"), 500),
    (fake_lib.BadRequestException("Cluster 'alpha' belongs to an incompatible ParallelCluster major version."),
     400),
])
def test_a_parallelcluster_error_is_answered_with_its_status_and_message(world, exception, status):
    world.own("alpha", ALICE)
    world.fake.fail["describe_cluster"] = exception
    answer = call("describe_cluster", path={"clusterName": "alpha"})
    assert (answer.status, answer.body) == (status, exception.content)


def test_a_parallelcluster_call_that_hangs_is_answered_504_before_the_api_gateway_limit(world):
    world.own("alpha", ALICE)
    world.fake.delay["describe_cluster"] = 60
    started = time.monotonic()
    answer = call("describe_cluster", path={"clusterName": "alpha"}, remaining_ms=3_000)
    assert answer.status == 504
    assert answer.body["message"].startswith("ParallelCluster did not answer in time")
    assert time.monotonic() - started < 2.5


def test_an_unexpected_failure_is_a_500_that_tells_nothing_of_the_internals(world):
    world.own("alpha", ALICE)
    world.fake.fail["describe_cluster"] = KeyError("secret-internal-detail")
    answer = call("describe_cluster", path={"clusterName": "alpha"})
    assert answer.status == 500
    assert "secret-internal-detail" not in answer.body["message"]


def test_a_request_without_the_authorizers_subject_is_refused_with_401(world):
    world.own("alpha", ALICE)
    answer = call("describe_cluster", path={"clusterName": "alpha"}, caller=None)
    assert (answer.status, answer.body) == (401, {"message": "missing or unusable caller identity"})


def test_the_functions_never_import_pcluster_themselves(world):
    import sys

    world.own("alpha", ALICE)
    call("describe_cluster", path={"clusterName": "alpha"})
    assert not any(name == "pcluster" or name.startswith("pcluster.") for name in sys.modules)


def test_list_clusters_finds_the_owners_of_more_clusters_than_one_dynamodb_batch(world):
    for index in range(150):
        world.own(f"cluster{index}", ALICE if index % 3 else BOB)
    answer = call("list_clusters")
    assert len(answer.body["clusters"]) == 100
    assert all(int(cluster["clusterName"][7:]) % 3 for cluster in answer.body["clusters"])
