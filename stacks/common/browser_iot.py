"""Browsers receiving AWS IoT Core topics: MQTT on WebSocket, signed with the credentials a
Cognito identity pool gives a signed-in user. One construct for every system with such a page.

AWS IoT authorizes an authenticated Cognito identity by both the identity pool role and an
IoT policy attached to that identity. Both hold the same statements, and only: connecting with
a client id that starts ``<client_id_prefix>-<identity id>-``, subscribing to and receiving the
given topics. Browsers never publish. The policy is attached at run time by the session
function (``lambda_src/browser_iot/open_session``), which the system routes on its API
(``session_function``); a custom resource detaches it from every identity before
CloudFormation deletes it (IoT refuses to delete an attached policy).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from constructs import Construct

from stacks.common.identity_pool import SignedInIdentityPool
from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge, acknowledge_wildcard_resources

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "browser_iot"
# IAM and IoT policy variable: the Cognito identity id of the caller.
IDENTITY = "${cognito-identity.amazonaws.com:sub}"
# How the session function's SESSION_TOPICS name the caller's identity id.
SESSION_IDENTITY = "{identityId}"
SESSION_TIMEOUT = cdk.Duration.seconds(20)
# The longest a Lambda function may run; the custom resource answers FAILED before it runs out.
DETACH_TIMEOUT = cdk.Duration.minutes(15)


def browser_statements(stack: cdk.Stack, *, client_id_prefix: str, topics: Sequence[str]) -> list[dict]:
    """The policy statements, as JSON, shared by the role and the IoT policy. ``topics`` are
    topic names (``*`` matches any characters, ``IDENTITY`` the caller's identity id)."""
    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="iot", resource=resource, resource_name=name)

    return [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": [arn("client", f"{client_id_prefix}-{IDENTITY}-*")]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [arn("topicfilter", t) for t in topics]},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": [arn("topic", t) for t in topics]},
    ]


class BrowserIotAccess(Construct):
    """``identities``' signed-in users may receive ``topics`` (policy names, with ``IDENTITY``)
    once ``session_function`` ran for them; it answers ``session_topics`` (a name for each
    topic the page uses, ``SESSION_IDENTITY`` standing for the caller's identity id).

    ``login_provider`` is the identity pool's name for the token issuer (the ``Logins`` key).
    ``allowed_origins`` makes the session function send CORS headers itself, as a REST API
    proxy integration must; behind an HTTP API with CORS configured, leave it empty.
    """

    def __init__(self, scope: Construct, id_: str, *, identities: SignedInIdentityPool, login_provider: str,
                 data_endpoint: str, client_id_prefix: str, topics: Sequence[str],
                 session_topics: Mapping[str, str], service_name: str, metrics_namespace: str,
                 log_retention_days: int, wildcard_reason: str, allowed_origins: Sequence[str] = ()) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        statements = browser_statements(stack, client_id_prefix=client_id_prefix, topics=topics)
        self.browser_policy = iam.Policy(self, "BrowserPolicy", roles=[identities.role],
                                         document=iam.PolicyDocument.from_json(
                                             {"Version": "2012-10-17", "Statement": statements}))
        acknowledge_wildcard_resources(
            self.browser_policy, [arn for statement in statements for arn in statement["Resource"]], wildcard_reason)
        self.iot_policy = iot.CfnPolicy(self, "BrowserIotPolicy", policy_document={
            "Version": "2012-10-17", "Statement": statements})
        self.iot_policy_name = self.iot_policy.ref

        environment = {"IDENTITY_POOL_ID": identities.identity_pool_id, "LOGIN_PROVIDER": login_provider,
                       "IOT_POLICY_NAME": self.iot_policy_name, "IOT_DATA_ENDPOINT": data_endpoint,
                       "CLIENT_ID_PREFIX": client_id_prefix, "SESSION_TOPICS": json.dumps(dict(session_topics))}
        if allowed_origins:
            environment["ALLOWED_ORIGINS"] = json.dumps(list(allowed_origins))
        self.session_function = PythonFunction(
            self, "OpenSession", entry=FUNCTIONS_DIR / "open_session", package_root=FUNCTIONS_DIR,
            service_name=service_name, metrics_namespace=metrics_namespace, log_retention_days=log_retention_days,
            description="Lets the caller's Cognito identity receive the real-time topics (attaches the IoT policy)",
            environment=environment, timeout=SESSION_TIMEOUT)
        attach = iam.Policy(self, "AttachIotPolicy", roles=[self.session_function.role], statements=[
            iam.PolicyStatement(actions=["iot:AttachPolicy"], resources=["*"])])
        acknowledge(attach, "AwsSolutions-IAM5[Resource::*]",
                    "iot:AttachPolicy to a Cognito identity has no resource-level permission; the function "
                    "attaches only the policy named in its environment, to the identity of the caller's token.")
        self._detach_before_deletion(service_name=service_name, metrics_namespace=metrics_namespace,
                                     log_retention_days=log_retention_days)

    def _detach_before_deletion(self, *, service_name: str, metrics_namespace: str, log_retention_days: int) -> None:
        """A custom resource depending on the policy (so deleted before it) detaches every
        target first. The session function depends on that resource in turn, so on stack
        deletion nothing attaches the policy again once the detaching has started."""
        self.detach = PythonFunction(
            self, "DetachPolicyTargets", entry=FUNCTIONS_DIR / "detach_policy_targets", package_root=FUNCTIONS_DIR,
            service_name=service_name, metrics_namespace=metrics_namespace, log_retention_days=log_retention_days,
            description="Deploy time: detaches the browser IoT policy from every target before it is deleted",
            timeout=DETACH_TIMEOUT)
        self.detach_permissions = iam.Policy(self, "DetachIotPolicy", roles=[self.detach.role], statements=[
            iam.PolicyStatement(actions=["iot:ListTargetsForPolicy"], resources=[self.iot_policy.attr_arn]),
            iam.PolicyStatement(actions=["iot:DetachPolicy"], resources=["*"])])
        acknowledge(self.detach_permissions, "AwsSolutions-IAM5[Resource::*]",
                    "iot:DetachPolicy authorizes its target, and a Cognito identity target has no resource "
                    "type; the function detaches only the policy its custom resource names, at deploy time.")
        self.policy_targets = cdk.CustomResource(
            self, "BrowserPolicyTargets", service_token=self.detach.function.function_arn,
            resource_type="Custom::IotPolicyTargets", properties={"PolicyName": self.iot_policy.ref},
            # A function that never answers fails the stack operation after this, not after an hour.
            service_timeout=DETACH_TIMEOUT.plus(cdk.Duration.minutes(1)))
        self.policy_targets.node.add_dependency(self.iot_policy)
        # Its permissions and logs must outlive the Delete it serves.
        self.policy_targets.node.add_dependency(self.detach_permissions, self.detach)
        self.session_function.node.add_dependency(self.policy_targets)
