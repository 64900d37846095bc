"""An encrypted SQS queue with its dead-letter queue and an alarm on what lands there."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.nag import acknowledge

# Lambda's guidance: a queue's visibility timeout is at least six times its consumer's timeout,
# so a message is not redelivered while a retried batch is still running.
VISIBILITY_TIMEOUT_FACTOR = 6
DEFAULT_RETENTION = cdk.Duration.days(4)


class DeadLetterQueue(Construct):
    """Where messages or stream batches that failed for good wait (14 days) for a person,
    with an alarm on the first arrival: a dead-letter queue, or a stream's on-failure destination."""

    def __init__(self, scope: Construct, id_: str, *, alarms: AlarmTopic, purpose: str,
                 fifo: bool = False) -> None:
        super().__init__(scope, id_)
        # A FIFO queue's dead-letter queue must be FIFO too.
        self.queue = sqs.Queue(self, "Queue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                               retention_period=cdk.Duration.days(14), fifo=True if fifo else None)
        acknowledge(self.queue.node.default_child, "AwsSolutions-SQS3",
                    f"This queue is itself the dead-letter destination of {purpose}.")
        self.alarm = alarms.alarm(
            self, "NotEmpty", threshold=0,
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM),
            description=f"Failed work from {purpose} is waiting in {self.node.path}")


class SecureQueue(Construct):
    """Queue + DLQ, both SQS-managed-encrypted and TLS-only, and an alarm on the DLQ's depth.

    Nothing a user sent is dropped silently: after ``max_receive_count`` failed receives a
    message moves to the DLQ (kept 14 days), and its first arrival there raises the alarm.

    ``fifo=True`` makes both FIFO. Deduplication is then explicit: every sender passes a
    ``MessageDeduplicationId`` (content-based deduplication is off, so a send without one
    fails instead of being deduplicated by a body that may legitimately repeat).
    """

    def __init__(self, scope: Construct, id_: str, *, alarms: AlarmTopic, consumer_timeout: cdk.Duration,
                 max_receive_count: int = 5, retention: cdk.Duration = DEFAULT_RETENTION,
                 fifo: bool = False) -> None:
        super().__init__(scope, id_)
        self.dead_letters = DeadLetterQueue(self, "Dlq", alarms=alarms, purpose=f"the queue {self.node.path}",
                                            fifo=fifo)
        self.dead_letter_queue = self.dead_letters.queue
        self.queue = sqs.Queue(
            self, "Queue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            retention_period=retention,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue,
                                                  max_receive_count=max_receive_count),
            fifo=True if fifo else None, content_based_deduplication=False if fifo else None)
        self.dlq_alarm = self.dead_letters.alarm
