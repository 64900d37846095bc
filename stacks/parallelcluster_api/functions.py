"""How every ParallelCluster API function is built, and the official ParallelCluster Lambda layer.

Functions that call ``pcluster.lib`` run with AWS's own layer of the configured release
(``s3://<region>-aws-parallelcluster/parallelcluster/<version>/layers/aws-parallelcluster/lambda-layer.zip``,
the object the official API template ``api/infrastructure/parallelcluster-api.yaml`` deploys). That
layer holds the library with its ~130 MiB of dependencies and the Node.js binary the library
runs at create and update time; it is built for one Python version and for x86_64, so those
functions run on that runtime and architecture, not the suite's default.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambda_src.parallelcluster_api.routes import FUNCTIONS_WITHOUT_PCLUSTER
from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge
from stacks.common.powertools import powertools_layer

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "lambda_src" / "parallelcluster_api"
SERVICE_NAME = "parallelcluster-api"
METRICS_NAMESPACE = "ParallelClusterApi"

# The runtime the official API template gives its function (``Runtime: python3.12``, no
# ``Architectures``, so x86_64) and the layer's ``CompatibleRuntimes``: Python 3.12 from
# ParallelCluster 3.11.1 on (3.9 before), still so in 3.16.x, whose own Lambda functions also
# run python3.12 (``pcluster/templates/cdk_builder_utils.py`` of the 3.16.1 wheel).
PCLUSTER_RUNTIME = lambda_.Runtime.PYTHON_3_12
PCLUSTER_ARCHITECTURE = lambda_.Architecture.X86_64
# The official function's memory: importing the library and synthesizing a cluster's
# templates (CDK v1 through jsii and Node.js) are CPU-bound, and Lambda's CPU scales with it.
PCLUSTER_MEMORY_MB = 2048
# Functions that never import pcluster (routes.py says which): the suite's default runtime on
# arm64, no layer.
WITHOUT_PCLUSTER = FUNCTIONS_WITHOUT_PCLUSTER

# Every function behind API Gateway answers before its 29-second integration timeout.
API_TIMEOUT = cdk.Duration.seconds(28)


def layer_bucket_name(region: str = cdk.Aws.REGION) -> str:
    return f"{region}-aws-parallelcluster"


def layer_key(version: str) -> str:
    return f"parallelcluster/{version}/layers/aws-parallelcluster/lambda-layer.zip"


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the directory under lambda_src/parallelcluster_api/
    description: str
    timeout: cdk.Duration = API_TIMEOUT
    environment: Mapping[str, str] | None = None


class ParallelClusterFunctions(Construct):
    """The package's functions, one per operation, and the layer those that call pcluster share."""

    def __init__(self, scope: Construct, id_: str, *, parallelcluster_version: str, log_retention_days: int,
                 environment: Mapping[str, str]) -> None:
        super().__init__(scope, id_)
        self.parallelcluster_version = parallelcluster_version
        self._log_retention_days = log_retention_days
        self._environment = dict(environment)
        releases = s3.Bucket.from_bucket_name(self, "ReleaseBucket", layer_bucket_name())
        cdk.Annotations.of(releases).acknowledge_warning(
            "@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified",
            "AWS publishes each ParallelCluster release's layer under its own key (the version is in it) and "
            "never changes it; a new release is a new key, set by parallelclusterVersion")
        self.layer = lambda_.LayerVersion(
            self, "ParallelClusterLayer",
            code=lambda_.Code.from_bucket(releases, layer_key(parallelcluster_version)),
            compatible_runtimes=[PCLUSTER_RUNTIME],
            compatible_architectures=[PCLUSTER_ARCHITECTURE],
            description=f"aws-parallelcluster {parallelcluster_version} with its dependencies and Node.js "
                        "(AWS's official layer)")
        self.functions: dict[str, PythonFunction] = {}

    def add(self, spec: FunctionSpec) -> PythonFunction:
        uses_pcluster = spec.name not in WITHOUT_PCLUSTER
        id_ = "".join(part.title() for part in spec.name.split("_"))
        props = dict(runtime=PCLUSTER_RUNTIME, architecture=PCLUSTER_ARCHITECTURE,
                     memory_size=PCLUSTER_MEMORY_MB) if uses_pcluster else {}
        fn = PythonFunction(
            self, id_, entry=PACKAGE_ROOT / spec.name, package_root=PACKAGE_ROOT, service_name=SERVICE_NAME,
            metrics_namespace=METRICS_NAMESPACE, log_retention_days=self._log_retention_days,
            description=spec.description, timeout=spec.timeout,
            environment={**self._environment, **(spec.environment or {})}, **props)
        if uses_pcluster:
            self._add_layer(fn)
        self.functions[spec.name] = fn
        return fn

    def _add_layer(self, fn: PythonFunction) -> None:
        # The ParallelCluster layer first and the suite's Powertools layer last: Lambda extracts
        # layers in order into /opt, so where both ship a file (the layer carries Powertools 1.x
        # for pcluster's own API entry point, unused here) the suite's pinned release wins, the
        # one the tests run.
        powertools = powertools_layer(fn, runtime=PCLUSTER_RUNTIME, architecture=PCLUSTER_ARCHITECTURE)
        cfn_function: lambda_.CfnFunction = fn.function.node.default_child  # type: ignore[assignment]
        cfn_function.add_property_override("Layers", [self.layer.layer_version_arn, powertools.layer_version_arn])
        acknowledge(cfn_function, "AwsSolutions-L1",
                    f"Runs {PCLUSTER_RUNTIME.name} on x86_64 because AWS's official ParallelCluster "
                    f"{self.parallelcluster_version} Lambda layer (pcluster.lib with Node.js) is built for that "
                    "runtime and architecture only, as the official API template's function runs.")
