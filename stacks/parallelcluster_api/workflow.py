"""``ClusterOperation``: the long half of a create, update or delete, as a Step Functions workflow.

The API function that accepted the request wrote the operation record and started an execution
with ``{"operationId", "clusterName", "kind", "owner", ...}``; it answered 202 long before this ends.

    SubmitOperation ──done──────────────────────────────────────────────▶ Succeeded
        │ (validation failed or dry run: recorded by submit_operation itself)
        ▼
    StartPolling ─▶ WaitBeforePolling ─▶ PollCluster ─▶ CountPoll ─▶ ClusterSettled?
                        ▲                                                 │ done ─▶ RecordOutcome ─▶ Succeeded
                        └──────────────────── not yet ────────────────────┤
                                                  too long ─▶ OperationTimedOut ─▶ RecordFailure ─▶ OperationFailed
    Any task's error, after its retries ─▶ RecordFailure (the error in $.error) ─▶ OperationFailed

State passed along: ``$.submitted`` (submit_operation's answer), ``$.cluster`` (poll_cluster's),
``$.polls.count``, and ``$.error`` (``{"Error", "Cause"}``) on the failure path. ``done`` is the
boolean both functions answer: the operation needs no more polling.
"""
from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.common.config import log_retention
from stacks.common.nag import acknowledge, acknowledge_wildcard_resources

WORKFLOW_NAME = "ClusterOperation"
# Longer than any create, update or delete ParallelCluster runs (its head node waits at most
# 30 minutes by default; a large update replaces fleets for hours): then the operation is
# recorded as timed out rather than polled for ever.
MAX_OPERATION = cdk.Duration.hours(12)
# Besides the retries CDK's LambdaInvoke adds for Lambda's own faults (throttling, service
# errors), a failed poll is tried again: describing a cluster is read-only, and a transient
# CloudFormation or EC2 throttle must not fail an operation that is going well.
POLL_RETRIES = 3
# Step Functions' own retries of a Lambda task cover its service faults but not throttling,
# which a burst of operations can cause: those are retried too.
THROTTLED = "Lambda.TooManyRequestsException"
# A standard execution's history holds at most 25,000 events; one turn of the poll loop writes
# 11 (Wait 2, the Lambda task 5, CountPoll 2, ClusterSettled 2). The shortest poll interval
# config allows keeps the longest operation well below that, retries included.
MAX_HISTORY_EVENTS = 25_000
EVENTS_PER_POLL = 11


def max_polls(poll_interval_seconds: int) -> int:
    return math.ceil(MAX_OPERATION.to_seconds() / poll_interval_seconds)


class ClusterOperationWorkflow(Construct):
    def __init__(self, scope: Construct, id_: str, *, submit: lambda_.IFunction, poll: lambda_.IFunction,
                 record: lambda_.IFunction, poll_interval_seconds: int, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        stack_name = cdk.Stack.of(self).stack_name

        def invoke(id__: str, function: lambda_.IFunction, result_path: str | None) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(self, id__, lambda_function=function, payload_response_only=True,
                                      retry_on_service_exceptions=True,
                                      result_path=result_path if result_path else sfn.JsonPath.DISCARD)
            task.add_retry(errors=[THROTTLED], interval=cdk.Duration.seconds(5), max_attempts=6, backoff_rate=2)
            return task

        failed = sfn.Fail(self, "OperationFailed", error="OperationFailed",
                          cause="The operation could not be submitted, polled or recorded; its record says why")
        record_failure = invoke("RecordFailure", record, None).next(failed)
        submit_task = invoke("SubmitOperation", submit, "$.submitted")
        poll_task = invoke("PollCluster", poll, "$.cluster")
        poll_task.add_retry(errors=["States.TaskFailed"], interval=cdk.Duration.seconds(10),
                            max_attempts=POLL_RETRIES, backoff_rate=2)
        for task in (submit_task, poll_task):
            task.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")

        succeeded = sfn.Succeed(self, "Succeeded")
        wait = sfn.Wait(self, "WaitBeforePolling",
                        time=sfn.WaitTime.duration(cdk.Duration.seconds(poll_interval_seconds)))
        start_polling = sfn.Pass(self, "StartPolling", result=sfn.Result.from_object({"count": 0}),
                                 result_path="$.polls")
        count_poll = sfn.Pass(self, "CountPoll", parameters={"count.$": "States.MathAdd($.polls.count, 1)"},
                              result_path="$.polls")
        timed_out = sfn.Pass(self, "OperationTimedOut", result_path="$.error", result=sfn.Result.from_object({
            "Error": "OperationTimedOut",
            "Cause": f"The cluster did not reach a final state within {MAX_OPERATION.to_hours():g} hours"}))
        record_outcome = invoke("RecordOutcome", record, None)
        record_outcome.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
        record_outcome.next(succeeded)

        settled = (sfn.Choice(self, "ClusterSettled")
                   .when(sfn.Condition.boolean_equals("$.cluster.done", True), record_outcome)
                   .when(sfn.Condition.number_greater_than_equals("$.polls.count", max_polls(poll_interval_seconds)),
                         timed_out.next(record_failure))
                   .otherwise(wait))
        wait.next(poll_task).next(count_poll).next(settled)
        definition = submit_task.next(
            sfn.Choice(self, "Submitted")
            .when(sfn.Condition.boolean_equals("$.submitted.done", True), succeeded)
            .otherwise(start_polling.next(wait)))

        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/vendedlogs/states/{stack_name}-{WORKFLOW_NAME}",
            retention=log_retention(log_retention_days), removal_policy=cdk.RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=f"{stack_name}-{WORKFLOW_NAME}",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            # A little longer than the poll loop can run, so the loop's own timeout records it.
            timeout=MAX_OPERATION.plus(cdk.Duration.hours(1)),
            tracing_enabled=True,
            # Executions carry cluster configurations and callers' ids: not in the logs.
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False))
        default_policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge_wildcard_resources(
            default_policy, [f"{fn.function_arn}:*" for fn in (submit, poll, record)],
            "Step Functions invokes each workflow function by its ARN; CDK grants its versions and aliases "
            "(<arn>:*) too, all of the same three functions.")
        acknowledge(default_policy, "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray tracing (PutTraceSegments, PutTelemetryRecords, GetSampling*) and Step Functions' "
                    "log delivery (logs:*LogDelivery*, DescribeResourcePolicies, DescribeLogGroups) support no "
                    "resource-level permissions; CDK adds exactly those for tracing and logging.")
