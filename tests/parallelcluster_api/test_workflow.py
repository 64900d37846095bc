"""The ClusterOperation workflow's functions, executed in-process state by state (submit, poll
until the cluster ends, record the outcome) against moto and the faked pcluster.lib."""
from __future__ import annotations

import json

import pytest

from lambda_src.parallelcluster_api import models
from lambda_src.parallelcluster_api.shared.workflow import InvalidState
from lambda_src.parallelcluster_api.submit_operation.logic import ParallelClusterThrottled
from tests.parallelcluster_api import fake_pcluster as fake_lib
from tests.parallelcluster_api.conftest import ALICE, BOB, CONFIGURATION, assert_model, call, workflow_step

OWNER_TAG = "parallelcluster-api:owner"


def accepted_create(world, configuration: str = CONFIGURATION, **query):
    answer = call("create_cluster", body={"clusterName": "alpha", "clusterConfiguration": configuration},
                  query=query or None)
    assert answer.status == 202, answer.body
    (execution,) = world.executions()
    return answer.body["operationId"], json.loads(execution["input"])


def moves(world, name: str, *statuses: str, failures=None):
    """A progress hook: the fake cluster takes ``statuses`` one poll after another."""
    def progress(poll: int) -> None:
        status = statuses[min(poll, len(statuses)) - 1]
        world.fake.set_status(name, status, failures=failures if status.endswith("FAILED") else None)
    return progress


def test_a_create_that_succeeds_ends_succeeded_with_the_cluster_owned_and_unlocked(world):
    operation_id, execution_input = accepted_create(world)
    outcome = world.run_workflow(execution_input, progress=moves(world, "alpha", "CREATE_IN_PROGRESS",
                                                                 "CREATE_COMPLETE"))
    assert outcome == {"operationId": operation_id, "status": "SUCCEEDED"}
    operation = world.operation(operation_id)
    assert (operation["clusterStatus"], operation["message"]) == ("CREATE_COMPLETE",
                                                                  "The cluster reached CREATE_COMPLETE.")
    item = world.cluster_item("alpha")
    assert item["owner"] == ALICE.sub and "activeOperationId" not in item


def test_a_create_hands_parallelcluster_a_mapping_with_the_owner_tag_and_the_options(world):
    _, execution_input = accepted_create(world, rollbackOnFailure="false", validationFailureLevel="WARNING",
                                         suppressValidators="type:KeyPairValidator")
    workflow_step("submit_operation", execution_input)
    (submitted,) = world.fake.called("create_cluster")
    assert submitted["cluster_configuration"]["Tags"] == [{"Key": "project", "Value": "genomics"},
                                                          {"Key": OWNER_TAG, "Value": ALICE.sub}]
    assert {key: submitted[key] for key in ("rollback_on_failure", "validation_failure_level", "suppress_validators",
                                            "dryrun", "region")} == {
        "rollback_on_failure": False, "validation_failure_level": "WARNING",
        "suppress_validators": ["type:KeyPairValidator"], "dryrun": False, "region": "us-east-1"}


def test_an_owner_tag_written_by_the_caller_is_replaced_by_the_callers_subject(world):
    forged = CONFIGURATION.replace("  - Key: project\n    Value: genomics\n",
                                   f"  - Key: {OWNER_TAG}\n    Value: {BOB.sub}\n")
    _, execution_input = accepted_create(world, forged)
    workflow_step("submit_operation", execution_input)
    assert world.fake.called("create_cluster")[0]["cluster_configuration"]["Tags"] == [
        {"Key": OWNER_TAG, "Value": ALICE.sub}]


def test_a_create_that_fails_validation_ends_failed_with_the_errors_and_frees_the_name(world):
    operation_id, execution_input = accepted_create(world)
    world.fake.validation_errors = [fake_lib.validation_error("c5.huge is not an instance type")]
    outcome = world.run_workflow(execution_input)
    assert outcome["status"] == "FAILED"
    answer = call("get_operation", path={"operationId": operation_id})
    assert_model(models.OperationResponseContent, answer.body)
    assert (answer.body["errorCode"], answer.body["message"]) == (400, "Invalid cluster configuration.")
    assert answer.body["configurationValidationErrors"] == [fake_lib.validation_error("c5.huge is not an "
                                                                                      "instance type")]
    assert world.cluster_item("alpha") is None
    assert world.fake.called("describe_cluster") == [{"cluster_name": "alpha", "region": "us-east-1"}]


def test_a_create_that_fails_in_cloudformation_ends_failed_with_the_failures_and_keeps_the_owner(world):
    operation_id, execution_input = accepted_create(world)
    failures = [{"failureCode": "HeadNodeBootstrapFailure", "failureReason": "Cluster creation timed out."}]
    outcome = world.run_workflow(execution_input, progress=moves(world, "alpha", "CREATE_IN_PROGRESS",
                                                                 "CREATE_FAILED", failures=failures))
    assert outcome["status"] == "FAILED"
    operation = world.operation(operation_id)
    assert (operation["clusterStatus"], operation["cloudFormationStackStatus"]) == ("CREATE_FAILED",
                                                                                    "ROLLBACK_COMPLETE")
    assert operation["failures"] == failures
    item = world.cluster_item("alpha")
    assert item["owner"] == ALICE.sub and "activeOperationId" not in item
    assert call("delete_cluster", path={"clusterName": "alpha"}).status == 202


def test_an_update_that_rolls_back_ends_failed(world):
    world.own("alpha", ALICE)
    accepted = call("update_cluster", path={"clusterName": "alpha"}, body={"clusterConfiguration": CONFIGURATION})
    (execution,) = world.executions()
    outcome = world.run_workflow(json.loads(execution["input"]),
                                 progress=moves(world, "alpha", "UPDATE_IN_PROGRESS", "UPDATE_FAILED"))
    assert outcome == {"operationId": accepted.body["operationId"], "status": "FAILED"}
    assert world.operation(accepted.body["operationId"])["changeSet"][0]["parameter"] == "HeadNode.Ssh.KeyName"
    assert "activeOperationId" not in world.cluster_item("alpha")


def test_a_delete_that_succeeds_forgets_the_cluster(world):
    world.own("alpha", ALICE)
    accepted = call("delete_cluster", path={"clusterName": "alpha"})
    (execution,) = world.executions()

    def progress(poll: int) -> None:
        if poll == 2:
            world.fake.finish_deleting("alpha")

    outcome = world.run_workflow(json.loads(execution["input"]), progress=progress)
    assert outcome == {"operationId": accepted.body["operationId"], "status": "SUCCEEDED"}
    assert world.operation(accepted.body["operationId"])["message"] == "The cluster was deleted."
    assert world.cluster_item("alpha") is None
    assert call("describe_cluster", path={"clusterName": "alpha"}).status == 404


def test_a_cluster_deleted_under_a_create_ends_it_failed(world):
    _, execution_input = accepted_create(world)
    outcome = world.run_workflow(execution_input, progress=moves(world, "alpha", "DELETE_IN_PROGRESS"))
    assert outcome["status"] == "FAILED"


def test_a_delete_stops_a_create_in_progress_whose_workflow_then_ends_without_releasing_the_delete(world):
    create_id, create_input = accepted_create(world)
    create_state = workflow_step("submit_operation", create_input)
    deleted = call("delete_cluster", path={"clusterName": "alpha"})
    assert deleted.status == 202
    created = workflow_step("record_outcome", workflow_step("poll_cluster", create_state))
    assert created == {"operationId": create_id, "status": "FAILED"}
    assert world.cluster_item("alpha")["activeOperationId"] == deleted.body["operationId"]


def test_a_submit_state_run_again_does_not_submit_twice(world):
    _, execution_input = accepted_create(world)
    first = workflow_step("submit_operation", execution_input)
    second = workflow_step("submit_operation", execution_input)
    assert first["status"] == second["status"] == "IN_PROGRESS"
    assert len(world.fake.called("create_cluster")) == 1


def test_a_submit_cut_short_after_it_began_goes_on_to_polling_instead_of_submitting_twice(world):
    operation_id, execution_input = accepted_create(world)
    world.dynamodb.Table("Operations").update_item(Key={"operationId": operation_id},
                                                   UpdateExpression="SET submittedAt = :t",
                                                   ExpressionAttributeValues={":t": "2026-01-01T00:00:00.000Z"})
    state = workflow_step("submit_operation", execution_input)
    assert state["status"] == "IN_PROGRESS"
    assert world.fake.called("create_cluster") == []


def test_a_throttled_submit_fails_the_state_for_a_retry_and_leaves_the_operation_pending(world):
    operation_id, execution_input = accepted_create(world)
    world.fake.fail["create_cluster"] = fake_lib.LimitExceededException("Rate exceeded")
    with pytest.raises(ParallelClusterThrottled, match="Rate exceeded"):
        workflow_step("submit_operation", execution_input)
    assert world.operation(operation_id)["status"] == "PENDING"


def test_a_throttled_poll_keeps_polling(world):
    _, execution_input = accepted_create(world)
    state = workflow_step("submit_operation", execution_input)
    world.fake.fail["describe_cluster"] = fake_lib.LimitExceededException("Rate exceeded")
    polled = workflow_step("poll_cluster", state)
    assert (polled["status"], polled["polls"]) == ("IN_PROGRESS", 1)


def test_polling_past_the_operation_timeout_ends_it_failed_and_releases_the_lock(world):
    operation_id, execution_input = accepted_create(world)
    state = {**workflow_step("submit_operation", execution_input), "pollUntil": 0}
    polled = workflow_step("poll_cluster", state)
    outcome = workflow_step("record_outcome", polled)
    assert outcome["status"] == "FAILED"
    assert world.operation(operation_id)["message"].startswith("The cluster did not reach a final status in time")
    assert "activeOperationId" not in world.cluster_item("alpha")


def test_a_state_that_crashes_is_caught_into_a_failed_operation_that_keeps_the_claim(world):
    operation_id, execution_input = accepted_create(world)
    world.fake.fail["create_cluster"] = RuntimeError("node: not found")
    outcome = world.run_workflow(execution_input)
    assert outcome["status"] == "FAILED"
    assert world.operation(operation_id)["message"] == ("The workflow failed (RuntimeError): the cluster may have "
                                                        "changed; describe it.")
    item = world.cluster_item("alpha")
    assert item["owner"] == ALICE.sub and "activeOperationId" not in item


def test_recording_an_outcome_twice_changes_nothing_more(world):
    operation_id, execution_input = accepted_create(world)
    world.fake.validation_errors = [fake_lib.validation_error("bad")]
    state = workflow_step("submit_operation", execution_input)
    first = workflow_step("record_outcome", state)
    before = world.operation(operation_id)
    second = workflow_step("record_outcome", state)
    assert first == second
    assert world.operation(operation_id) == before


def test_a_late_poll_never_overwrites_an_ended_operation(world):
    operation_id, execution_input = accepted_create(world)
    state = workflow_step("submit_operation", execution_input)
    world.fake.set_status("alpha", "CREATE_COMPLETE")
    workflow_step("record_outcome", workflow_step("poll_cluster", state))
    world.fake.set_status("alpha", "CREATE_FAILED")
    workflow_step("poll_cluster", state)
    assert world.operation(operation_id)["status"] == "SUCCEEDED"


def test_a_dry_run_ends_without_polling(world):
    _, execution_input = accepted_create(world, dryrun="true")
    state = workflow_step("submit_operation", execution_input)
    assert state["status"] == "DRYRUN_SUCCEEDED"
    assert workflow_step("record_outcome", state)["status"] == "DRYRUN_SUCCEEDED"


@pytest.mark.parametrize("state", [
    {"operationId": "not-a-uuid", "operation": "CREATE_CLUSTER", "clusterName": "alpha", "dryrun": False},
    {"operationId": "0f7c4e30-0000-41ef-8000-0a1b2c3d4e5f", "operation": "REBOOT", "clusterName": "alpha"},
    {"operationId": "0f7c4e30-0000-41ef-8000-0a1b2c3d4e5f", "operation": "CREATE_CLUSTER", "clusterName": "a;b"},
])
def test_a_state_this_workflow_never_writes_is_refused(world, state):
    with pytest.raises(InvalidState, match="must be"):
        workflow_step("submit_operation", state)
