"""Every queue of the pipeline: one per stage, each with its dead-letter queue and alarm, and the
terminal quarantine queue that the failsafe fills with what nothing could process."""
from __future__ import annotations

from typing import Mapping

import aws_cdk as cdk
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.queues import DeadLetterQueue, SecureQueue
from stacks.pdf_pipeline.config import PdfPipelineConfig

# The longest run of one delivery of each queue's consumer. Lambda consumers use it as their
# timeout; each queue's visibility timeout is six times it (SecureQueue). The large queue's
# consumer is the Fargate worker, which extends a message's visibility while it works.
CONSUMER_TIMEOUTS: Mapping[str, cdk.Duration] = {
    # Six times this is the list queue's visibility timeout, which must stay below SQS FIFO's
    # five-minute deduplication window: a page redelivered after a failure then still finds
    # its next page's message deduplicated.
    "list": cdk.Duration.seconds(30),
    "ingest": cdk.Duration.seconds(120),
    "large": cdk.Duration.minutes(5),
    "small": cdk.Duration.seconds(120),
    "single_page": cdk.Duration.seconds(120),
    "converted_image": cdk.Duration.seconds(120),
    "audit": cdk.Duration.seconds(60),
    "auto_ingest": cdk.Duration.seconds(30),
}
# A batch of tens of millions of pages drains over days: queues keep messages as long as SQS can.
RETENTION = cdk.Duration.days(14)
# The failsafe drains the dead letters of these stages (DEAD_LETTER_QUEUE_URLS names them so).
FAILSAFE_ORIGINS = ("ingest", "large", "small", "single_page")


class PipelineQueues(Construct):
    """``list`` is FIFO (a listing page's next page is enqueued once even when the page is
    redelivered: senders deduplicate by a hash of batch, prefix and continuation token).
    ``converted_image`` exists only with inference, ``auto_ingest`` only with auto-ingestion."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, alarms: AlarmTopic) -> None:
        super().__init__(scope, id_)

        def queue(name: str, construct_id: str, **kwargs) -> SecureQueue:
            return SecureQueue(self, construct_id, alarms=alarms, consumer_timeout=CONSUMER_TIMEOUTS[name],
                               retention=RETENTION, **kwargs)

        self.list = queue("list", "List", fifo=True)
        self.ingest = queue("ingest", "Ingest")
        self.large = queue("large", "Large")
        self.small = queue("small", "Small")
        self.single_page = queue("single_page", "SinglePage")
        self.audit = queue("audit", "Audit")
        self.converted_image = queue("converted_image", "ConvertedImage") if config.inference.enabled else None
        self.auto_ingest = queue("auto_ingest", "AutoIngest") if config.auto_ingest.enabled else None
        # Terminal: an operator redrives it to the ingest queue after a fix (docs/pdf_pipeline.md).
        self.quarantine = DeadLetterQueue(self, "Quarantine", alarms=alarms,
                                          purpose="the failsafe worker, for work it could not process either")

        self.by_name: dict[str, SecureQueue] = {
            name: q for name, q in (
                ("list", self.list), ("ingest", self.ingest), ("large", self.large), ("small", self.small),
                ("single_page", self.single_page), ("converted_image", self.converted_image),
                ("audit", self.audit), ("auto_ingest", self.auto_ingest)) if q is not None}
        self.failsafe_sources: dict[str, SecureQueue] = {name: self.by_name[name] for name in FAILSAFE_ORIGINS}
