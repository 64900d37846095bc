"""Settings of the telepresence robots, from the ``telepresenceRobot`` block of ``cdk.json`` context.

Every robot named in ``robots`` gets its own stack (``TelepresenceRobot-<robot>``); all other
settings apply to each of them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import ContextBlock, ObservabilityConfig
from stacks.common.users import UserPoolSettings

CONTEXT_KEY = "telepresenceRobot"
STACK_NAME_PREFIX = "TelepresenceRobot"

# The robot name is the IoT thing name, the MQTT client id and topic prefix, and the name of
# its signaling channel, role alias and IoT policies: the intersection of what they all accept.
ROBOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
DEFAULT_ROBOTS = ("robot1",)

# Cognito hosted domains: at most 63 characters, and these words are reserved.
_DOMAIN_MAX_LENGTH = 63
_DOMAIN_RESERVED = ("aws", "amazon", "cognito")
# The default domain is "robot-<slug>-<12-digit account>-<region>": with the longest region
# names (14 characters) a slug of 28 characters still fits.
_DOMAIN_SLUG_MAX_LENGTH = 28


def stack_name(robot: str) -> str:
    """The stack id and CloudFormation stack name of one robot."""
    return f"{STACK_NAME_PREFIX}-{robot}"


def domain_slug(robot: str) -> str:
    """The robot's part of its hosted sign-in domain: the name in lowercase, or (for names too
    long or holding a reserved word) a stable hash of it."""
    slug = robot.lower()
    if len(slug) <= _DOMAIN_SLUG_MAX_LENGTH and not any(word in slug for word in _DOMAIN_RESERVED):
        return slug
    return "h" + hashlib.sha256(robot.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TelepresenceRobotConfig:
    robots: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    users: UserPoolSettings
    self_sign_up: bool
    telemetry_interval_seconds: int
    silence_alarm_minutes: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    waf_requests_per_ip_per_5_min: int
    data_removal_policy: cdk.RemovalPolicy
    observability: ObservabilityConfig
    # Each robot's stack hosts the robot's web client (web/robot) on CloudFront.
    web_client: bool

    def user_pool_settings(self, robot: str) -> UserPoolSettings:
        """Each robot has its own user pool, so its own hosted domain: ``<prefix>-<robot>``."""
        if self.users.domain_prefix is None:
            return self.users
        return dataclasses.replace(self.users, domain_prefix=f"{self.users.domain_prefix}-{domain_slug(robot)}")

    @staticmethod
    def domain_label(robot: str) -> str:
        """Start of the default hosted domain (``robot-<robot>-<account>-<region>``)."""
        return f"robot-{domain_slug(robot)}"

    @classmethod
    def from_context(cls, node: Node) -> "TelepresenceRobotConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        robots = _robots(block)
        allowed_origins = block.origins("allowedOrigins", ["http://localhost:8080"])
        users = UserPoolSettings.read(block)
        if users.domain_prefix is not None:
            longest = max((f"{users.domain_prefix}-{domain_slug(robot)}" for robot in robots), key=len)
            if len(longest) > _DOMAIN_MAX_LENGTH:
                raise block.fail("cognitoDomainPrefix",
                                 f"must leave room for '-<robot>' within {_DOMAIN_MAX_LENGTH} characters "
                                 f"(each robot's domain is '<prefix>-<robot>'; '{longest}' is too long)",
                                 users.domain_prefix)
        interval = block.integer("telemetryIntervalSeconds", 30, minimum=5, maximum=3600)
        silence = block.integer("silenceAlarmMinutes", 5, minimum=1, maximum=1440)
        if silence * 60 < 2 * interval:
            raise block.fail("silenceAlarmMinutes",
                             f"must span at least two telemetry reports (2 x telemetryIntervalSeconds = "
                             f"{2 * interval} s), or a single late report raises the alarm", silence)
        rate = block.integer("throttleRateLimit", 10, minimum=1, maximum=10000)
        burst = block.integer("throttleBurstLimit", 20, minimum=1, maximum=5000)
        config = cls(
            robots=robots,
            allowed_origins=allowed_origins,
            users=users,
            self_sign_up=block.boolean("selfSignUp", False),
            telemetry_interval_seconds=interval,
            silence_alarm_minutes=silence,
            throttle_rate_limit=rate,
            throttle_burst_limit=burst,
            waf_requests_per_ip_per_5_min=block.integer("wafRequestsPerIpPer5Min", 1000,
                                                        minimum=10, maximum=2_000_000_000),
            data_removal_policy=block.removal_policy(),
            observability=ObservabilityConfig.read(block),
            web_client=block.boolean("webClient", True),
        )
        block.reject_unknown_keys()
        return config


def _robots(block: ContextBlock) -> tuple[str, ...]:
    robots = block.string_list("robots", list(DEFAULT_ROBOTS), pattern=ROBOT_NAME,
                               description="robot names (letters, digits and hyphens, starting with a "
                                           "letter or digit, at most 63 characters)")
    if not robots:
        raise block.fail("robots", "must name at least one robot", list(robots))
    seen: dict[str, str] = {}
    for robot in robots:
        # Compared without case: hosted sign-in domains are lowercase, so "Robot1" and
        # "robot1" would ask for the same one.
        if robot.lower() in seen:
            raise block.fail("robots", f"must name each robot once (ignoring case): '{seen[robot.lower()]}' "
                                       f"and '{robot}' clash", list(robots))
        seen[robot.lower()] = robot
    return robots
