"""``ClusterOperation``: the long half of a create, update or delete, as a Step Functions workflow.

The API function that accepted the request wrote the operation record, claimed the cluster and
started an execution with ``{"operationId", "operation", "clusterName", "dryrun"}``; it answered
202 long before this ends. Each function returns the whole state with its additions
(``shared/workflow.py`` of the function package), so each task's result replaces the state:

    SubmitOperation ─▶ Submitted? ── status IN_PROGRESS ──▶ WaitBeforePolling ─▶ PollCluster ─▶ Settled?
                           │ any other status                      ▲                              │
                           │ (validation failed, dry run, done)    └──────── IN_PROGRESS ─────────┤
                           ▼                                                                       │ other
                      RecordOutcome ◀──────────────────────────────────────────────────────────────┘
                           │                                   IN_PROGRESS too long ─▶ OperationTimedOut ─┐
                           ▼                                                                              ▼
                       Succeeded        any task's error, after its retries ─▶ RecordFailure ─▶ OperationFailed

``submit_operation`` sets ``pollUntil`` (OPERATION_TIMEOUT_SECONDS from now) and ``poll_cluster``
records the operation as FAILED once past it; ``OperationTimedOut`` is the backstop that keeps an
execution inside Step Functions' history limit whatever the functions answer.
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
IN_PROGRESS = "IN_PROGRESS"
# How long an operation may take before it is recorded as timed out. Creates take 10-30
# minutes (the head node waits at most 30 by default), deletes less; an update replacing large
# fleets or FSx file systems can take hours.
MAX_OPERATION = cdk.Duration.hours(6)
# A failed poll is tried again: describing a cluster only reads, and a transient CloudFormation
# or EC2 error must not fail an operation that is going well. Not a state the workflow never
# writes (the functions raise InvalidState): a wiring error, retrying cannot help.
POLL_RETRIES = 3
INVALID_STATE = "InvalidState"
# submit_operation raises this (submit_operation/logic.py) when ParallelCluster, or an AWS API
# behind it, throttles: the submission is tried again later; nothing else of it is retried, as a
# create must not reach ParallelCluster twice.
SUBMIT_THROTTLED = "ParallelClusterThrottled"
# Step Functions retries a Lambda task on its service faults (CDK's LambdaInvoke) but not on
# throttling, which a burst of operations can cause: retried too.
THROTTLED = "Lambda.TooManyRequestsException"
# A standard execution's history holds at most 25,000 events; one turn of the poll loop writes
# 9 (Wait 2, the Lambda task 5, the Choice 2). The shortest poll interval config allows keeps the
# longest operation well below that, retries included.
MAX_HISTORY_EVENTS = 25_000
EVENTS_PER_POLL = 9


def max_polls(poll_interval_seconds: int) -> int:
    return math.ceil(MAX_OPERATION.to_seconds() / poll_interval_seconds)


class ClusterOperationWorkflow(Construct):
    def __init__(self, scope: Construct, id_: str, *, submit: lambda_.IFunction, poll: lambda_.IFunction,
                 record: lambda_.IFunction, poll_interval_seconds: int, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        stack_name = cdk.Stack.of(self).stack_name

        def invoke(id__: str, function: lambda_.IFunction, *, keep_state: bool = False) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(self, id__, lambda_function=function, payload_response_only=True,
                                      retry_on_service_exceptions=True,
                                      result_path=sfn.JsonPath.DISCARD if keep_state else "$")
            task.add_retry(errors=[THROTTLED], interval=cdk.Duration.seconds(5), max_attempts=6, backoff_rate=2)
            return task

        failed = sfn.Fail(self, "OperationFailed", error="OperationFailed",
                          cause="The operation could not be submitted, polled or recorded; its record says why")
        record_failure = invoke("RecordFailure", record, keep_state=True)
        record_failure.next(failed)
        submit_task = invoke("SubmitOperation", submit)
        submit_task.add_retry(errors=[SUBMIT_THROTTLED], interval=cdk.Duration.seconds(30), max_attempts=5,
                              backoff_rate=2)
        poll_task = invoke("PollCluster", poll)
        poll_task.add_retry(errors=[INVALID_STATE], max_attempts=0)
        poll_task.add_retry(errors=["States.TaskFailed"], interval=cdk.Duration.seconds(10),
                            max_attempts=POLL_RETRIES, backoff_rate=2)
        record_outcome = invoke("RecordOutcome", record)
        for task in (submit_task, poll_task, record_outcome):
            task.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
        record_outcome.next(sfn.Succeed(self, "Succeeded"))

        wait = sfn.Wait(self, "WaitBeforePolling",
                        time=sfn.WaitTime.duration(cdk.Duration.seconds(poll_interval_seconds)))
        in_progress = sfn.Condition.string_equals("$.status", IN_PROGRESS)
        timed_out = sfn.Pass(self, "OperationTimedOut", result_path="$.error", result=sfn.Result.from_object({
            "Error": "OperationTimedOut",
            "Cause": f"The cluster did not settle within {MAX_OPERATION.to_hours():g} hours of polling"}))
        timed_out.next(record_failure)
        settled = (sfn.Choice(self, "Settled")
                   .when(sfn.Condition.and_(in_progress, sfn.Condition.is_present("$.polls"),
                                            sfn.Condition.number_greater_than_equals(
                                                "$.polls", max_polls(poll_interval_seconds))), timed_out)
                   .when(in_progress, wait)
                   .otherwise(record_outcome))
        wait.next(poll_task)
        poll_task.next(settled)
        definition = submit_task.next(
            sfn.Choice(self, "Submitted").when(in_progress, wait).otherwise(record_outcome))

        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/vendedlogs/states/{stack_name}-{WORKFLOW_NAME}",
            retention=log_retention(log_retention_days), removal_policy=cdk.RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=f"{stack_name}-{WORKFLOW_NAME}",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            # Past the poll loop's own limit, so the loop records a timeout before this ends it.
            timeout=MAX_OPERATION.plus(cdk.Duration.hours(1)),
            tracing_enabled=True,
            # Executions carry cluster names and operation ids only, but their errors may quote
            # configurations: execution data stays out of the logs.
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
