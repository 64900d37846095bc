"""People who watch and drive the robot from the web app.

They sign in to a Cognito user pool (its id token authorizes ``POST /publish`` and
``POST /session``) and exchange the same token at an identity pool for credentials of a role
that may only be a WebRTC viewer of this robot's signaling channel and receive its telemetry
over MQTT (client ids ``<robot>-viewer-<identity id>-*``, once ``POST /session`` attached the
viewers' IoT policy to their identity: stacks/common/browser_iot.py). Unauthenticated
identities are off: no role is attached for them at all.
"""
from __future__ import annotations

from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.browser_iot import BrowserIotAccess
from stacks.common.identity_pool import SignedInIdentityPool
from stacks.common.users import UserPoolSettings, WebUsers

METRICS_NAMESPACE = "TelepresenceRobot"
VIEWER_ACTIONS = ("kinesisvideo:ConnectAsViewer", "kinesisvideo:DescribeSignalingChannel",
                  "kinesisvideo:GetIceServerConfig", "kinesisvideo:GetSignalingChannelEndpoint")


class RobotViewers(Construct):
    def __init__(self, scope: Construct, id_: str, *, robot_name: str, settings: UserPoolSettings,
                 domain_label: str, self_sign_up: bool, removal_policy: cdk.RemovalPolicy,
                 channel_arn: str, data_endpoint: str, telemetry_topic: str, log_retention_days: int,
                 allowed_origins: Sequence[str], site_url: str | None = None) -> None:
        super().__init__(scope, id_)
        self.users = WebUsers(self, "Users", settings=settings, domain_label=domain_label,
                              removal_policy=removal_policy, self_sign_up=self_sign_up, site_url=site_url)
        self.user_pool = self.users.user_pool
        self.client = self.users.client
        self.identities = SignedInIdentityPool(
            self, "Identities", user_pool=self.user_pool, client=self.client,
            role_description=f"Signed-in viewers of robot {robot_name}: WebRTC viewer on its signaling channel, "
                             "receiving its telemetry")
        self.identity_pool_id = self.identities.identity_pool_id
        self.viewer_role = self.identities.role
        self.viewer_policy = iam.Policy(self, "ViewerPolicy", roles=[self.viewer_role], statements=[
            iam.PolicyStatement(sid="ViewerOfOneChannelOnly", actions=list(VIEWER_ACTIONS),
                                resources=[channel_arn]),
        ])
        self.telemetry_access = BrowserIotAccess(
            self, "TelemetryViewers", identities=self.identities, login_provider=self.user_pool.user_pool_provider_name,
            data_endpoint=data_endpoint, client_id_prefix=f"{robot_name}-viewer", topics=[telemetry_topic],
            session_topics={"telemetry": telemetry_topic}, service_name=f"telepresence-robot-{robot_name}",
            metrics_namespace=METRICS_NAMESPACE, log_retention_days=log_retention_days,
            allowed_origins=allowed_origins,
            wildcard_reason="Each viewer tab picks its own client-id suffix after its identity id, which is all "
                            "the wildcard allows; the topics are the robot's telemetry topic only.")
        # POST /session on the drive API.
        self.session_function = self.telemetry_access.session_function
