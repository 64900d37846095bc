"""SecureQueue(fifo=True): a FIFO queue with explicit deduplication and a FIFO dead-letter queue."""
from __future__ import annotations

from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.common.alarms import AlarmTopic
from stacks.common.queues import SecureQueue


@pytest.fixture(scope="module")
def queues():
    stack = cdk.Stack(cdk.App(), "QueueStack")
    alarms = AlarmTopic(stack, "Alarms", email=None)
    fifo = SecureQueue(stack, "Pages", alarms=alarms, consumer_timeout=cdk.Duration.seconds(30), fifo=True)
    standard = SecureQueue(stack, "Plain", alarms=alarms, consumer_timeout=cdk.Duration.seconds(30))
    return SimpleNamespace(stack=stack, fifo=fifo, standard=standard, template=Template.from_stack(stack))


def _queue(queues, construct) -> dict:
    logical_id = queues.stack.get_logical_id(construct.node.default_child)
    return queues.template.to_json()["Resources"][logical_id]["Properties"]


def test_a_fifo_queue_needs_an_explicit_deduplication_id_from_every_sender(queues):
    properties = _queue(queues, queues.fifo.queue)

    assert properties["FifoQueue"] is True
    assert properties["ContentBasedDeduplication"] is False


def test_the_dead_letter_queue_of_a_fifo_queue_is_fifo_too(queues):
    assert _queue(queues, queues.fifo.dead_letter_queue)["FifoQueue"] is True


def test_a_fifo_queue_keeps_its_redrive_to_its_dead_letter_queue_and_its_encryption(queues):
    dead_letter_arn = queues.stack.resolve(queues.fifo.dead_letter_queue.queue_arn)

    queues.template.has_resource_properties("AWS::SQS::Queue", {
        "FifoQueue": True, "SqsManagedSseEnabled": True,
        "RedrivePolicy": {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 5}})


def test_standard_queues_carry_no_fifo_settings(queues):
    for construct in (queues.standard.queue, queues.standard.dead_letter_queue):
        properties = _queue(queues, construct)
        assert "FifoQueue" not in properties and "ContentBasedDeduplication" not in properties
