"""PLACEHOLDER (pc-stack): the request models the stack builds API Gateway models from, with the
handlers branch's names; that branch's models.py replaces this file."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

CLUSTER_NAME_PATTERN = "^[a-zA-Z][a-zA-Z0-9-]+$"
CLUSTER_NAME_MAX_LENGTH = 60
OPERATION_ID_PATTERN = "^[0-9a-f-]{36}$"


class RequestedComputeFleetStatus(str, Enum):
    START_REQUESTED = "START_REQUESTED"
    STOP_REQUESTED = "STOP_REQUESTED"
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class LegacyCommand(str, Enum):
    create = "create"
    status = "status"
    delete = "delete"
    list = "list"
    start = "start"
    stop = "stop"


@dataclass(frozen=True)
class CreateClusterRequestContent:
    clusterName: str = field(metadata={"pattern": CLUSTER_NAME_PATTERN, "maxLength": CLUSTER_NAME_MAX_LENGTH})
    clusterConfiguration: str = field(metadata={"minLength": 1})


@dataclass(frozen=True)
class UpdateClusterRequestContent:
    clusterConfiguration: str = field(metadata={"minLength": 1})


@dataclass(frozen=True)
class UpdateComputeFleetRequestContent:
    status: RequestedComputeFleetStatus
