"""A stand-in for aws-parallelcluster 3.16.1 at the adapter's edge: pcluster.lib's functions, its
exceptions and its answers, with a small in-memory cloud of clusters behind them.

It keeps the behaviours of the real library that the adapter must respect (checked against the
real one by test_pcluster_contract.py): keyword-only functions that refuse a missing required or
an unexpected keyword with TypeError (keyword sets copied from the 3.16.1 model), a string
``cluster_configuration`` read as a file path, ``None`` refused by the type coercion, errors as
``ParallelClusterApiException`` subclasses with ``.code`` and ``.content``, ``DryrunOperationException``
(412) for a dry run that would succeed, and camelCase JSON answers shaped as the spec says.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from lambda_src.parallelcluster_api.shared.pcluster import Library

VERSION = "3.16.1"
REGION = "us-east-1"
ACCOUNT = "123456789012"
NOT_FOUND = "Cluster '{}' does not exist or belongs to an incompatible ParallelCluster major version."

# pcluster.lib's keywords in 3.16.1: (required, optional), "wait" included (added by the library).
SIGNATURES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "list_clusters": (frozenset(), frozenset({"region", "next_token", "cluster_status"})),
    "create_cluster": (frozenset({"cluster_name", "cluster_configuration"}),
                       frozenset({"region", "suppress_validators", "validation_failure_level", "dryrun",
                                  "rollback_on_failure", "wait"})),
    "delete_cluster": (frozenset({"cluster_name"}), frozenset({"region", "wait"})),
    "describe_cluster": (frozenset({"cluster_name"}), frozenset({"region"})),
    "update_cluster": (frozenset({"cluster_name", "cluster_configuration"}),
                       frozenset({"suppress_validators", "validation_failure_level", "region", "dryrun",
                                  "force_update", "wait"})),
    "describe_compute_fleet": (frozenset({"cluster_name"}), frozenset({"region"})),
    "update_compute_fleet": (frozenset({"cluster_name", "status"}), frozenset({"region"})),
    "delete_cluster_instances": (frozenset({"cluster_name"}), frozenset({"region", "force"})),
    "describe_cluster_instances": (frozenset({"cluster_name"}),
                                   frozenset({"region", "next_token", "node_type", "queue_name"})),
    "list_cluster_log_streams": (frozenset({"cluster_name"}), frozenset({"region", "filters", "next_token"})),
    "get_cluster_log_events": (frozenset({"cluster_name", "log_stream_name"}),
                               frozenset({"region", "next_token", "start_from_head", "limit", "start_time",
                                          "end_time"})),
    "get_cluster_stack_events": (frozenset({"cluster_name"}), frozenset({"region", "next_token"})),
    "list_official_images": (frozenset(), frozenset({"region", "os", "architecture"})),
}
BOOLEANS = frozenset({"dryrun", "rollback_on_failure", "force_update", "force", "start_from_head", "wait"})


# The exceptions, shaped as pcluster.api.errors and pcluster.cli.exceptions.
class ParallelClusterApiException(Exception):
    code: int = 500

    def __init__(self, content: dict[str, Any]) -> None:
        super().__init__()
        self.content = content


class BadRequestException(ParallelClusterApiException):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__({"message": f"Bad Request: {message}"})


class CreateClusterBadRequestException(ParallelClusterApiException):
    code = 400


class UpdateClusterBadRequestException(ParallelClusterApiException):
    code = 400


class NotFoundException(ParallelClusterApiException):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class ConflictException(ParallelClusterApiException):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class DryrunOperationException(ParallelClusterApiException):
    code = 412

    def __init__(self, change_set: list | None = None, validation_messages: list | None = None) -> None:
        content: dict[str, Any] = {"message": "Request would have succeeded, but DryRun flag is set."}
        if change_set is not None:
            content["changeSet"] = change_set
        if validation_messages is not None:
            content["validationMessages"] = validation_messages
        super().__init__(content)


class LimitExceededException(ParallelClusterApiException):
    code = 429

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class InternalServiceException(ParallelClusterApiException):
    code = 500

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class CLIException(Exception):
    def __init__(self, data: Any) -> None:
        self.data = data
        super().__init__()


class ParameterException(CLIException):
    pass


def validation_error(message: str, validator: str = "InstanceTypeValidator") -> dict[str, Any]:
    return {"id": validator, "type": validator, "level": "ERROR", "message": message}


@dataclass
class FakeParallelCluster:
    """pcluster.lib over a dict of clusters. Tests script it: ``validation_errors`` fail the next
    create or update validation, ``fail[function]`` raises once, ``delay[function]`` sleeps first."""

    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    update_errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    fail: dict[str, BaseException] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    released: threading.Event = field(default_factory=threading.Event)

    # --- the Library the adapter uses -------------------------------------------------
    def library(self) -> Library:
        functions = type("pcluster_lib", (), {name: staticmethod(self._function(name)) for name in SIGNATURES})
        return Library(functions=functions, api_exception=ParallelClusterApiException, cli_exception=CLIException,
                       parameter_exception=ParameterException, to_json=lambda content: dict(content),
                       version=VERSION)

    def _function(self, name: str) -> Callable[..., Any]:
        required, optional = SIGNATURES[name]

        def function(**kwargs: Any) -> Any:
            missing = required - set(kwargs)
            if missing:
                raise TypeError(f"<{name}> missing required arguments: {missing}")
            unexpected = set(kwargs) - required - optional - {"query", "debug"}
            if unexpected:
                raise TypeError(f"<{name}> got unexpected arguments: {unexpected}")
            for key, value in kwargs.items():
                if value is None:
                    raise ParameterException({"message": f"Bad Request: Wrong type for parameter '{key}'"})
                if key in BOOLEANS and not isinstance(value, bool):
                    raise ParameterException({"message": f"Bad Request: Wrong type, expected 'boolean' for "
                                                         f"parameter '{key}'"})
            if isinstance(kwargs.get("cluster_configuration"), str):
                raise ParameterException({"message": f"Bad Request: File not found: "
                                                     f"'{kwargs['cluster_configuration']}'"})
            self.calls.append((name, dict(kwargs)))
            if name in self.delay:
                self.released.wait(self.delay.pop(name))
            if name in self.fail:
                raise self.fail.pop(name)
            return getattr(self, f"_{name}")(**kwargs)

        function.__name__ = name
        return function

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for function, kwargs in self.calls if function == name]

    # --- the cloud ----------------------------------------------------------------------
    def add_cluster(self, name: str, *, status: str = "CREATE_COMPLETE", owner_tag: str | None = None,
                    scheduler: str = "slurm", fleet: str = "RUNNING") -> dict[str, Any]:
        tags = [{"key": "parallelcluster:version", "value": VERSION}]
        if owner_tag is not None:
            tags.append({"key": "parallelcluster-api:owner", "value": owner_tag})
        self.clusters[name] = {
            "clusterName": name, "region": REGION, "version": VERSION,
            "cloudFormationStackStatus": status, "clusterStatus": status,
            "scheduler": {"type": scheduler},
            "cloudformationStackArn": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/"
                                      "0f7c4e30-0000-11ef-8000-0a1b2c3d4e5f",
            "creationTime": "2026-01-01T00:00:00.000Z", "lastUpdatedTime": "2026-01-01T00:00:00.000Z",
            "clusterConfiguration": {"url": f"https://parallelcluster-{name}.s3.amazonaws.com/config.yaml"},
            "computeFleetStatus": fleet, "tags": tags,
            "headNode": {"instanceId": "i-0123456789abcdef0", "instanceType": "t3.micro",
                         "launchTime": "2026-01-01T00:00:00.000Z", "privateIpAddress": "10.0.0.10",
                         "publicIpAddress": "198.51.100.10", "state": "running"},
        }
        return self.clusters[name]

    def set_status(self, name: str, status: str, *, failures: list[dict[str, str]] | None = None) -> None:
        cluster = self.clusters[name]
        cluster["clusterStatus"] = status
        cluster["cloudFormationStackStatus"] = {"CREATE_FAILED": "ROLLBACK_COMPLETE"}.get(status, status)
        if failures is not None:
            cluster["failures"] = failures

    def summary(self, name: str) -> dict[str, Any]:
        cluster = self.clusters[name]
        return {"clusterName": name, "region": REGION, "version": VERSION,
                "cloudformationStackArn": cluster["cloudformationStackArn"],
                "cloudformationStackStatus": cluster["cloudFormationStackStatus"],
                "clusterStatus": cluster["clusterStatus"], "scheduler": cluster["scheduler"]}

    def _existing(self, name: str) -> dict[str, Any]:
        if name not in self.clusters:
            raise NotFoundException(NOT_FOUND.format(name))
        return self.clusters[name]

    # --- the operations -----------------------------------------------------------------
    def _list_clusters(self, region: str, next_token: str | None = None, cluster_status: list[str] | None = None
                       ) -> dict[str, Any]:
        names = [name for name, cluster in self.clusters.items()
                 if not cluster_status or cluster["clusterStatus"] in cluster_status]
        return {"clusters": [self.summary(name) for name in names]}

    def _describe_cluster(self, cluster_name: str, region: str) -> dict[str, Any]:
        return dict(self._existing(cluster_name))

    def _validate(self, dryrun: bool, change_set: list | None = None) -> None:
        if self.validation_errors:
            errors, self.validation_errors = self.validation_errors, []
            raise CreateClusterBadRequestException({"message": "Invalid cluster configuration.",
                                                    "configurationValidationErrors": errors})
        if dryrun:
            raise DryrunOperationException(change_set=change_set, validation_messages=self.warnings or None)

    def _create_cluster(self, cluster_name: str, cluster_configuration: dict[str, Any], region: str,
                        dryrun: bool = False, **options: Any) -> dict[str, Any]:
        if cluster_name in self.clusters:
            raise ConflictException(f"Cluster '{cluster_name}' already exists.")
        self._validate(dryrun)
        cluster = self.add_cluster(cluster_name, status="CREATE_IN_PROGRESS")
        cluster["tags"] += [{"key": tag["Key"], "value": tag["Value"]} for tag in cluster_configuration.get("Tags", [])]
        cluster["configuration"] = cluster_configuration
        cluster["options"] = options
        answer: dict[str, Any] = {"cluster": self.summary(cluster_name)}
        if self.warnings:
            answer["validationMessages"] = list(self.warnings)
        return answer

    def _update_cluster(self, cluster_name: str, cluster_configuration: dict[str, Any], region: str,
                        dryrun: bool = False, **options: Any) -> dict[str, Any]:
        cluster = self._existing(cluster_name)
        change_set = [{"parameter": "HeadNode.Ssh.KeyName", "currentValue": "old", "requestedValue": "new"}]
        if self.update_errors:
            errors, self.update_errors = self.update_errors, []
            raise UpdateClusterBadRequestException({"message": "Update failure", "updateValidationErrors": errors,
                                                    "changeSet": change_set})
        self._validate(dryrun, change_set)
        cluster["configuration"] = cluster_configuration
        self.set_status(cluster_name, "UPDATE_IN_PROGRESS")
        return {"cluster": self.summary(cluster_name), "changeSet": change_set}

    def _delete_cluster(self, cluster_name: str, region: str) -> dict[str, Any]:
        self._existing(cluster_name)
        self.set_status(cluster_name, "DELETE_IN_PROGRESS")
        return {"cluster": self.summary(cluster_name)}

    def finish_deleting(self, name: str) -> None:
        del self.clusters[name]

    def _describe_compute_fleet(self, cluster_name: str, region: str) -> dict[str, Any]:
        return {"status": self._existing(cluster_name)["computeFleetStatus"],
                "lastStatusUpdatedTime": "2026-01-01T00:00:00.000Z"}

    def _update_compute_fleet(self, cluster_name: str, status: str, region: str) -> dict[str, Any]:
        cluster = self._existing(cluster_name)
        allowed = {"awsbatch": {"ENABLED", "DISABLED"}}.get(cluster["scheduler"]["type"],
                                                            {"START_REQUESTED", "STOP_REQUESTED"})
        if status not in allowed:
            raise BadRequestException(f"the status {status} does not apply to the {cluster['scheduler']['type']} "
                                      "scheduler")
        cluster["computeFleetStatus"] = status
        return {"status": status, "lastStatusUpdatedTime": "2026-01-01T00:00:01.000Z"}

    def _describe_cluster_instances(self, cluster_name: str, region: str, **filters: Any) -> dict[str, Any]:
        head = self._existing(cluster_name)["headNode"]
        return {"instances": [{**head, "nodeType": "HeadNode"}]}

    def _delete_cluster_instances(self, cluster_name: str, region: str, force: bool = False) -> None:
        if cluster_name not in self.clusters and not force:
            raise NotFoundException(NOT_FOUND.format(cluster_name))
        return None

    def _get_cluster_stack_events(self, cluster_name: str, region: str, next_token: str | None = None
                                  ) -> dict[str, Any]:
        cluster = self._existing(cluster_name)
        return {"events": [{"stackId": cluster["cloudformationStackArn"], "eventId": "e-1", "stackName": cluster_name,
                            "logicalResourceId": cluster_name, "physicalResourceId": cluster["cloudformationStackArn"],
                            "resourceType": "AWS::CloudFormation::Stack", "timestamp": "2026-01-01T00:00:00.000Z",
                            "resourceStatus": "CREATE_COMPLETE"}]}

    def _list_cluster_log_streams(self, cluster_name: str, region: str, **options: Any) -> dict[str, Any]:
        self._existing(cluster_name)
        return {"logStreams": [{"logStreamName": "ip-10-0-0-10.i-0123456789abcdef0.cfn-init",
                                "creationTime": "2026-01-01T00:00:00.000Z",
                                "firstEventTimestamp": "2026-01-01T00:00:00.000Z",
                                "lastEventTimestamp": "2026-01-01T00:00:00.000Z",
                                "lastIngestionTime": "2026-01-01T00:00:00.000Z", "uploadSequenceToken": "1",
                                "logStreamArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/parallelcluster"
                                                "/x:log-stream:ip-10-0-0-10.i-0123456789abcdef0.cfn-init"}]}

    def _get_cluster_log_events(self, cluster_name: str, log_stream_name: str, region: str, **options: Any
                                ) -> dict[str, Any]:
        self._existing(cluster_name)
        return {"events": [{"timestamp": "2026-01-01T00:00:00.000Z", "message": "cfn-init started"}]}

    def _list_official_images(self, region: str, **filters: Any) -> dict[str, Any]:
        return {"images": [{"architecture": "x86_64", "amiId": "ami-0123456789abcdef0",
                            "name": "aws-parallelcluster-3.16.1-alinux2023-hvm-x86_64", "os": "alinux2023",
                            "version": VERSION}]}
