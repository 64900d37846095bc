"""The stack's output keys: the starter-config command (``ops/parallelcluster``) and users read them.

No CDK import here, so the command reads these names without loading the CDK.
"""
from __future__ import annotations

STACK_NAME = "ParallelClusterApi"

API_URL = "ApiUrl"
HEAD_NODE_SUBNET_ID = "HeadNodeSubnetId"
COMPUTE_SUBNET_ID = "ComputeSubnetId"
USER_POOL_ID = "UserPoolId"
PEOPLE_CLIENT_ID = "PeopleClientId"
MACHINE_CLIENT_ID = "MachineClientId"
ADMIN_CLIENT_ID = "AdminClientId"
TOKEN_ENDPOINT = "TokenEndpoint"
HOSTED_DOMAIN = "HostedDomain"
STARTER_CONFIG_COMMAND = "StarterConfigCommand"
STATE_MACHINE_ARN = "StateMachineArn"
ALARM_TOPIC_ARN = "AlarmTopicArn"
PARALLELCLUSTER_VERSION = "ParallelClusterVersion"
