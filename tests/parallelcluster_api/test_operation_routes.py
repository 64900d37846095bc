"""Create, update and delete: the fast checks, the 202 with the operation, the workflow started once,
the dry run's 412 and 400, and GET /v3/operations/{operationId} (pcluster.lib faked at its edge)."""
from __future__ import annotations

import json

import pytest

from lambda_src.parallelcluster_api import models
from tests.parallelcluster_api import fake_pcluster as fake_lib
from tests.parallelcluster_api.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CONFIGURATION,
    INI_CONFIGURATION,
    STATE_MACHINE_ARN,
    assert_model,
    call,
)


def create(name: str = "alpha", configuration: str = CONFIGURATION, **options):
    return call("create_cluster", body={"clusterName": name, "clusterConfiguration": configuration}, **options)


def test_a_create_is_accepted_with_202_and_the_operation_to_read(world):
    answer = create()
    assert answer.status == 202
    assert_model(models.ClusterOperationAcceptedResponseContent, answer.body)
    assert answer.body["status"] == "PENDING"
    assert answer.body["cluster"] == {"clusterName": "alpha", "region": "us-east-1", "version": "3.16.1"}
    operation = world.operation(answer.body["operationId"])
    assert (operation["status"], operation["owner"], operation["configuration"]) == ("PENDING", ALICE.sub,
                                                                                     CONFIGURATION)


def test_a_create_starts_one_execution_named_after_the_operation_without_the_configuration(world):
    answer = create()
    (execution,) = world.executions()
    assert execution["executionArn"].endswith(":" + answer.body["operationId"])
    assert execution["stateMachineArn"] == STATE_MACHINE_ARN
    assert json.loads(execution["input"]) == {"operationId": answer.body["operationId"], "operation": "CREATE_CLUSTER",
                                              "clusterName": "alpha", "dryrun": False}


def test_a_create_claims_the_cluster_name_for_the_caller(world):
    answer = create()
    item = world.cluster_item("alpha")
    assert (item["owner"], item["activeOperationId"]) == (ALICE.sub, answer.body["operationId"])


def test_a_create_leaves_parallelcluster_to_the_workflow(world):
    create()
    assert [function for function, _ in world.fake.calls] == ["describe_cluster"]


def test_the_same_request_invoked_twice_gives_one_operation_and_one_execution(world):
    first = create(request_id="request-1")
    second = create(request_id="request-1")
    assert (first.status, second.status) == (202, 202)
    assert first.body["operationId"] == second.body["operationId"]
    assert len(world.executions()) == 1


def test_the_create_options_are_kept_in_the_operation_for_parallelcluster(world):
    answer = create(query={"validationFailureLevel": "WARNING", "rollbackOnFailure": "false",
                           "suppressValidators": ["type:InstanceTypeValidator", "type:KeyPairValidator"]})
    assert world.operation(answer.body["operationId"])["parameters"] == {
        "validationFailureLevel": "WARNING", "rollbackOnFailure": False,
        "suppressValidators": ["type:InstanceTypeValidator", "type:KeyPairValidator"]}


def test_a_cluster_that_exists_in_parallelcluster_is_a_409(world):
    world.fake.add_cluster("alpha")
    answer = create()
    assert (answer.status, answer.body) == (409, {"message": "Cluster 'alpha' already exists."})
    assert world.executions() == []


def test_a_name_another_user_is_creating_is_a_409(world):
    create(caller=BOB)
    answer = create()
    assert answer.status == 409
    assert answer.body["message"].startswith("Cluster 'alpha' has an operation in progress (CREATE_CLUSTER ")
    assert world.cluster_item("alpha")["owner"] == BOB.sub


def test_a_stale_claim_whose_create_failed_is_taken_over(world):
    failed = create(caller=BOB)
    world.fake.validation_errors = [fake_lib.validation_error("c5.huge is not an instance type")]
    world.run_started_workflows()
    assert world.operation(failed.body["operationId"])["status"] == "FAILED"
    world.dynamodb.Table("Clusters").put_item(Item={  # as if record_outcome had not run
        "clusterName": "alpha", "owner": BOB.sub, "createdAt": "x", "activeOperationId": failed.body["operationId"],
        "activeOperation": "CREATE_CLUSTER"})
    answer = create()
    assert answer.status == 202
    assert world.cluster_item("alpha")["owner"] == ALICE.sub


@pytest.mark.parametrize(("body", "message"), [
    ({"clusterName": "alpha"}, "body.clusterConfiguration is required"),
    ({"clusterName": "alpha", "clusterConfiguration": CONFIGURATION, "region": "us-east-1"},
     "body has unknown field 'region' (known: clusterConfiguration, clusterName)"),
    ({"clusterName": "9lives", "clusterConfiguration": CONFIGURATION},
     "body.clusterName must match ^[a-zA-Z][a-zA-Z0-9-]+$, got '9lives'"),
    ({"clusterName": "alpha\n", "clusterConfiguration": CONFIGURATION},
     "body.clusterName must match ^[a-zA-Z][a-zA-Z0-9-]+$, got 'alpha\\n'"),
    ({"clusterName": "a" * 61, "clusterConfiguration": CONFIGURATION},
     "body.clusterName must have at most 60 characters, got 61"),
    ({"clusterName": ["alpha"], "clusterConfiguration": CONFIGURATION}, "body.clusterName must be a string"),
    ({"clusterName": "alpha", "clusterConfiguration": ""}, "body.clusterConfiguration must have at least 1 "
                                                           "characters"),
])
def test_a_create_body_outside_the_model_is_refused_with_400(world, body, message):
    answer = call("create_cluster", body=body)
    assert (answer.status, answer.body) == (400, {"message": message})
    assert world.fake.calls == []


def test_a_create_body_that_repeats_a_key_is_refused_with_400(world):
    raw = '{"clusterName": "alpha", "clusterName": "bravo", "clusterConfiguration": "a: 1"}'
    answer = call("create_cluster", raw_body=raw)
    assert answer.status == 400
    assert answer.body["message"] == ("request body repeats the key 'clusterName': each key may appear once per "
                                      "object")


def test_a_create_body_over_the_size_limit_is_refused_with_400_before_it_is_parsed(world):
    answer = create(configuration="Comment: " + "x" * (128 * 1024))
    assert (answer.status, answer.body) == (400, {"message": "request body must be at most 131072 bytes"})


def test_a_create_body_nested_too_deep_is_refused_with_400(world):
    raw = '{"clusterName": "alpha", "clusterConfiguration": "a: 1", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = call("create_cluster", raw_body=raw)
    assert (answer.status, answer.body) == (400, {"message": "request body nests deeper than 16 levels"})


@pytest.mark.parametrize(("configuration", "message"), [
    ("- just\n- a list\n", "clusterConfiguration must be a YAML mapping (HeadNode, Scheduling, ...), got a list"),
    ("HeadNode: [unclosed\n", "clusterConfiguration is not valid YAML"),
    (CONFIGURATION.replace("Region: us-east-1", "Region: eu-west-1"),
     "clusterConfiguration Region must be us-east-1, the region this API manages, got 'eu-west-1'"),
    (INI_CONFIGURATION, "this looks like a ParallelCluster 2 configuration (INI)"),
    ("Tags: {Key: a}\n", "clusterConfiguration Tags must be a list of {Key, Value} mappings"),
])
def test_a_configuration_that_cannot_be_a_cluster_is_refused_with_400_at_once(world, configuration, message):
    answer = create(configuration=configuration)
    assert answer.status == 400
    assert answer.body["message"].startswith(message)
    assert world.fake.calls == [] and world.executions() == []


@pytest.mark.parametrize(("query", "message"), [
    ({"validationFailureLevel": "FATAL"}, "query parameter validationFailureLevel must be one of INFO, WARNING, "
                                          "ERROR, got 'FATAL'"),
    ({"suppressValidators": "type:Key Pair"}, "query parameter suppressValidators must match "
                                              "^(ALL|type:[A-Za-z0-9]+)$, got 'type:Key Pair'"),
    ({"suppressValidators": "ALL\n"}, "query parameter suppressValidators holds a control or invisible character"),
    ({"dryrun": "yes"}, "query parameter dryrun must be true or false, got 'yes'"),
    ({"forceUpdate": "true"}, "unknown query parameter 'forceUpdate' (this route takes: dryrun, region, "
                              "rollbackOnFailure, suppressValidators, validationFailureLevel)"),
])
def test_a_create_option_outside_the_spec_is_refused_with_400(world, query, message):
    answer = create(query=query)
    assert (answer.status, answer.body) == (400, {"message": message})


def test_a_dry_run_that_would_succeed_answers_412_with_the_validation_messages(fast_workflow):
    fast_workflow.fake.warnings = [{"id": "KeyPairValidator", "type": "KeyPairValidator", "level": "WARNING",
                                    "message": "no key pair"}]
    answer = create(query={"dryrun": "true"})
    assert answer.status == 412
    assert_model(models.DryrunOperationExceptionResponseContent, answer.body)
    assert answer.body["message"] == "Request would have succeeded, but DryRun flag is set."
    assert answer.body["validationMessages"][0]["id"] == "KeyPairValidator"


def test_a_dry_run_with_validation_errors_answers_400_with_them(fast_workflow):
    fast_workflow.fake.validation_errors = [fake_lib.validation_error("c5.huge is not an instance type")]
    answer = create(query={"dryrun": "true"})
    assert answer.status == 400
    assert_model(models.CreateClusterBadRequestExceptionResponseContent, answer.body)
    assert answer.body["configurationValidationErrors"] == [fake_lib.validation_error("c5.huge is not an instance "
                                                                                      "type")]


def test_a_dry_run_claims_nothing(fast_workflow):
    create(query={"dryrun": "true"})
    assert fast_workflow.cluster_item("alpha") is None
    assert fast_workflow.fake.clusters == {}


def test_a_dry_run_still_validating_after_the_wait_answers_202_with_the_operation(world, environment):
    environment(DRYRUN_WAIT_SECONDS="0.2")
    answer = create(query={"dryrun": "true"})
    assert answer.status == 202
    assert (answer.body["dryrun"], answer.body["status"]) == (True, "PENDING")


def test_a_dry_run_answers_before_the_api_gateway_limit_however_long_the_wait_setting(world, environment):
    environment(DRYRUN_WAIT_SECONDS="25")
    answer = create(query={"dryrun": "true"}, remaining_ms=2_500)
    assert answer.status == 202


def test_a_workflow_that_cannot_start_fails_the_operation_and_frees_the_name(world, monkeypatch):
    from botocore.exceptions import ClientError

    from lambda_src.parallelcluster_api.shared import aws

    def refuse(**request):
        raise ClientError({"Error": {"Code": "StateMachineDoesNotExist", "Message": "gone"}}, "StartExecution")

    monkeypatch.setattr(aws.client("stepfunctions"), "start_execution", refuse)
    answer = create(request_id="request-2")
    assert answer.status == 500
    assert world.cluster_item("alpha") is None
    (operation,) = world.dynamodb.Table("Operations").scan()["Items"]
    assert (operation["status"], operation["message"]) == ("FAILED", "The workflow could not be started; nothing "
                                                                      "was changed.")


def test_an_update_is_accepted_with_202_and_locks_the_cluster(world):
    world.own("alpha", ALICE)
    answer = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION},
                  query={"forceUpdate": "true"})
    assert answer.status == 202
    assert_model(models.ClusterOperationAcceptedResponseContent, answer.body)
    assert answer.body["cluster"]["cloudformationStackStatus"] == "CREATE_COMPLETE"
    assert world.cluster_item("alpha")["activeOperationId"] == answer.body["operationId"]
    assert world.operation(answer.body["operationId"])["parameters"] == {"forceUpdate": True}


def test_an_update_of_a_cluster_with_an_operation_in_progress_is_a_409(world):
    world.own("alpha", ALICE)
    first = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    answer = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    assert answer.status == 409
    assert answer.body["message"] == (f"Cluster 'alpha' has an operation in progress (UPDATE_CLUSTER "
                                      f"{first.body['operationId']}): wait for it to end.")


def test_a_delete_of_a_cluster_being_deleted_is_a_409(world):
    world.own("alpha", ALICE)
    call("delete_cluster", path={"clusterName": "alpha"})
    answer = call("delete_cluster", path={"clusterName": "alpha"})
    assert answer.status == 409
    assert "(DELETE_CLUSTER " in answer.body["message"]


def test_a_delete_takes_the_cluster_from_an_update_in_progress(world):
    world.own("alpha", ALICE)
    call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    answer = call("delete_cluster", path={"clusterName": "alpha"})
    assert answer.status == 202
    assert world.cluster_item("alpha")["activeOperation"] == "DELETE_CLUSTER"


def test_a_lock_left_by_an_operation_that_ended_is_taken_over(world):
    world.own("alpha", ALICE)
    first = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    world.dynamodb.Table("Operations").update_item(Key={"operationId": first.body["operationId"]},
                                                   UpdateExpression="SET #s = :s",
                                                   ExpressionAttributeNames={"#s": "status"},
                                                   ExpressionAttributeValues={":s": "FAILED"})
    answer = call("delete_cluster", path={"clusterName": "alpha"})
    assert answer.status == 202
    assert world.cluster_item("alpha")["activeOperationId"] == answer.body["operationId"]


def test_an_update_dry_run_that_would_succeed_answers_412_with_the_change_set(fast_workflow):
    fast_workflow.own("alpha", ALICE)
    answer = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION},
                  query={"dryrun": "true"})
    assert answer.status == 412
    assert answer.body["changeSet"] == [{"parameter": "HeadNode.Ssh.KeyName", "currentValue": "old",
                                         "requestedValue": "new"}]
    assert "activeOperationId" not in fast_workflow.cluster_item("alpha")


def test_an_update_dry_run_refused_by_update_validation_answers_400_with_its_errors(fast_workflow):
    fast_workflow.own("alpha", ALICE)
    fast_workflow.fake.update_errors = [{"parameter": "Scheduling.Scheduler", "currentValue": "slurm",
                                         "requestedValue": "awsbatch", "message": "cannot be updated"}]
    answer = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION},
                  query={"dryrun": "true"})
    assert answer.status == 400
    assert_model(models.UpdateClusterBadRequestExceptionResponseContent, answer.body)
    assert answer.body["updateValidationErrors"][0]["message"] == "cannot be updated"


def test_another_users_cluster_cannot_be_updated_or_deleted(world):
    world.own("alpha", BOB)
    update = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    delete = call("delete_cluster", path={"clusterName": "alpha"})
    assert (update.status, delete.status) == (404, 404)
    assert update.body == delete.body == {"message": fake_lib.NOT_FOUND.format("alpha")}
    assert "activeOperationId" not in world.cluster_item("alpha")
    assert world.executions() == []


def test_an_admin_update_of_a_users_cluster_keeps_the_users_owner_tag(world):
    world.own("alpha", BOB)
    answer = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION},
                  caller=ADMIN)
    world.run_started_workflows()
    assert answer.status == 202
    tags = world.fake.clusters["alpha"]["configuration"]["Tags"]
    assert {"Key": "parallelcluster-api:owner", "Value": BOB.sub} in tags
    assert world.cluster_item("alpha")["owner"] == BOB.sub


def test_an_admin_delete_of_a_cluster_created_outside_the_api_adopts_it_under_its_tag_owner(world):
    world.fake.add_cluster("outside", owner_tag=BOB.sub)
    answer = call("delete_cluster", path={"clusterName": "outside"}, caller=ADMIN)
    assert answer.status == 202
    assert world.cluster_item("outside")["owner"] == BOB.sub


def test_a_delete_of_a_cluster_gone_from_parallelcluster_is_a_404(world):
    world.own("alpha", ALICE)
    del world.fake.clusters["alpha"]
    answer = call("delete_cluster", path={"clusterName": "alpha"})
    assert (answer.status, answer.body) == (404, {"message": fake_lib.NOT_FOUND.format("alpha")})


def test_a_delete_is_accepted_with_202_and_the_cluster_summary(world):
    world.own("alpha", ALICE)
    answer = call("delete_cluster", path={"clusterName": "alpha"})
    assert answer.status == 202
    assert_model(models.ClusterOperationAcceptedResponseContent, answer.body)
    assert answer.body["operation"] == "DELETE_CLUSTER"
    assert answer.body["cluster"]["cloudformationStackArn"].startswith("arn:aws:cloudformation:us-east-1:")


def test_the_caller_reads_their_operation(world):
    accepted = create()
    answer = call("get_operation", path={"operationId": accepted.body["operationId"]})
    assert answer.status == 200
    assert_model(models.OperationResponseContent, answer.body)
    assert answer.body["status"] == "PENDING"
    assert "configuration" not in answer.body and "tagOwner" not in answer.body


def test_another_users_operation_is_a_404_and_an_admins_read_is_a_200(world):
    accepted = create(caller=BOB)
    hidden = call("get_operation", path={"operationId": accepted.body["operationId"]})
    seen = call("get_operation", path={"operationId": accepted.body["operationId"]}, caller=ADMIN)
    assert (hidden.status, hidden.body) == (404, {"message": f"Operation '{accepted.body['operationId']}' does "
                                                             "not exist."})
    assert seen.status == 200


def test_an_operation_id_that_is_not_a_uuid_is_refused_with_400(world):
    answer = call("get_operation", path={"operationId": "../../etc/passwd"})
    assert answer.status == 400
    assert answer.body["message"].startswith("path parameter operationId must match")
