"""The two Fargate services of the worker container: the large-document splitter and the
failsafe, each scaling from zero on the messages waiting for it."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.config import log_retention
from stacks.common.nag import acknowledge
from stacks.common.queues import SecureQueue
from stacks.pdf_pipeline.access import (
    DERIVED_OBJECTS,
    S3_READ,
    S3_READ_VERSIONS,
    S3_WRITE,
    SOURCE_OBJECTS,
    SQS_CONSUME,
    SQS_SEND,
    SourceBuckets,
    allow,
)
from stacks.pdf_pipeline.config import FargateWorkerConfig, PdfPipelineConfig
from stacks.pdf_pipeline.network import PipelineNetwork
from stacks.pdf_pipeline.queues import PipelineQueues
from stacks.pdf_pipeline.storage import CHUNKS_PREFIX, IMAGES_PREFIX, PAGES_PREFIX, PipelineBuckets
from stacks.pdf_pipeline.workers import METRICS_NAMESPACE, SERVICE_NAME

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "containers/pdf_worker/Dockerfile"
# The build context is the repository root, reduced to what the image needs (.dockerignore
# syntax, applied by CDK when it stages the asset at synth; Docker builds from the staged copy
# at deploy time, so it sees only these files too).
BUILD_CONTEXT_EXCLUDES = ("*", "!lambda_src/pdf_pipeline", "!lambda_src/suite_lib", "!containers/pdf_worker",
                          "**/__pycache__", "**/*.pyc", "**/tests")
SCRATCH = "/scratch"  # task storage (ephemeralStorageGiB): documents are streamed here, never held in memory
# What a stopped task gets between SIGTERM and SIGKILL to hand its message back (Fargate's maximum).
STOP_TIMEOUT = cdk.Duration.seconds(120)
SCALING_PERIOD = cdk.Duration.minutes(1)

_ENVIRONMENT_REASON = ("The container's environment holds queue URLs, bucket names and thresholds, none of them "
                       "secret; the worker reads its configuration from it like the Lambda functions do.")


class PipelineContainers(Construct):
    """One cluster (Container Insights on: the dashboard's task counts), one image built from
    ``containers/pdf_worker/Dockerfile`` for arm64 at deploy time, and two services in the public
    subnets (public IPs, no inbound rule) whose tasks stay at zero until work waits for them."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, network: PipelineNetwork,
                 buckets: PipelineBuckets, queues: PipelineQueues) -> None:
        super().__init__(scope, id_)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=network.vpc,
                                   container_insights_v2=ecs.ContainerInsights.ENABLED)
        self.image_asset = ecr_assets.DockerImageAsset(
            self, "WorkerImage", directory=str(ROOT), file=DOCKERFILE, platform=ecr_assets.Platform.LINUX_ARM64,
            exclude=list(BUILD_CONTEXT_EXCLUDES), ignore_mode=cdk.IgnoreMode.DOCKER)
        self.security_group = ec2.SecurityGroup(
            self, "WorkerSecurityGroup", vpc=network.vpc, allow_all_outbound=True,
            description="Pipeline workers: no inbound traffic; HTTPS out to SQS, S3, ECR and CloudWatch")
        self._config = config
        self._network = network
        sources = SourceBuckets(self, buckets.staging.bucket_arn, config.allowed_source_buckets)
        work, images = buckets.work, buckets.images
        audit = {"AUDIT_QUEUE_URL": queues.audit.queue.queue_url}

        self.large = self._service(
            "Large", mode="large", sizing=config.large_worker, backlog_of=[queues.large],
            environment={"LARGE_QUEUE_URL": queues.large.queue.queue_url,
                         "SMALL_QUEUE_URL": queues.small.queue.queue_url,
                         "WORK_BUCKET": work.bucket_name, "CHUNK_PAGES": str(config.chunk_pages), **audit})
        large_role = self.large.task_definition.task_role
        allow(large_role, SQS_CONSUME, [queues.large.queue.queue_arn])
        allow(large_role, SQS_SEND, [queues.small.queue.queue_arn, queues.audit.queue.queue_arn])
        allow(large_role, S3_READ_VERSIONS, sources.object_arns, wildcards=SOURCE_OBJECTS)
        allow(large_role, S3_WRITE, [work.arn_for_objects(f"{CHUNKS_PREFIX}*")], wildcards=DERIVED_OBJECTS)

        dead_letters = {origin: queue.dead_letter_queue for origin, queue in queues.failsafe_sources.items()}
        self.failsafe = self._service(
            "Failsafe", mode="failsafe", sizing=config.failsafe_worker,
            backlog_of=list(queues.failsafe_sources.values()), dead_letters=True,
            environment={"DEAD_LETTER_QUEUE_URLS": ",".join(f"{origin}={queue.queue_url}"
                                                           for origin, queue in dead_letters.items()),
                         "QUARANTINE_QUEUE_URL": queues.quarantine.queue.queue_url,
                         "WORK_BUCKET": work.bucket_name, "IMAGES_BUCKET": images.bucket_name,
                         "DPI": str(config.dpi), "MAX_PIXELS": str(config.max_pixels),
                         # It classifies what the ingest queue dead-lettered, and cuts large documents.
                         "LARGE_BYTES": str(config.large_bytes), "LARGE_PAGES": str(config.large_pages),
                         "CHUNK_PAGES": str(config.chunk_pages), **audit})
        failsafe_role = self.failsafe.task_definition.task_role
        derived = [work.arn_for_objects(f"{CHUNKS_PREFIX}*"), work.arn_for_objects(f"{PAGES_PREFIX}*")]
        allow(failsafe_role, SQS_CONSUME, [queue.queue_arn for queue in dead_letters.values()])
        allow(failsafe_role, SQS_SEND, [queues.quarantine.queue.queue_arn, queues.audit.queue.queue_arn])
        allow(failsafe_role, S3_READ_VERSIONS, sources.object_arns, wildcards=SOURCE_OBJECTS)
        allow(failsafe_role, S3_READ, derived, wildcards=DERIVED_OBJECTS)
        allow(failsafe_role, S3_WRITE, [*derived, images.arn_for_objects(f"{IMAGES_PREFIX}*")],
              wildcards=DERIVED_OBJECTS)
        self.services = (self.large, self.failsafe)
        # Each task protects itself from scale-in while it holds a message (through the ECS
        # agent's endpoint, which calls ECS with the task role), and only itself.
        own_tasks = cdk.Stack.of(self).format_arn(service="ecs", resource="task",
                                                  resource_name=f"{self.cluster.cluster_name}/*")
        for service in self.services:
            role = service.task_definition.task_role
            allow(role, ("ecs:UpdateTaskProtection", "ecs:GetTaskProtection"), [own_tasks],
                  wildcards="the tasks of this cluster: a task's id is known only once it runs")

    def _service(self, id_: str, *, mode: str, sizing: FargateWorkerConfig, backlog_of: Sequence[SecureQueue],
                 environment: Mapping[str, str], dead_letters: bool = False) -> ecs.FargateService:
        task = ecs.FargateTaskDefinition(
            self, f"{id_}Task", cpu=sizing.cpu, memory_limit_mib=sizing.memory_mib,
            ephemeral_storage_gib=sizing.ephemeral_storage_gib,
            runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.ARM64,
                                                 operating_system_family=ecs.OperatingSystemFamily.LINUX))
        task.add_volume(name="scratch")
        container = task.add_container(
            "Worker", image=ecs.ContainerImage.from_docker_image_asset(self.image_asset),
            command=["--mode", mode],
            environment={**environment, "TMPDIR": SCRATCH, "PYTHONDONTWRITEBYTECODE": "1",
                         "POWERTOOLS_SERVICE_NAME": SERVICE_NAME, "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                         "POWERTOOLS_LOG_LEVEL": "INFO"},
            logging=ecs.LogDrivers.aws_logs(stream_prefix=mode, log_group=logs.LogGroup(
                self, f"{id_}Logs", retention=log_retention(self._config.observability.log_retention_days))),
            readonly_root_filesystem=True, stop_timeout=STOP_TIMEOUT,
            linux_parameters=ecs.LinuxParameters(self, f"{id_}LinuxParameters", init_process_enabled=True))
        container.add_mount_points(ecs.MountPoint(container_path=SCRATCH, source_volume="scratch", read_only=False))
        acknowledge(task.node.default_child, "AwsSolutions-ECS2", _ENVIRONMENT_REASON)
        execution_policy = task.obtain_execution_role().node.find_child("DefaultPolicy")
        acknowledge(execution_policy, "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken supports no resource-level permissions; the image pull itself "
                    "is limited to the CDK bootstrap's container asset repository.")

        # Scaling from zero is done by the queue metrics, not by the service itself: a deploy
        # leaves the service at zero, and the tasks that hold a message are scale-in protected.
        service = ecs.FargateService(
            self, f"{id_}Service", cluster=self.cluster, task_definition=task, desired_count=0,
            min_healthy_percent=100, max_healthy_percent=200,
            assign_public_ip=True, vpc_subnets=self._network.public_subnets, security_groups=[self.security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True))
        _scale_on_backlog(service, sizing.max_tasks, backlog_metric(backlog_of, dead_letters=dead_letters))
        return service


def backlog_metric(queues: Sequence[SecureQueue], *, dead_letters: bool = False) -> cloudwatch.MathExpression:
    """Messages visible plus in flight on ``queues`` (or their dead-letter queues): work waiting
    and work being done, so the tasks doing it are not scaled away."""
    metrics: dict[str, cloudwatch.IMetric] = {}
    period = SCALING_PERIOD
    for index, queue in enumerate(queues):
        target = queue.dead_letter_queue if dead_letters else queue.queue
        metrics[f"visible{index}"] = target.metric_approximate_number_of_messages_visible(
            period=period, statistic=cloudwatch.Stats.MAXIMUM)
        metrics[f"inflight{index}"] = target.metric_approximate_number_of_messages_not_visible(
            period=period, statistic=cloudwatch.Stats.MAXIMUM)
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in metrics), using_metrics=metrics, period=period,
        label="Messages waiting or in flight")


def scaling_steps(max_tasks: int) -> list[autoscaling.ScalingInterval]:
    """Exact task counts by backlog: none at zero, then one task per message in powers of two
    up to ``max_tasks`` (each task works on one message at a time)."""
    steps = [autoscaling.ScalingInterval(upper=0, change=0)]
    count = 1
    while count < max_tasks:
        steps.append(autoscaling.ScalingInterval(lower=count, change=count))
        count *= 2
    steps.append(autoscaling.ScalingInterval(lower=max_tasks, change=max_tasks))
    return steps


def _scale_on_backlog(service: ecs.FargateService, max_tasks: int, backlog: cloudwatch.MathExpression) -> None:
    scaling = service.auto_scale_task_count(min_capacity=0, max_capacity=max_tasks)
    scaling.scale_on_metric(
        "ScaleOnBacklog", metric=backlog, scaling_steps=scaling_steps(max_tasks),
        adjustment_type=autoscaling.AdjustmentType.EXACT_CAPACITY, cooldown=cdk.Duration.minutes(1),
        evaluation_periods=1, datapoints_to_alarm=1)
    # SQS stops publishing metrics of a queue that has been empty and idle for six hours:
    # missing data means nothing waits, so it scales to zero rather than leaving a task running.
    policy: autoscaling.StepScalingPolicy = scaling.node.find_child("Target").node.find_child(  # type: ignore
        "ScaleOnBacklog")
    lower_alarm: cloudwatch.CfnAlarm = policy.lower_alarm.node.default_child  # type: ignore[union-attr]
    lower_alarm.treat_missing_data = "breaching"
