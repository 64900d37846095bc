"""TelepresenceRobot-<robot>: one Raspberry Pi robot, driven and watched from a web app.

The robot holds an AWS IoT certificate (made by ``python -m device.robot provision``, which
reads this stack's outputs): it receives drive commands on ``<robot>/action``, reports on
``<robot>/telemetry`` and streams its camera as the WebRTC master of its Kinesis Video
signaling channel with credentials from the IoT credentials provider. Signed-in users drive
it through ``POST /publish`` and watch it as WebRTC viewers through a Cognito identity pool.
"""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.iot import CREDENTIAL_PROVIDER, DATA_ATS, IotEndpoint
from stacks.common.static_site import (
    StaticSite,
    cognito_sign_in_sources,
    cors_origins,
    execute_api_origin,
    regional_endpoint,
)
from stacks.common.web_config import cognito_revocation_endpoint, robot_config, sign_in_config
from stacks.telepresence_robot.api import DriveApi
from stacks.telepresence_robot.config import TelepresenceRobotConfig
from stacks.telepresence_robot.device import RobotDevice
from stacks.telepresence_robot.telemetry import RobotTelemetry
from stacks.telepresence_robot.viewers import RobotViewers

# Output keys the provisioning command (device/robot/provision.py) reads: keep them stable.
OUTPUT_THING_NAME = "ThingName"
OUTPUT_IOT_POLICY_NAME = "IotPolicyName"
OUTPUT_ROLE_ALIAS_POLICY_NAME = "RoleAliasPolicyName"
OUTPUT_ROLE_ALIAS = "RoleAlias"
OUTPUT_IOT_DATA_ENDPOINT = "IotDataEndpoint"
OUTPUT_IOT_CREDENTIALS_ENDPOINT = "IotCredentialsEndpoint"
OUTPUT_SIGNALING_CHANNEL_ARN = "SignalingChannelArn"
OUTPUT_TELEMETRY_INTERVAL_SECONDS = "TelemetryIntervalSeconds"
# Output keys the web app is configured from.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_SESSION_URL = "SessionUrl"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUTPUT_IDENTITY_POOL_ID = "IdentityPoolId"
OUTPUT_HOSTED_DOMAIN = "HostedDomain"
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_WEB_URL = "WebUrl"
DEVICE_OUTPUTS = (OUTPUT_THING_NAME, OUTPUT_IOT_POLICY_NAME, OUTPUT_ROLE_ALIAS_POLICY_NAME, OUTPUT_ROLE_ALIAS,
                  OUTPUT_IOT_DATA_ENDPOINT, OUTPUT_IOT_CREDENTIALS_ENDPOINT, OUTPUT_SIGNALING_CHANNEL_ARN)


class TelepresenceRobotStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: TelepresenceRobotConfig, robot_name: str,
                 **kwargs) -> None:
        super().__init__(scope, id_, description=f"Telepresence robot {robot_name} (AWS IoT Core, Kinesis Video "
                                                 "Streams WebRTC, drive API, Cognito viewers)", **kwargs)
        self.robot_name = robot_name
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.device = RobotDevice(self, "Device", robot_name=robot_name)
        self.data_endpoint = IotEndpoint(self, "DataEndpoint", endpoint_type=DATA_ATS)
        self.credentials_endpoint = IotEndpoint(self, "CredentialsEndpoint", endpoint_type=CREDENTIAL_PROVIDER)
        self.site = StaticSite(self, "Web", client="robot", title=f"Telepresence robot {robot_name}",
                               log_retention_days=config.observability.log_retention_days) \
            if config.web_client else None
        allowed_origins = cors_origins(config.allowed_origins, site=self.site)
        self.viewers = RobotViewers(
            self, "Viewers", robot_name=robot_name, settings=config.user_pool_settings(robot_name),
            domain_label=config.domain_label(robot_name), self_sign_up=config.self_sign_up,
            removal_policy=config.data_removal_policy, channel_arn=self.device.channel.attr_arn,
            data_endpoint=self.data_endpoint.address, telemetry_topic=self.device.telemetry_topic,
            log_retention_days=config.observability.log_retention_days, allowed_origins=allowed_origins,
            site_url=self.site.url if self.site else None)
        self.api = DriveApi(self, "DriveApi", config=config, robot_name=robot_name,
                            user_pool=self.viewers.user_pool, data_endpoint=self.data_endpoint.address,
                            action_topic_arn=self.device.action_topic_arn, allowed_origins=allowed_origins,
                            session_function=self.viewers.session_function)
        self.telemetry = RobotTelemetry(
            self, "Telemetry", robot_name=robot_name, telemetry_topic=self.device.telemetry_topic,
            alarms=self.alarm_topic, silence_alarm_minutes=config.silence_alarm_minutes,
            log_retention_days=config.observability.log_retention_days)

        one_minute = cdk.Duration.minutes(1)
        self.alarm_topic.alarm(
            self, "DriveErrors", threshold=0,
            metric=self.api.function.function.metric_errors(period=one_minute),
            description=f"The drive function of robot {robot_name} failed")
        self.alarm_topic.alarm(
            self, "SessionErrors", threshold=0,
            metric=self.viewers.session_function.function.metric_errors(period=one_minute),
            description=f"The viewer session function of robot {robot_name} failed (no telemetry for viewers)")
        self.alarm_topic.alarm(
            self, "Api5xx", threshold=0,
            metric=self.api.api.deployment_stage.metric_server_error(period=one_minute, statistic="Sum"),
            description=f"POST /publish of robot {robot_name} answered 5xx (commands not delivered)")

        device = self.device
        outputs = {
            OUTPUT_THING_NAME: (device.thing_name, "IoT thing; also the MQTT client id and topic prefix"),
            OUTPUT_IOT_POLICY_NAME: (device.device_policy.ref, "IoT policy for the robot's certificate"),
            OUTPUT_ROLE_ALIAS_POLICY_NAME: (device.role_alias_policy.ref,
                                            "IoT policy letting the robot's certificate assume the camera role"),
            OUTPUT_ROLE_ALIAS: (device.role_alias_name, "Role alias the camera asks the credentials provider for"),
            OUTPUT_IOT_DATA_ENDPOINT: (self.data_endpoint.address, "AWS IoT data (ATS) endpoint host"),
            OUTPUT_IOT_CREDENTIALS_ENDPOINT: (self.credentials_endpoint.address,
                                              "AWS IoT credentials provider endpoint host"),
            OUTPUT_SIGNALING_CHANNEL_ARN: (device.channel.attr_arn, "Kinesis Video signaling channel of the robot"),
            OUTPUT_TELEMETRY_INTERVAL_SECONDS: (str(config.telemetry_interval_seconds),
                                                "Seconds between the robot's telemetry reports"),
            OUTPUT_API_URL: (self.api.publish_url, "POST drive commands here with a Cognito id token"),
            OUTPUT_SESSION_URL: (self.api.session_url, "POST here (Cognito id token) before receiving telemetry"),
            OUTPUT_USER_POOL_ID: (self.viewers.user_pool.user_pool_id, None),
            OUTPUT_USER_POOL_CLIENT_ID: (self.viewers.client.user_pool_client_id, None),
            OUTPUT_IDENTITY_POOL_ID: (self.viewers.identity_pool_id,
                                      "Exchange the id token here for WebRTC viewer credentials"),
            OUTPUT_HOSTED_DOMAIN: (self.viewers.users.hosted_domain_url, "Cognito hosted sign-in domain"),
            OUTPUT_ALARM_TOPIC_ARN: (self.alarm_topic.topic.topic_arn, None),
        }
        if self.site is not None:
            self._publish_web_client(self.site, config)
            outputs[OUTPUT_WEB_URL] = (self.site.url, "The web client: watch and drive the robot")
        for key, (value, description) in outputs.items():
            cdk.CfnOutput(self, key, value=value, description=description)

    def _publish_web_client(self, site: StaticSite, config: TelepresenceRobotConfig) -> None:
        users = self.viewers.users
        data_endpoint = self.data_endpoint.address
        # Kinesis Video signaling: the control plane, then per-channel HTTPS and WSS endpoints
        # (v-<id>.kinesisvideo.<region>...) that GetSignalingChannelEndpoint hands out at run time.
        video = [regional_endpoint("kinesisvideo"), regional_endpoint("*.kinesisvideo"),
                 regional_endpoint("*.kinesisvideo", scheme="wss")]
        site.publish(
            runtime_config=robot_config(
                auth=sign_in_config(authority=users.issuer_url, client_id=users.client.user_pool_client_id,
                                    site_url=site.url,
                                    revocation_endpoint=cognito_revocation_endpoint(users.hosted_domain_url)),
                api_url=self.api.publish_url, region=cdk.Aws.REGION, identity_pool_id=self.viewers.identity_pool_id,
                signaling_channel_arn=self.device.channel.attr_arn,
                telemetry_mode="iot", telemetry_url=f"wss://{data_endpoint}/mqtt",
                telemetry_session_url=self.api.session_url, telemetry_topic=self.device.telemetry_topic,
                telemetry_interval_seconds=config.telemetry_interval_seconds),
            connect_sources=[execute_api_origin(self.api.api.rest_api_id),
                             *cognito_sign_in_sources(users.hosted_domain_url),
                             regional_endpoint("cognito-identity"), f"wss://{data_endpoint}", *video])
