"""Creates a stack's data resources in moto from its template, and names everything it refers to.

What is created, from the resource's own properties: DynamoDB tables (key schema, indexes,
stream, TTL), SQS queues (dead-letter queues first, redrive policy, visibility timeout,
retention), KMS keys, S3 buckets, Secrets Manager secrets (``GenerateSecretString`` honoured),
Cognito identity pools and IoT policies. What is only named: user pools and their app clients
(the local issuer serves them), Lambda functions (run in-process), the IoT endpoint lookups
(stand-in hosts). :func:`provision` returns the physical value of every ``Ref`` and
``Fn::GetAtt`` this makes resolvable, for a :class:`local.cfn.Resolver`.
"""
from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from local.aws import IOT_CREDENTIALS_ENDPOINT, IOT_DATA_ENDPOINT
from local.cfn import Resolver, Template
from local.settings import ACCOUNT_ID, REGION

_ARN = f"{REGION}:{ACCOUNT_ID}"


@dataclass(frozen=True)
class UserPoolNames:
    """What a stack's user pool is called locally (see :func:`user_pool_names`)."""

    pool_id: str
    issuer: str
    client_ids: dict[str, str]  # logical id of each app client -> its client id

    @property
    def arn(self) -> str:
        return f"arn:aws:cognito-idp:{_ARN}:userpool/{self.pool_id}"


def user_pool_names(template: Template, issuer_base: str) -> dict[str, UserPoolNames]:
    """{logical id of each user pool: its local names}. A pool's id is ``<region>_<stack>``
    (one per stack, like the deployed stacks), its issuer ``<issuer base>/<pool id>``; an app
    client's id is ``<stack>-web`` (lowercase), or ``<stack>-<logical id>`` beside others."""
    pools: dict[str, UserPoolNames] = {}
    clients = template.of_type("AWS::Cognito::UserPoolClient")
    for index, pool_logical_id in enumerate(template.of_type("AWS::Cognito::UserPool")):
        pool_id = f"{REGION}_{template.stack_name}" + (f"-{index}" if index else "")
        own = [logical_id for logical_id, props in clients.items()
               if props.get("UserPoolId") == {"Ref": pool_logical_id}]
        base = template.stack_name.lower()
        client_ids = {logical_id: f"{base}-web" if len(own) == 1 else f"{base}-{logical_id.lower()}"
                      for logical_id in own}
        pools[pool_logical_id] = UserPoolNames(pool_id, f"{issuer_base}/{pool_id}", client_ids)
    return pools


def static_names(template: Template, issuer_base: str) -> dict[str, Any]:
    """Names that need no AWS call: user pools and clients, functions, IoT endpoint lookups."""
    names: dict[str, Any] = {}
    for logical_id, pool in user_pool_names(template, issuer_base).items():
        names[logical_id] = pool.pool_id
        names[f"{logical_id}.Arn"] = pool.arn
        names[f"{logical_id}.ProviderURL"] = pool.issuer
        names[f"{logical_id}.ProviderName"] = pool.issuer.split("://", 1)[1]
        for client_logical_id, client_id in pool.client_ids.items():
            names[client_logical_id] = client_id
    for logical_id in template.of_type("AWS::Lambda::Function"):
        names[logical_id] = logical_id
        names[f"{logical_id}.Arn"] = f"arn:aws:lambda:{_ARN}:function:{logical_id}"
    for logical_id, props in template.of_type("Custom::AWS").items():
        call = json.loads(props.get("Create") or "{}")
        if call.get("service") == "Iot" and call.get("action") == "describeEndpoint":
            endpoint_type = call.get("parameters", {}).get("endpointType")
            credentials = endpoint_type == "iot:CredentialProvider"
            names[f"{logical_id}.endpointAddress"] = IOT_CREDENTIALS_ENDPOINT if credentials else IOT_DATA_ENDPOINT
    return names


def provision(template: Template, clients: Any, issuer_base: str) -> dict[str, Any]:
    """Create the stack's data resources in moto; every name a :class:`Resolver` may need.

    ``clients(service)`` gives a boto3 client for moto.
    """
    names = static_names(template, issuer_base)
    stack = template.stack_name
    for logical_id, props in template.of_type("AWS::DynamoDB::GlobalTable").items():
        names.update(_table(clients("dynamodb"), f"{stack}-{logical_id}", logical_id, props))
    for logical_id, props in template.of_type("AWS::DynamoDB::Table").items():
        names.update(_table(clients("dynamodb"), f"{stack}-{logical_id}", logical_id, props))
    for logical_id, props in template.of_type("AWS::KMS::Key").items():
        metadata = clients("kms").create_key(Description=str(props.get("Description", logical_id)))["KeyMetadata"]
        names[logical_id], names[f"{logical_id}.Arn"] = metadata["KeyId"], metadata["Arn"]
    queues = template.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy names its queue's ARN.
    for logical_id in sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid]):
        names.update(_queue(clients("sqs"), stack, logical_id, queues[logical_id], Resolver(names)))
    for logical_id in template.of_type("AWS::S3::Bucket"):
        bucket = re.sub(r"[^a-z0-9-]", "-", f"{stack}-{logical_id}".lower())[:63].strip("-")
        clients("s3").create_bucket(Bucket=bucket)
        names[logical_id], names[f"{logical_id}.Arn"] = bucket, f"arn:aws:s3:::{bucket}"
    for logical_id, props in template.of_type("AWS::SecretsManager::Secret").items():
        arn = clients("secretsmanager").create_secret(Name=f"{stack}-{logical_id}",
                                                      SecretString=_secret_string(props))["ARN"]
        names[logical_id] = arn
    resolve = Resolver(names)
    for logical_id, props in template.of_type("AWS::Cognito::IdentityPool").items():
        pool = clients("cognito-identity").create_identity_pool(
            IdentityPoolName=re.sub(r"[^\w]", "_", f"{stack}_{logical_id}"),
            AllowUnauthenticatedIdentities=bool(props.get("AllowUnauthenticatedIdentities")),
            CognitoIdentityProviders=resolve(props.get("CognitoIdentityProviders") or []))
        names[logical_id] = pool["IdentityPoolId"]
    for logical_id, props in template.of_type("AWS::IoT::Policy").items():
        name = props.get("PolicyName") or f"{stack}-{logical_id}"
        try:
            document = json.dumps(resolve(props["PolicyDocument"]))
        except LookupError:  # it names resources local emulation does not create (role aliases)
            document = json.dumps({"Version": "2012-10-17", "Statement": []})
        clients("iot").create_policy(policyName=name, policyDocument=document)
        names[logical_id], names[f"{logical_id}.Arn"] = name, f"arn:aws:iot:{_ARN}:policy/{name}"
    return names


def _table(dynamodb: Any, name: str, logical_id: str, props: dict[str, Any]) -> dict[str, str]:
    request: dict[str, Any] = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                               "KeySchema": props["KeySchema"], "AttributeDefinitions": props["AttributeDefinitions"]}
    indexes = [{"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
               for index in props.get("GlobalSecondaryIndexes") or []]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    table = dynamodb.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": ttl["AttributeName"]})
    names = {logical_id: name, f"{logical_id}.Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        names[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
    return names


def _queue(sqs: Any, stack: str, logical_id: str, props: dict[str, Any], resolve: Resolver) -> dict[str, str]:
    fifo = bool(props.get("FifoQueue"))
    name = props.get("QueueName") or f"{stack}-{logical_id}" + (".fifo" if fifo else "")
    attributes = {key: str(props[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                                                   "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize")
                  if key in props}
    if props.get("RedrivePolicy"):
        attributes["RedrivePolicy"] = json.dumps(resolve(props["RedrivePolicy"]))
    if fifo:
        attributes["FifoQueue"] = "true"
        if props.get("ContentBasedDeduplication"):
            attributes["ContentBasedDeduplication"] = "true"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return {logical_id: url, f"{logical_id}.Arn": f"arn:aws:sqs:{_ARN}:{name}", f"{logical_id}.QueueName": name,
            f"{logical_id}.QueueUrl": url}


def _secret_string(props: dict[str, Any]) -> str:
    if "SecretString" in props:
        return str(props["SecretString"])
    generate = props.get("GenerateSecretString") or {}
    alphabet = string.ascii_letters + string.digits + ("" if generate.get("ExcludePunctuation") else "!#$%&*+-.:=?@^_~")
    value = "".join(secrets.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32))))
    template = generate.get("SecretStringTemplate")
    if template and generate.get("GenerateStringKey"):
        document = json.loads(template)
        document[generate["GenerateStringKey"]] = value
        return json.dumps(document)
    return value
