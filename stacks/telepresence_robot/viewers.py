"""People who watch and drive the robot from the web app.

They sign in to a Cognito user pool (its id token authorizes ``POST /publish``) and exchange
the same token at an identity pool for credentials of a role that may only be a WebRTC
viewer of this robot's signaling channel. Unauthenticated identities are off: no role is
attached for them at all.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.users import UserPoolSettings, WebUsers

VIEWER_ACTIONS = ("kinesisvideo:ConnectAsViewer", "kinesisvideo:DescribeSignalingChannel",
                  "kinesisvideo:GetIceServerConfig", "kinesisvideo:GetSignalingChannelEndpoint")
COGNITO_IDENTITY = "cognito-identity.amazonaws.com"


class RobotViewers(Construct):
    def __init__(self, scope: Construct, id_: str, *, robot_name: str, settings: UserPoolSettings,
                 domain_label: str, self_sign_up: bool, removal_policy: cdk.RemovalPolicy,
                 channel_arn: str) -> None:
        super().__init__(scope, id_)
        self.users = WebUsers(self, "Users", settings=settings, domain_label=domain_label,
                              removal_policy=removal_policy, self_sign_up=self_sign_up)
        self.user_pool = self.users.user_pool
        self.client = self.users.client
        self.identity_pool = cognito.CfnIdentityPool(
            self, "IdentityPool",
            allow_unauthenticated_identities=False,
            allow_classic_flow=False,  # enhanced flow only: the pool, not the caller, picks the role
            cognito_identity_providers=[cognito.CfnIdentityPool.CognitoIdentityProviderProperty(
                client_id=self.client.user_pool_client_id,
                provider_name=self.user_pool.user_pool_provider_name,
                server_side_token_check=True,  # signed-out (revoked) tokens get no credentials
            )])
        self.identity_pool_id = self.identity_pool.ref
        self.viewer_role = iam.Role(
            self, "ViewerRole",
            assumed_by=iam.WebIdentityPrincipal(COGNITO_IDENTITY, conditions={
                "StringEquals": {f"{COGNITO_IDENTITY}:aud": self.identity_pool_id},
                "ForAnyValue:StringLike": {f"{COGNITO_IDENTITY}:amr": "authenticated"},
            }),
            description=f"Signed-in viewers of robot {robot_name}: WebRTC viewer on its signaling channel only")
        self.viewer_policy = iam.Policy(self, "ViewerPolicy", roles=[self.viewer_role], statements=[
            iam.PolicyStatement(sid="ViewerOfOneChannelOnly", actions=list(VIEWER_ACTIONS),
                                resources=[channel_arn]),
        ])
        self.role_attachment = cognito.CfnIdentityPoolRoleAttachment(
            self, "Roles", identity_pool_id=self.identity_pool_id,
            roles={"authenticated": self.viewer_role.role_arn})
