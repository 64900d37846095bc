"""Real-time updates for browsers: AWS IoT Core topics reached through a Cognito identity pool.

A browser signs in (JWT), calls ``POST /realtime/session`` (which attaches the app's IoT
policy to the caller's own Cognito identity), exchanges the same JWT for credentials of
the identity pool's authenticated role, and connects to the ATS endpoint over MQTT on
WebSocket. Role and IoT policy allow the same, and only: connecting with a client id that
starts with ``<prefix>-<identity id>-``, subscribing to and receiving the geo, question
and system topics and the caller's own user topic. Browsers never publish.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from constructs import Construct

from stacks.ask_around_me.api import JwtIssuer
from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.ask_around_me.functions import ask_around_me_function
from stacks.common.identity_pool import SignedInIdentityPool
from stacks.common.iot import IotEndpoint
from stacks.common.nag import acknowledge, acknowledge_wildcard_resources

ROLE_DESCRIPTION = "Signed-in Ask Around Me users: receive the app's real-time topics over MQTT"
# IAM and IoT policy variable: the Cognito identity id of the caller.
IDENTITY = "${cognito-identity.amazonaws.com:sub}"
# The longest a Lambda function may run; the custom resource answers FAILED before it runs out.
DETACH_TIMEOUT = cdk.Duration.minutes(15)


def topic_namespace(prefix: str) -> tuple[str, ...]:
    """Topic names (MQTT wildcards excluded) a browser may subscribe to and receive from."""
    return (f"{prefix}/geo/*", f"{prefix}/questions/*", f"{prefix}/users/{IDENTITY}", f"{prefix}/system")


def browser_statements(stack: cdk.Stack, prefix: str) -> list[dict]:
    """The policy statements, as JSON, shared by the role and the IoT policy."""
    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="iot", resource=resource, resource_name=name)

    topics = topic_namespace(prefix)
    return [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": [arn("client", f"{prefix}-{IDENTITY}-*")]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [arn("topicfilter", t) for t in topics]},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": [arn("topic", t) for t in topics]},
    ]


class RealtimeAccess(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: AskAroundMeConfig, issuer: JwtIssuer,
                 user_pool: cognito.IUserPool | None, user_pool_client: cognito.IUserPoolClient | None) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.endpoint = IotEndpoint(self, "DataEndpoint")

        if user_pool is not None:
            self.identities = SignedInIdentityPool(self, "Identities", user_pool=user_pool, client=user_pool_client,
                                                   role_description=ROLE_DESCRIPTION)
        else:
            # IAM holds one provider per URL per account: a second copy of the stack (another
            # region, another stage) names the existing one. Registered with the issuer URL
            # verbatim, as IAM compares it with the token's iss.
            self.oidc_provider = (
                iam.OidcProviderNative.from_oidc_provider_arn(self, "OidcProvider", config.oidc_provider_arn)
                if config.oidc_provider_arn else
                iam.OidcProviderNative(self, "OidcProvider", url=issuer.url, client_ids=list(issuer.audience)))
            self.identities = SignedInIdentityPool(self, "Identities", oidc_provider=self.oidc_provider,
                                                   role_description=ROLE_DESCRIPTION)
        statements = browser_statements(stack, config.topic_prefix)
        self.browser_policy = iam.Policy(self, "BrowserPolicy", roles=[self.identities.role],
                                         document=iam.PolicyDocument.from_json(
                                             {"Version": "2012-10-17", "Statement": statements}))
        acknowledge_wildcard_resources(
            self.browser_policy, [arn for statement in statements for arn in statement["Resource"]],
            "Browser clients pick their own client-id suffix and the geo and question topics they "
            "follow; the wildcard stays inside the app's topic namespace and the caller's identity id.")
        self.iot_policy = iot.CfnPolicy(self, "BrowserIotPolicy", policy_document={
            "Version": "2012-10-17", "Statement": statements})
        self.iot_policy_name = self.iot_policy.ref

        self.connect = ask_around_me_function(
            self, "ConnectRealtime", name="connect_realtime",
            log_retention_days=config.observability.log_retention_days,
            description="POST /realtime/session: lets the caller's Cognito identity use the app's IoT topics",
            environment={"IDENTITY_POOL_ID": self.identities.identity_pool_id, "LOGIN_PROVIDER": issuer.login_provider,
                         "IOT_POLICY_NAME": self.iot_policy_name, "IOT_DATA_ENDPOINT": self.endpoint.address,
                         "TOPIC_PREFIX": config.topic_prefix})
        attach = iam.Policy(self, "AttachIotPolicy", roles=[self.connect.role], statements=[
            iam.PolicyStatement(actions=["iot:AttachPolicy"], resources=["*"])])
        acknowledge(attach, "AwsSolutions-IAM5[Resource::*]",
                    "iot:AttachPolicy to a Cognito identity has no resource-level permission; the function "
                    "attaches only the policy named in its environment, to the identity of the caller's token.")
        self._detach_before_deletion(config)

    def _detach_before_deletion(self, config: AskAroundMeConfig) -> None:
        """IoT refuses to delete a policy still attached to identities, and connect_realtime
        attaches it at run time: a custom resource depending on the policy (so deleted before
        it) detaches every target first. connect_realtime depends on that resource in turn, so
        on stack deletion nothing attaches the policy again once the detaching has started."""
        self.detach = ask_around_me_function(
            self, "DetachPolicyTargets", name="detach_policy_targets",
            log_retention_days=config.observability.log_retention_days,
            description="Deploy time: detaches the browser IoT policy from every target before it is deleted",
            environment={}, timeout=DETACH_TIMEOUT)
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
        self.connect.node.add_dependency(self.policy_targets)
