"""The links table: one item per short link, an index of each owner's links."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class LinkTable(Construct):
    """On-demand, encrypted, point-in-time recoverable table of links.

    Items: ``id`` (the short link, partition key), ``url``, ``owner`` (the creator's email
    claim), ``timestamp`` (creation time) and ``updatedAt``. ``OwnerIndex`` is partitioned by
    owner and sorted by id, so a user's links list in a stable order and a page can resume
    from the last id alone.
    """

    OWNER_INDEX = "OwnerIndex"

    def __init__(self, scope: Construct, id_: str, *, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.table = dynamodb.TableV2(
            self, "Table",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=removal_policy == cdk.RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=self.OWNER_INDEX,
                partition_key=dynamodb.Attribute(name="owner", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )],
        )
        self.owner_index_arn = f"{self.table.table_arn}/index/{self.OWNER_INDEX}"
