"""PLACEHOLDER (pc-stack): request models as dataclasses; the handlers branch replaces this file.

Field names are the API's camelCase names; ``metadata`` carries the JSON Schema keywords.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CLUSTER_NAME_PATTERN = "^[a-zA-Z][a-zA-Z0-9-]+$"
COMPUTE_FLEET_STATUSES = ("START_REQUESTED", "STOP_REQUESTED", "ENABLED", "DISABLED")


@dataclass(frozen=True)
class CreateClusterRequest:
    clusterName: str = field(metadata={"pattern": CLUSTER_NAME_PATTERN, "maxLength": 60})
    clusterConfiguration: str = field(metadata={"minLength": 1})


@dataclass(frozen=True)
class UpdateClusterRequest:
    clusterConfiguration: str = field(metadata={"minLength": 1})


@dataclass(frozen=True)
class UpdateComputeFleetRequest:
    status: str = field(metadata={"enum": list(COMPUTE_FLEET_STATUSES)})
