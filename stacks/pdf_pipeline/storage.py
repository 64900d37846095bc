"""The pipeline's three buckets: staging (uploads), work (chunks and one-page PDFs), images (PNG pages)."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.common.nag import acknowledge
from stacks.pdf_pipeline.config import PdfPipelineConfig

# Key prefixes (lambda_src/pdf_pipeline/messages.py Keys): what each worker may read or write.
CHUNKS_PREFIX = "chunks/"
PAGES_PREFIX = "pages/"
IMAGES_PREFIX = "images/"
# A replaced or deleted upload stays recoverable this long, longer than any queue keeps a message
# (14 days) that may name its version.
NONCURRENT_VERSION_DAYS = 30

_NO_ACCESS_LOGS = ("every object the pipeline reads or writes is recorded per document in the audit "
                   "database; S3 data events in CloudTrail are the account-level tool for forensics")


class PipelineBuckets(Construct):
    """Private, encrypted, TLS 1.2+ only buckets with public access blocked.

    Staging and images hold users' documents and the pipeline's output: they follow
    ``dataRemovalPolicy`` (kept when the stack is deleted, or emptied and deleted with it). The
    work bucket holds only intermediates the pipeline can regenerate, so it always goes with the
    stack, and its objects expire after ``workExpirationDays``.
    """

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig) -> None:
        super().__init__(scope, id_)
        user_data = config.data_removal_policy
        self.staging = _bucket(
            self, "Staging", removal_policy=user_data, versioned=True,
            purpose="uploaded source documents", lifecycle_rules=[
                s3.LifecycleRule(id="ExpireReplacedVersions",
                                 noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS)),
                _abort_uploads(days=7)])
        self.work = _bucket(
            self, "Work", removal_policy=cdk.RemovalPolicy.DESTROY,
            purpose="chunks and one-page PDFs, regenerated from the staging bucket on demand", lifecycle_rules=[
                s3.LifecycleRule(id="ExpireIntermediates",
                                 expiration=cdk.Duration.days(config.work_expiration_days)),
                _abort_uploads(days=1)])
        self.images = _bucket(
            self, "Images", removal_policy=user_data,
            purpose="page images (PNG) the model reads", lifecycle_rules=[
                s3.LifecycleRule(id="ExpirePageImages", prefix=IMAGES_PREFIX,
                                 expiration=cdk.Duration.days(config.image_retention_days)),
                _abort_uploads(days=1)])


def _abort_uploads(*, days: int) -> s3.LifecycleRule:
    return s3.LifecycleRule(id="AbortIncompleteUploads",
                            abort_incomplete_multipart_upload_after=cdk.Duration.days(days))


def _bucket(scope: Construct, id_: str, *, removal_policy: cdk.RemovalPolicy, purpose: str,
            lifecycle_rules: list[s3.LifecycleRule], versioned: bool = False) -> s3.Bucket:
    bucket = s3.Bucket(
        scope, id_,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True, minimum_tls_version=1.2,
        versioned=versioned or None,
        lifecycle_rules=lifecycle_rules,
        removal_policy=removal_policy,
        # CloudFormation deletes only empty buckets: a bucket that goes with the stack is emptied
        # first (all versions) by CDK's deploy-time function.
        auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
    )
    acknowledge(bucket.node.default_child, "AwsSolutions-S1",
                f"No server access logs for the {purpose}: {_NO_ACCESS_LOGS}.")
    return bucket


def notify_on_create(bucket: s3.Bucket, queue: sqs.IQueue, *, prefix: str, suffix: str | None = None) -> None:
    """S3 event notifications of objects created under ``prefix`` (ending in ``suffix``) to ``queue``."""
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue),
                                  s3.NotificationKeyFilter(prefix=prefix, suffix=suffix))
    stack = cdk.Stack.of(bucket)
    # CDK configures notifications with one deploy-time function per stack (its singleton handler).
    [handler] = [child for child in stack.node.children if child.node.id.startswith("BucketNotificationsHandler")]
    acknowledge(handler.node.find_child("Role"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "CDK's own deploy-time function that sets the buckets' event notifications runs with the AWS "
                "managed basic execution role: it writes only its own logs.")
