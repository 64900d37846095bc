"""Questions, Answers and the aggregation ledger."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

_S = dynamodb.AttributeType.STRING


def _table(scope: Construct, id_: str, *, partition: str, sort: str | None, stream: bool,
           removal_policy: cdk.RemovalPolicy, **kwargs) -> dynamodb.TableV2:
    return dynamodb.TableV2(
        scope, id_,
        partition_key=dynamodb.Attribute(name=partition, type=_S),
        sort_key=dynamodb.Attribute(name=sort, type=_S) if sort else None,
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if stream else None,
        deletion_protection=removal_policy == cdk.RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
        **kwargs)


class AskAroundMeTables(Construct):
    """``Questions`` is searched by geohash cell through ``byCell``: partition ``cell`` (the
    precision-4 geohash, or a polar partition), sort ``created``, so a radius search reads only
    open questions of the cells its circle touches (docs/ask_around_me.md has the figures).
    ``Answers`` holds one answer per user per question; its stream feeds the aggregation,
    whose per-answer ledger makes replays and retries harmless."""

    CELL_INDEX = "byCell"

    def __init__(self, scope: Construct, id_: str, *, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.questions = _table(
            self, "Questions", partition="questionId", sort=None, stream=True, removal_policy=removal_policy,
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=self.CELL_INDEX,
                partition_key=dynamodb.Attribute(name="cell", type=_S),
                sort_key=dynamodb.Attribute(name="created", type=_S),
                projection_type=dynamodb.ProjectionType.INCLUDE,
                non_key_attributes=["type", "text", "author", "lat", "lng", "answerCount", "totalScore"])])
        self.answers = _table(self, "Answers", partition="questionId", sort="userId", stream=True,
                              removal_policy=removal_policy)
        self.ledger = _table(self, "AggregationLedger", partition="questionId", sort="userId", stream=False,
                             removal_policy=removal_policy, time_to_live_attribute="expiresAt")
        self.cell_index_arn = f"{self.questions.table_arn}/index/{self.CELL_INDEX}"
