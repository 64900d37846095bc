"""Every Lambda function of the pipeline, with exactly the environment and permissions the
contract gives it (docs/pdf_pipeline.md, "Who may do what") and its queue trigger."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from stacks.common.lambda_function import DEFAULT_TIMEOUT, PythonFunction, VpcPlacement
from stacks.common.queues import SecureQueue
from stacks.pdf_pipeline.access import (
    DERIVED_OBJECTS,
    S3_READ,
    S3_READ_VERSIONS,
    S3_WRITE,
    SOURCE_OBJECTS,
    SQS_SEND,
    SourceBuckets,
    allow,
)
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.database import PipelineDatabase
from stacks.pdf_pipeline.inference import InferenceRoute
from stacks.pdf_pipeline.network import HTTPS, PipelineNetwork
from stacks.pdf_pipeline.queues import CONSUMER_TIMEOUTS, PipelineQueues
from stacks.pdf_pipeline.storage import CHUNKS_PREFIX, IMAGES_PREFIX, PAGES_PREFIX, PipelineBuckets

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "lambda_src" / "pdf_pipeline"
SERVICE_NAME = "pdf-pipeline"
METRICS_NAMESPACE = "PdfPipeline"
API_TIMEOUT = cdk.Duration.seconds(20)  # answers well inside API Gateway's 29 s
MIGRATION_TIMEOUT = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class Consumer:
    """How a function takes messages from its queue: ``batch_size`` per invocation (waiting at
    most ``batching_window`` to fill it), at most ``maxConcurrency[concurrency_key]`` at once."""
    concurrency_key: str
    batch_size: int = 1
    batching_window: cdk.Duration | None = None


# One document, chunk or page per invocation keeps a poison input (a page that exhausts memory)
# from failing its neighbours; the audit writer takes many events per transaction.
CONSUMERS: Mapping[str, Consumer] = {
    "list_objects": Consumer("list"),
    "classify": Consumer("classify"),
    "split_small": Consumer("splitSmall"),
    "convert_page": Consumer("convertPage"),
    "invoke_model": Consumer("invokeModel"),
    "auto_ingest": Consumer("autoIngest", batch_size=10),
    "write_audit": Consumer("writeAudit", batch_size=100, batching_window=cdk.Duration.seconds(5)),
}


class PipelineFunctions(Construct):
    """The functions of the pipeline. Only ``write_audit``, ``batch_status``, ``reports`` and
    ``migrate`` run in the VPC (they reach the database); every other worker runs outside it and
    reports to the audit queue instead."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, buckets: PipelineBuckets,
                 queues: PipelineQueues, database: PipelineDatabase, network: PipelineNetwork,
                 inference: InferenceRoute | None) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._queues = queues
        sources_ = SourceBuckets(self, buckets.staging.bucket_arn, config.allowed_source_buckets)
        work, images = buckets.work, buckets.images
        audit = {"AUDIT_QUEUE_URL": queues.audit.queue.queue_url}

        self.start_batch = self._function(
            "start_batch", "Starts a batch: one listing message per prefix, answers 202 with the batch id",
            timeout=API_TIMEOUT, environment={
                "STAGING_BUCKET": buckets.staging.bucket_name,
                "ALLOWED_SOURCE_BUCKETS": ",".join(config.allowed_source_buckets),
                "LIST_QUEUE_URL": queues.list.queue.queue_url, **audit})
        _send(self.start_batch, queues.list, queues.audit)

        self.list_objects = self._function(
            "list_objects", "Lists one page of a prefix: a document message per object, then the next page",
            trigger="list", environment={"LIST_QUEUE_URL": queues.list.queue.queue_url,
                                         "INGEST_QUEUE_URL": queues.ingest.queue.queue_url,
                                         "LIST_PAGE_SIZE": str(config.list_page_size), **audit})
        _allow(self.list_objects, ("s3:ListBucket",), sources_.bucket_arns)
        _send(self.list_objects, queues.list, queues.ingest, queues.audit)

        self.classify = self._function(
            "classify", "Classifies a document as large, small or single page (or rejects it, with the reason)",
            trigger="ingest", memory_size=1024, environment={
                "LARGE_BYTES": str(config.large_bytes), "LARGE_PAGES": str(config.large_pages),
                "LARGE_QUEUE_URL": queues.large.queue.queue_url,
                "SMALL_QUEUE_URL": queues.small.queue.queue_url,
                "SINGLE_PAGE_QUEUE_URL": queues.single_page.queue.queue_url, **audit})
        _allow(self.classify, S3_READ_VERSIONS, sources_.object_arns, wildcards=SOURCE_OBJECTS)
        _send(self.classify, queues.large, queues.small, queues.single_page, queues.audit)

        self.split_small = self._function(
            "split_small", "Splits a chunk (or a small document) into one-page PDFs",
            trigger="small", memory_size=1024, environment={
                "WORK_BUCKET": work.bucket_name,
                "SINGLE_PAGE_QUEUE_URL": queues.single_page.queue.queue_url, **audit})
        _allow(self.split_small, S3_READ, sources_.object_arns, wildcards=SOURCE_OBJECTS)
        _allow(self.split_small, S3_READ, [work.arn_for_objects(f"{CHUNKS_PREFIX}*")],
               wildcards=DERIVED_OBJECTS)
        _allow(self.split_small, S3_WRITE, [work.arn_for_objects(f"{PAGES_PREFIX}*")],
               wildcards=DERIVED_OBJECTS)
        _send(self.split_small, queues.single_page, queues.audit)

        self.convert_page = self._function(
            "convert_page", "Renders a one-page PDF to PNG (DPI and pixel cap from config)",
            trigger="single_page", memory_size=config.convert_page_memory_mib, environment={
                "IMAGES_BUCKET": images.bucket_name, "DPI": str(config.dpi),
                "MAX_PIXELS": str(config.max_pixels), **audit})
        _allow(self.convert_page, S3_READ, sources_.object_arns, wildcards=SOURCE_OBJECTS)
        _allow(self.convert_page, S3_READ, [work.arn_for_objects(f"{PAGES_PREFIX}*")],
               wildcards=DERIVED_OBJECTS)
        _allow(self.convert_page, S3_WRITE, [images.arn_for_objects(f"{IMAGES_PREFIX}*")],
               wildcards=DERIVED_OBJECTS)
        _send(self.convert_page, queues.audit)

        self.invoke_model: PythonFunction | None = None
        if inference is not None:
            self.invoke_model = self._function(
                "invoke_model", "Sends a page image to the model through POST /inference (SigV4) and records "
                                "the answer", trigger="converted_image", environment={"INFERENCE_URL": inference.url,
                                                                                      **audit})
            _allow(self.invoke_model, ("execute-api:Invoke",), [inference.invoke_arn])
            _send(self.invoke_model, queues.audit)

        self.auto_ingest: PythonFunction | None = None
        if queues.auto_ingest is not None:
            self.auto_ingest = self._function(
                "auto_ingest", "Ingests documents uploaded under the auto-ingest prefix into their hour's batch",
                trigger="auto_ingest", environment={"INGEST_QUEUE_URL": queues.ingest.queue.queue_url, **audit})
            _send(self.auto_ingest, queues.ingest, queues.audit)

        # In the VPC: the database's clients (through the proxy) and the migration (to the writer).
        self.database_clients = ec2.SecurityGroup(
            self, "DatabaseClients", vpc=network.vpc, allow_all_outbound=False,
            description="Pipeline functions that read or write the audit database through RDS Proxy")
        network.allow_endpoint_clients(self.database_clients)
        in_vpc = VpcPlacement(vpc=network.vpc, subnets=network.isolated_subnets,
                              security_groups=[self.database_clients])
        db_environment = database.connection_environment()
        self.write_audit = self._function(
            "write_audit", "Writes a batch of audit events in one transaction (duplicates are no-ops)",
            trigger="audit", environment=db_environment, vpc_placement=in_vpc)
        self.batch_status = self._function(
            "batch_status", "Answers GET /batches/{batchId} from the audit database",
            timeout=API_TIMEOUT, environment=db_environment, vpc_placement=in_vpc)
        self.reports = self._function(
            "reports", "Answers GET /reports/{name} from the report views",
            timeout=API_TIMEOUT, environment=db_environment, vpc_placement=in_vpc)
        for client in (self.write_audit, self.batch_status, self.reports):
            database.allow_app_client(client.role, self.database_clients)

        self.migration_client = ec2.SecurityGroup(
            self, "MigrationClient", vpc=network.vpc, allow_all_outbound=False,
            description="The deploy-time migration: Aurora, Secrets Manager, and S3 for its CloudFormation answer")
        network.allow_endpoint_clients(self.migration_client)
        # Isolated subnets route nothing out of the VPC but to the S3 gateway endpoint, where the
        # custom resource's presigned response URL points.
        self.migration_client.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to S3 through the gateway endpoint")
        self.migrate = self._function(
            "migrate", "Applies the SQL migrations and creates the app user (deploy time, custom resource)",
            timeout=MIGRATION_TIMEOUT, environment=database.migration_environment(),
            vpc_placement=VpcPlacement(vpc=network.vpc, subnets=network.isolated_subnets,
                                       security_groups=[self.migration_client]))
        migration = database.apply_migrations(self.migrate.function, role=self.migrate.role,
                                              security_group=self.migration_client)
        # No audit event is written before the schema and the app user exist.
        _event_source_mapping(self.write_audit).node.add_dependency(migration)

        self.all: tuple[PythonFunction, ...] = tuple(f for f in (
            self.start_batch, self.list_objects, self.classify, self.split_small, self.convert_page,
            self.invoke_model, self.auto_ingest, self.write_audit, self.batch_status, self.reports, self.migrate)
            if f is not None)

    def _function(self, name: str, description: str, *, environment: Mapping[str, str],
                  trigger: str | None = None, timeout: cdk.Duration | None = None, memory_size: int = 256,
                  vpc_placement: VpcPlacement | None = None) -> PythonFunction:
        """The function of ``lambda_src/pdf_pipeline/<name>/``, bundled with the whole package
        (handler ``pdf_pipeline.<name>.handler.handler``). A consumer of the queue ``trigger`` runs
        at most that queue's consumer timeout, reports partial batch failures and runs at most
        ``maxConcurrency`` of its kind at once."""
        if trigger is not None:
            timeout = CONSUMER_TIMEOUTS[trigger]
        function = PythonFunction(
            self, "".join(part.capitalize() for part in name.split("_")), entry=PACKAGE_ROOT / name,
            package_root=PACKAGE_ROOT, service_name=SERVICE_NAME, metrics_namespace=METRICS_NAMESPACE,
            log_retention_days=self._config.observability.log_retention_days, description=description,
            environment=environment, timeout=timeout or DEFAULT_TIMEOUT, memory_size=memory_size,
            vpc_placement=vpc_placement)
        if trigger is not None:
            consumer = CONSUMERS[name]
            function.function.add_event_source(sources.SqsEventSource(
                self._queues.by_name[trigger].queue, batch_size=consumer.batch_size,
                max_batching_window=consumer.batching_window, report_batch_item_failures=True,
                max_concurrency=self._config.max_concurrency[consumer.concurrency_key]))
        return function


def _allow(function: PythonFunction, actions: Iterable[str], resources: Sequence[str], *,
           wildcards: str | None = None) -> None:
    allow(function.role, actions, resources, wildcards=wildcards)


def _send(function: PythonFunction, *queues: SecureQueue) -> None:
    allow(function.role, SQS_SEND, [queue.queue.queue_arn for queue in queues])


def _event_source_mapping(function: PythonFunction) -> lambda_.EventSourceMapping:
    [mapping] = [child for child in function.function.node.children if isinstance(child, lambda_.EventSourceMapping)]
    return mapping
