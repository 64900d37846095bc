"""PdfPipeline: PDF documents in, one PNG per page out, each page through a model, every step
in a queryable audit trail (the architecture of "Building a Scalable Document Pre-Processing
Pipeline"; docs/pdf_pipeline.md)."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.pdf_pipeline.api import PipelineApi
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.containers import PipelineContainers
from stacks.pdf_pipeline.database import PipelineDatabase
from stacks.pdf_pipeline.inference import grant_model_read
from stacks.pdf_pipeline.monitoring import PipelineMonitoring
from stacks.pdf_pipeline.network import PipelineNetwork
from stacks.pdf_pipeline.queues import PipelineQueues
from stacks.pdf_pipeline.storage import IMAGES_PREFIX, PipelineBuckets, notify_on_create
from stacks.pdf_pipeline.workers import PipelineFunctions

# Names the operators' CLI (ops/pdf_pipeline) reads from the stack's outputs: keep them stable.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_STAGING_BUCKET = "StagingBucket"
OUTPUT_WORK_BUCKET = "WorkBucket"
OUTPUT_IMAGES_BUCKET = "ImagesBucket"
OUTPUT_INGEST_QUEUE_URL = "IngestQueueUrl"
OUTPUT_QUARANTINE_QUEUE_URL = "QuarantineQueueUrl"
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_DASHBOARD = "DashboardName"


class PdfPipelineStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, **kwargs) -> None:
        super().__init__(scope, id_, description="PDF pre-processing pipeline: queues, Lambda, Fargate, "
                                                 "Aurora audit trail, SageMaker inference", **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.buckets = PipelineBuckets(self, "Buckets", config=config)
        self.queues = PipelineQueues(self, "Queues", config=config, alarms=self.alarm_topic)
        self.network = PipelineNetwork(self, "Network", config=config)
        self.database = PipelineDatabase(self, "Database", config=config, network=self.network)
        self.api = PipelineApi(self, "Api", config=config)
        self.functions = PipelineFunctions(
            self, "Functions", config=config, buckets=self.buckets, queues=self.queues, database=self.database,
            network=self.network, inference=self.api.inference)
        self.api.add_batch_routes(start_batch=self.functions.start_batch.function,
                                  batch_status=self.functions.batch_status.function,
                                  reports=self.functions.reports.function)
        self.containers = PipelineContainers(self, "Workers", config=config, network=self.network,
                                             buckets=self.buckets, queues=self.queues)

        if self.queues.converted_image is not None:  # inference on
            notify_on_create(self.buckets.images, self.queues.converted_image.queue, prefix=IMAGES_PREFIX,
                             suffix=".png")
            if config.inference.model_execution_role_arn:
                grant_model_read(self.buckets.images, config.inference.model_execution_role_arn)
        if self.queues.auto_ingest is not None:
            notify_on_create(self.buckets.staging, self.queues.auto_ingest.queue, prefix=config.auto_ingest.prefix)

        self.monitoring = PipelineMonitoring(
            self, "Monitoring", config=config, alarms=self.alarm_topic, queues=self.queues,
            functions=self.functions.all, containers=self.containers, database=self.database)

        cdk.CfnOutput(self, OUTPUT_API_URL, value=self.api.url,
                      description="Base URL of the pipeline API (SigV4-signed requests: execute-api:Invoke)")
        cdk.CfnOutput(self, OUTPUT_STAGING_BUCKET, value=self.buckets.staging.bucket_name,
                      description="Upload documents here; POST /batches lists them by prefix")
        cdk.CfnOutput(self, OUTPUT_WORK_BUCKET, value=self.buckets.work.bucket_name)
        cdk.CfnOutput(self, OUTPUT_IMAGES_BUCKET, value=self.buckets.images.bucket_name,
                      description="One PNG per page: images/<batch>/<document>/<page>.png")
        cdk.CfnOutput(self, OUTPUT_INGEST_QUEUE_URL, value=self.queues.ingest.queue.queue_url)
        cdk.CfnOutput(self, OUTPUT_QUARANTINE_QUEUE_URL, value=self.queues.quarantine.queue.queue_url,
                      description="What the failsafe could not process; `redrive` moves it back to ingest")
        cdk.CfnOutput(self, OUTPUT_ALARM_TOPIC_ARN, value=self.alarm_topic.topic.topic_arn)
        cdk.CfnOutput(self, OUTPUT_DASHBOARD, value=self.monitoring.dashboard.dashboard_name)
