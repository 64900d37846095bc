"""Behind the API: the queues and their consumers, and the two table streams."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.ask_around_me.functions import ask_around_me_function
from stacks.ask_around_me.storage import AskAroundMeTables
from stacks.common.alarms import AlarmTopic
from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge_wildcard_resources
from stacks.common.queues import DeadLetterQueue, SecureQueue

CONSUMER_TIMEOUT = cdk.Duration.seconds(30)
# Powertools reports failed messages; only those are retried.
QUEUE_BATCH_SIZE = 10
STREAM_BATCH_SIZE = 100
# A record is retried this often (halving its batch each time) before it goes to the
# on-failure queue; its answer's next record heals the summary anyway (docs/ask_around_me.md).
STREAM_RETRY_ATTEMPTS = 5
STREAM_MAX_RECORD_AGE = cdk.Duration.hours(6)


class QuestionQueues(Construct):
    """Questions, StarAnswers and GeoAnswers, each with its dead-letter queue and alarm."""

    def __init__(self, scope: Construct, id_: str, *, alarms: AlarmTopic) -> None:
        super().__init__(scope, id_)
        self.questions = SecureQueue(self, "Questions", alarms=alarms, consumer_timeout=CONSUMER_TIMEOUT)
        self.star_answers = SecureQueue(self, "StarAnswers", alarms=alarms, consumer_timeout=CONSUMER_TIMEOUT)
        self.geo_answers = SecureQueue(self, "GeoAnswers", alarms=alarms, consumer_timeout=CONSUMER_TIMEOUT)
        self.all = (self.questions, self.star_answers, self.geo_answers)


def _stream_source(table: dynamodb.ITableV2, *, on_failure: DeadLetterQueue) -> sources.DynamoEventSource:
    return sources.DynamoEventSource(
        table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=STREAM_BATCH_SIZE,
        bisect_batch_on_error=True, retry_attempts=STREAM_RETRY_ATTEMPTS,
        max_record_age=STREAM_MAX_RECORD_AGE, report_batch_item_failures=True,
        on_failure=sources.SqsDlq(on_failure.queue))


def _queue_source(queue: SecureQueue) -> sources.SqsEventSource:
    return sources.SqsEventSource(queue.queue, batch_size=QUEUE_BATCH_SIZE, report_batch_item_failures=True)


@dataclass(frozen=True)
class Grant:
    """Actions the consumer may take on exactly these resources."""
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def _consumer(scope: Construct, id_: str, *, name: str, description: str, retention: int,
              environment: Mapping[str, str], event_sources: Sequence[lambda_.IEventSource],
              grants: Sequence[Grant] = ()) -> PythonFunction:
    """A queue or stream consumer: its function (the consumer timeout the queues are sized for),
    the event sources feeding it and what it may do beyond reading them."""
    consumer = ask_around_me_function(scope, id_, name=name, description=description, log_retention_days=retention,
                                      timeout=CONSUMER_TIMEOUT, environment=environment)
    for event_source in event_sources:
        consumer.function.add_event_source(event_source)
    for grant in grants:
        consumer.function.add_to_role_policy(iam.PolicyStatement(actions=list(grant.actions),
                                                                  resources=list(grant.resources)))
    return consumer


class QuestionProcessing(Construct):
    """Consumers that write the tables, the aggregation of answers and the real-time publisher."""

    def __init__(self, scope: Construct, id_: str, *, config: AskAroundMeConfig, tables: AskAroundMeTables,
                 queues: QuestionQueues, alarms: AlarmTopic, iot_data_endpoint: str) -> None:
        super().__init__(scope, id_)
        retention = config.observability.log_retention_days
        questions, answers, ledger = tables.questions, tables.answers, tables.ledger

        self.save_question = _consumer(
            self, "SaveQuestion", name="save_question", retention=retention,
            description="Stores queued questions in the Questions table",
            environment={"QUESTIONS_TABLE_NAME": questions.table_name},
            event_sources=[_queue_source(queues.questions)],
            grants=[Grant(("dynamodb:PutItem",), (questions.table_arn,))])

        self.save_answer = _consumer(
            self, "SaveAnswer", name="save_answer", retention=retention,
            description="Stores queued star and geo answers, one per user per question",
            environment={"ANSWERS_TABLE_NAME": answers.table_name, "QUESTIONS_TABLE_NAME": questions.table_name},
            event_sources=[_queue_source(queues.star_answers), _queue_source(queues.geo_answers)],
            grants=[Grant(("dynamodb:PutItem",), (answers.table_arn,)),
                    Grant(("dynamodb:GetItem",), (questions.table_arn,))])

        self.aggregation_failures = DeadLetterQueue(
            self, "AggregationFailures", alarms=alarms, purpose="the Answers stream aggregation")
        self.aggregate_answers = _consumer(
            self, "AggregateAnswers", name="aggregate_answers", retention=retention,
            description="Keeps question summaries exact from the Answers stream (idempotent ledger)",
            environment={"QUESTIONS_TABLE_NAME": questions.table_name,
                         "AGGREGATION_LEDGER_TABLE_NAME": ledger.table_name},
            event_sources=[_stream_source(answers, on_failure=self.aggregation_failures)],
            grants=[Grant(("dynamodb:GetItem", "dynamodb:PutItem"), (ledger.table_arn,)),
                    Grant(("dynamodb:UpdateItem",), (questions.table_arn,))])

        self.publish_failures = DeadLetterQueue(
            self, "PublishFailures", alarms=alarms, purpose="the Questions stream publisher")
        self.publish_updates = _consumer(
            self, "PublishUpdates", name="publish_updates", retention=retention,
            description="Publishes new questions and summary changes to AWS IoT Core topics",
            environment={"IOT_DATA_ENDPOINT": iot_data_endpoint, "TOPIC_PREFIX": config.topic_prefix},
            event_sources=[_stream_source(questions, on_failure=self.publish_failures)])
        self.publish_topics = [
            cdk.Stack.of(self).format_arn(service="iot", resource="topic",
                                          resource_name=f"{config.topic_prefix}/{kind}/*")
            for kind in ("geo", "questions")]
        # A policy of its own, so that the wildcard acknowledgement covers these topics only.
        publish = iam.Policy(self, "PublishToTopics", roles=[self.publish_updates.role], statements=[
            iam.PolicyStatement(actions=["iot:Publish"], resources=self.publish_topics)])
        acknowledge_wildcard_resources(
            publish, self.publish_topics,
            "The topic is computed per stream record (cell or question id); each wildcard is "
            "confined to one branch of the app's topic namespace.")

        self.consumers = (self.save_question, self.save_answer, self.aggregate_answers, self.publish_updates)
