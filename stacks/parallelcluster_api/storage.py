"""The API's own records: operations (the outcome of a create, update or delete) and cluster owners."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

_S = dynamodb.AttributeType.STRING
# The Operations attribute holding when an operation's record expires (epoch seconds).
OPERATION_EXPIRY_ATTRIBUTE = "expiresAt"


def _table(scope: Construct, id_: str, *, partition: str, removal_policy: cdk.RemovalPolicy,
           **kwargs) -> dynamodb.TableV2:
    return dynamodb.TableV2(
        scope, id_,
        partition_key=dynamodb.Attribute(name=partition, type=_S),
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        deletion_protection=removal_policy == cdk.RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
        **kwargs)


class ParallelClusterApiTables(Construct):
    """``Operations``: one item per create, update or delete (``operationId``), expiring through
    TTL on ``expiresAt``. ``Clusters``: the owner (the token's ``sub``) of each cluster
    (``clusterName``), written before ParallelCluster is asked to create it, with the operation
    holding the cluster (one at a time)."""

    def __init__(self, scope: Construct, id_: str, *, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.operations = _table(self, "Operations", partition="operationId", removal_policy=removal_policy,
                                 time_to_live_attribute=OPERATION_EXPIRY_ATTRIBUTE)
        self.clusters = _table(self, "Clusters", partition="clusterName", removal_policy=removal_policy)
