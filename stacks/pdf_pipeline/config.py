"""Settings of the PDF pre-processing pipeline, from the ``pdfPipeline`` block of ``cdk.json`` context.

Defaults follow the post ("Building a Scalable Document Pre-Processing Pipeline"): documents over
10 MB or 10 pages are large, chunks of 10 pages, pages rendered at 150 DPI. Every key is validated
and an unknown key (a typo) is refused, naming it (``pdfPipeline.inference.endpointName ...``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import ContextBlock, ObservabilityConfig

CONTEXT_KEY = "pdfPipeline"
MIB = 1024 * 1024

# S3 general purpose bucket names: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# SageMaker Runtime InvokeEndpoint's EndpointName shape.
_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
# A key prefix of the staging bucket: printable ASCII without spaces, no leading slash, ends with one.
_PREFIX = re.compile(r"^(?!/)[\x21-\x7e]{0,1022}/$")

# The memory sizes (MiB) Fargate accepts for each CPU setting (units of 1/1024 vCPU).
FARGATE_MEMORY: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

# Every queue consumer, with its default SQS event source maximum concurrency (Lambda's range is
# 2-1000). writeAudit bounds the database's connections; invokeModel bounds the model endpoint.
DEFAULT_MAX_CONCURRENCY: Mapping[str, int] = {
    "list": 2, "classify": 20, "splitSmall": 20, "convertPage": 50,
    "invokeModel": 10, "autoIngest": 5, "writeAudit": 5,
}


@dataclass(frozen=True)
class FargateWorkerConfig:
    max_tasks: int
    cpu: int
    memory_mib: int
    ephemeral_storage_gib: int

    @classmethod
    def read(cls, block: ContextBlock, *, max_tasks: int, cpu: int, memory_mib: int,
             ephemeral_storage_gib: int) -> "FargateWorkerConfig":
        config = cls(
            max_tasks=block.integer("maxTasks", max_tasks, minimum=1, maximum=100),
            cpu=_fargate_cpu(block, cpu),
            memory_mib=block.integer("memoryMiB", memory_mib, minimum=512, maximum=122880),
            # Fargate task storage: 21 GiB (free) to 200 GiB; a large document is streamed onto it.
            ephemeral_storage_gib=block.integer("ephemeralStorageGiB", ephemeral_storage_gib,
                                                minimum=21, maximum=200),
        )
        allowed = FARGATE_MEMORY[config.cpu]
        if config.memory_mib not in allowed:
            raise block.fail("memoryMiB", f"must be a size Fargate allows with cpu {config.cpu}: "
                                          f"{', '.join(map(str, allowed))}", config.memory_mib)
        block.reject_unknown_keys()
        return config


def _fargate_cpu(block: ContextBlock, default: int) -> int:
    value = block.integer("cpu", default, minimum=256, maximum=16384)
    if value not in FARGATE_MEMORY:
        raise block.fail("cpu", f"must be a Fargate CPU setting: {', '.join(map(str, FARGATE_MEMORY))}", value)
    return value


@dataclass(frozen=True)
class DatabaseConfig:
    # Aurora Serverless v2 capacity in ACUs (half steps). RDS Proxy keeps connections open, so the
    # cluster never auto-pauses: the minimum is billed around the clock (docs/pdf_pipeline.md).
    min_capacity: float
    max_capacity: float
    acu_alarm_percent: int
    connections_alarm_percent: int

    @classmethod
    def read(cls, block: ContextBlock) -> "DatabaseConfig":
        config = cls(
            min_capacity=_half_step(block, "minCapacity", 0.5),
            max_capacity=_half_step(block, "maxCapacity", 4),
            acu_alarm_percent=block.integer("acuAlarmPercent", 90, minimum=50, maximum=100),
            connections_alarm_percent=block.integer("connectionsAlarmPercent", 80, minimum=50, maximum=100),
        )
        if config.max_capacity < config.min_capacity:
            raise block.fail("maxCapacity", f"must not be below minCapacity ({config.min_capacity:g})",
                             config.max_capacity)
        block.reject_unknown_keys()
        return config


def _half_step(block: ContextBlock, name: str, default: float) -> float:
    value = block.number(name, default, minimum=0.5, maximum=128)
    if (value * 2) % 1:
        raise block.fail(name, "must be a multiple of 0.5 ACU", value)
    return value


@dataclass(frozen=True)
class InferenceConfig:
    enabled: bool
    endpoint_name: str
    # The model's own execution role, given read access to the page images (optional).
    model_execution_role_arn: str | None

    @classmethod
    def read(cls, block: ContextBlock) -> "InferenceConfig":
        config = cls(
            enabled=block.boolean("enabled", True),
            endpoint_name=block.string("endpointName", "pdf-page-model", pattern=_ENDPOINT_NAME,
                                       description="a SageMaker endpoint name (letters, digits, hyphens; "
                                                   "at most 63)"),
            model_execution_role_arn=block.optional_string(
                "modelExecutionRoleArn", pattern=_ROLE_ARN,
                description="an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
        )
        block.reject_unknown_keys()
        return config


@dataclass(frozen=True)
class AutoIngestConfig:
    enabled: bool
    prefix: str

    @classmethod
    def read(cls, block: ContextBlock) -> "AutoIngestConfig":
        config = cls(
            enabled=block.boolean("enabled", False),
            prefix=block.string("prefix", "auto-ingest/", pattern=_PREFIX, max_length=1024,
                                description="a key prefix of the staging bucket ending in '/' "
                                            "(printable ASCII, no leading '/')"),
        )
        block.reject_unknown_keys()
        return config


@dataclass(frozen=True)
class PdfPipelineConfig:
    data_removal_policy: cdk.RemovalPolicy
    allowed_source_buckets: tuple[str, ...]
    # Classification and splitting (the post's thresholds).
    large_bytes: int
    large_pages: int
    chunk_pages: int
    list_page_size: int
    # Rendering.
    dpi: int
    max_pixels: int
    convert_page_memory_mib: int
    # Storage lifetimes.
    work_expiration_days: int
    image_retention_days: int
    # Concurrency and workers.
    max_concurrency: Mapping[str, int]
    large_worker: FargateWorkerConfig
    failsafe_worker: FargateWorkerConfig
    database: DatabaseConfig
    inference: InferenceConfig
    auto_ingest: AutoIngestConfig
    # API and alarms.
    throttle_rate_limit: int
    throttle_burst_limit: int
    waf_requests_per_ip_per_5_min: int
    queue_age_alarm_minutes: int
    observability: ObservabilityConfig

    @classmethod
    def from_context(cls, node: Node) -> "PdfPipelineConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        buckets = block.string_list("allowedSourceBuckets", [], pattern=_BUCKET, description="S3 bucket names")
        if len(set(buckets)) != len(buckets):
            raise block.fail("allowedSourceBuckets", "must not name a bucket twice", list(buckets))
        config = cls(
            data_removal_policy=block.removal_policy(),
            allowed_source_buckets=buckets,
            large_bytes=block.integer("largeBytes", 10 * MIB, minimum=MIB, maximum=50 * MIB),
            large_pages=block.integer("largePages", 10, minimum=2, maximum=100),
            chunk_pages=block.integer("chunkPages", 10, minimum=1, maximum=100),
            list_page_size=block.integer("listPageSize", 1000, minimum=1, maximum=1000),
            dpi=block.integer("dpi", 150, minimum=36, maximum=600),
            max_pixels=block.integer("maxPixels", 25_000_000, minimum=1_000_000, maximum=200_000_000),
            convert_page_memory_mib=block.integer("convertPageMemoryMiB", 2048, minimum=512, maximum=10240),
            work_expiration_days=block.integer("workExpirationDays", 7, minimum=1, maximum=365),
            image_retention_days=block.integer("imageRetentionDays", 90, minimum=1, maximum=3650),
            max_concurrency=_max_concurrency(block.nested("maxConcurrency")),
            large_worker=FargateWorkerConfig.read(block.nested("largeWorker"), max_tasks=10, cpu=1024,
                                                  memory_mib=4096, ephemeral_storage_gib=100),
            failsafe_worker=FargateWorkerConfig.read(block.nested("failsafeWorker"), max_tasks=2, cpu=1024,
                                                     memory_mib=4096, ephemeral_storage_gib=50),
            database=DatabaseConfig.read(block.nested("database")),
            inference=InferenceConfig.read(block.nested("inference")),
            auto_ingest=AutoIngestConfig.read(block.nested("autoIngest")),
            throttle_rate_limit=block.integer("throttleRateLimit", 100, minimum=1, maximum=10000),
            throttle_burst_limit=block.integer("throttleBurstLimit", 200, minimum=1, maximum=5000),
            waf_requests_per_ip_per_5_min=block.integer("wafRequestsPerIpPer5Min", 20000, minimum=100,
                                                        maximum=2_000_000_000),
            queue_age_alarm_minutes=block.integer("queueAgeAlarmMinutes", 120, minimum=5, maximum=20160),
            observability=ObservabilityConfig.read(block),
        )
        if config.chunk_pages > config.large_pages:
            raise block.fail("chunkPages", f"must not exceed largePages ({config.large_pages}): a chunk is split "
                                           "by the small-document function", config.chunk_pages)
        block.reject_unknown_keys()
        return config


def _max_concurrency(block: ContextBlock) -> dict[str, int]:
    limits = {name: block.integer(name, default, minimum=2, maximum=1000)
              for name, default in DEFAULT_MAX_CONCURRENCY.items()}
    block.reject_unknown_keys()
    return limits
