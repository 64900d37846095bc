"""The robot in AWS IoT and Kinesis Video Streams: its thing, what its certificate may do, its
signaling channel, and the role its camera gets through the IoT credentials provider.

Every name comes from the robot's name, and every permission names one exact resource:
the robot connects only as itself, hears only its own action topic, publishes only its own
telemetry, and streams only to its own channel.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kinesisvideo as kinesisvideo
from constructs import Construct

# What the WebRTC master (the robot's camera) needs on its signaling channel. The channel
# exists, so no CreateSignalingChannel.
MASTER_ACTIONS = ("kinesisvideo:ConnectAsMaster", "kinesisvideo:DescribeSignalingChannel",
                  "kinesisvideo:GetIceServerConfig", "kinesisvideo:GetSignalingChannelEndpoint")
# Temporary credentials of the camera last this long; the WebRTC sample refreshes them.
CAMERA_CREDENTIAL_SECONDS = 3600


def action_topic(robot: str) -> str:
    return f"{robot}/action"


def telemetry_topic(robot: str) -> str:
    return f"{robot}/telemetry"


def iot_arn(scope: Construct, resource: str, name: str) -> str:
    """``arn:<partition>:iot:<region>:<account>:<resource>/<name>`` for this stack."""
    return cdk.Stack.of(scope).format_arn(service="iot", resource=resource, resource_name=name)


class RobotDevice(Construct):
    """Thing, IoT policies, signaling channel, camera role and role alias of one robot."""

    def __init__(self, scope: Construct, id_: str, *, robot_name: str) -> None:
        super().__init__(scope, id_)
        self.robot_name = robot_name
        self.action_topic = action_topic(robot_name)
        self.telemetry_topic = telemetry_topic(robot_name)
        self.action_topic_arn = iot_arn(self, "topic", self.action_topic)
        self.telemetry_topic_arn = iot_arn(self, "topic", self.telemetry_topic)

        self.thing = iot.CfnThing(self, "Thing", thing_name=robot_name)
        self.thing_name = self.thing.ref

        # The policy provisioning attaches to the robot's certificate.
        self.device_policy = iot.CfnPolicy(self, "DevicePolicy", policy_name=f"{robot_name}-device",
                                           policy_document=self._device_policy_document())

        self.channel = kinesisvideo.CfnSignalingChannel(
            self, "SignalingChannel", name=robot_name, type="SINGLE_MASTER", message_ttl_seconds=60)

        # The credentials provider assumes this role for a certificate whose IoT policy allows
        # iot:AssumeRoleWithCertificate on the role alias (the second policy below, attached
        # to this robot's certificate only). The trust names the service and nothing else:
        # credentials-iot:ThingName is a policy variable of the role's *permissions* (and set
        # only when the device sends its thing name), not a trust-policy condition key; and
        # an aws:ResourceTag condition would be weaker than naming the one channel ARN, which
        # is what the permissions do.
        self.camera_role = iam.Role(
            self, "CameraRole", assumed_by=iam.ServicePrincipal("credentials.iot.amazonaws.com"),
            max_session_duration=cdk.Duration.seconds(CAMERA_CREDENTIAL_SECONDS),
            description=f"Camera of robot {robot_name}: WebRTC master on its own signaling channel only")
        self.camera_policy = iam.Policy(self, "CameraPolicy", roles=[self.camera_role], statements=[
            iam.PolicyStatement(sid="MasterOfOwnChannelOnly", actions=list(MASTER_ACTIONS),
                                resources=[self.channel.attr_arn]),
        ])
        self.role_alias = iot.CfnRoleAlias(
            self, "CameraRoleAlias", role_alias=f"{robot_name}-camera", role_arn=self.camera_role.role_arn,
            credential_duration_seconds=CAMERA_CREDENTIAL_SECONDS)
        self.role_alias_name = self.role_alias.ref
        self.role_alias_policy = iot.CfnPolicy(
            self, "RoleAliasPolicy", policy_name=f"{robot_name}-assume-camera-role",
            policy_document={"Version": "2012-10-17", "Statement": [{
                "Sid": "AssumeOwnCameraRoleOnly", "Effect": "Allow",
                "Action": "iot:AssumeRoleWithCertificate",
                "Resource": self.role_alias.attr_role_alias_arn,
            }]})

    def _device_policy_document(self) -> dict:
        name = self.robot_name
        return {"Version": "2012-10-17", "Statement": [
            {
                "Sid": "ConnectAsThisThingOnly", "Effect": "Allow", "Action": "iot:Connect",
                "Resource": iot_arn(self, "client", name),
                # Only a certificate attached to this thing (provisioning attaches it).
                "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            },
            {"Sid": "SubscribeToOwnActions", "Effect": "Allow", "Action": "iot:Subscribe",
             "Resource": iot_arn(self, "topicfilter", self.action_topic)},
            {"Sid": "ReceiveOwnActions", "Effect": "Allow", "Action": "iot:Receive",
             "Resource": self.action_topic_arn},
            {"Sid": "PublishOwnTelemetry", "Effect": "Allow", "Action": "iot:Publish",
             "Resource": self.telemetry_topic_arn},
        ]}
