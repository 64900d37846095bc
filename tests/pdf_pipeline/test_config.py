"""The ``pdfPipeline`` context block: defaults from the post, every key validated, typos refused."""
from __future__ import annotations

import copy

import aws_cdk as cdk
import pytest

from stacks.common.config import ConfigError
from stacks.pdf_pipeline.config import DEFAULT_MAX_CONCURRENCY, MIB, PdfPipelineConfig
from tests.conftest import project_context


def read(block: dict) -> PdfPipelineConfig:
    return PdfPipelineConfig.from_context(cdk.App(context={"pdfPipeline": block}).node)


def with_value(path: str, value) -> dict:
    """The cdk.json block with one (possibly nested, dotted) key set to ``value``."""
    block = copy.deepcopy(project_context()["pdfPipeline"])
    *parents, name = path.split(".")
    target = block
    for parent in parents:
        target = target.setdefault(parent, {})
    target[name] = value
    return block


def test_the_defaults_are_the_posts_thresholds_and_a_150_dpi_render():
    config = read({})

    assert (config.large_bytes, config.large_pages, config.chunk_pages, config.dpi) == (10 * MIB, 10, 10, 150)


def test_the_cdk_json_block_states_exactly_the_defaults():
    assert read(project_context()["pdfPipeline"]) == read({})


def test_inference_is_on_and_auto_ingest_off_by_default():
    config = read({})

    assert config.inference.enabled is True and config.auto_ingest.enabled is False


def test_the_database_minimum_is_half_an_acu_because_rds_proxy_rules_out_auto_pause():
    assert (read({}).database.min_capacity, read({}).database.max_capacity) == (0.5, 4)


def test_user_data_is_kept_unless_destroy_is_chosen():
    assert read({}).data_removal_policy == cdk.RemovalPolicy.RETAIN
    assert read({"dataRemovalPolicy": "destroy"}).data_removal_policy == cdk.RemovalPolicy.DESTROY


def test_every_consumer_has_a_bounded_concurrency():
    assert read({}).max_concurrency == DEFAULT_MAX_CONCURRENCY
    assert read({"maxConcurrency": {"convertPage": 200}}).max_concurrency["convertPage"] == 200


def test_a_nested_object_given_partly_keeps_the_defaults_of_its_other_keys():
    config = read({"largeWorker": {"maxTasks": 3}})

    assert (config.large_worker.max_tasks, config.large_worker.ephemeral_storage_gib) == (3, 100)


def test_a_model_execution_role_may_be_named():
    arn = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-2026"

    assert read({"inference": {"modelExecutionRoleArn": arn}}).inference.model_execution_role_arn == arn


def test_source_buckets_beyond_staging_come_from_the_allowlist():
    assert read({"allowedSourceBuckets": ["invoices-archive", "scans.example.com"]}).allowed_source_buckets == (
        "invoices-archive", "scans.example.com")


@pytest.mark.parametrize("path, value, message", [
    ("largeBytes", 10, r"pdfPipeline\.largeBytes must be an integer from 1048576 to 52428800"),
    ("largePages", 1, r"pdfPipeline\.largePages must be an integer from 2 to 100"),
    ("chunkPages", 11, r"pdfPipeline\.chunkPages must not exceed largePages \(10\)"),
    ("dpi", "150", r"pdfPipeline\.dpi must be an integer"),
    ("maxPixels", True, r"pdfPipeline\.maxPixels must be an integer"),
    ("listPageSize", 1001, r"pdfPipeline\.listPageSize must be an integer from 1 to 1000"),
    ("allowedSourceBuckets", ["Bad_Bucket"], r"pdfPipeline\.allowedSourceBuckets must be a list of S3 bucket names"),
    ("allowedSourceBuckets", ["twice", "twice"], r"pdfPipeline\.allowedSourceBuckets must not name a bucket twice"),
    ("dataRemovalPolicy", "snapshot", r"pdfPipeline\.dataRemovalPolicy must be one of retain, destroy"),
    ("maxConcurrency.classify", 1, r"pdfPipeline\.maxConcurrency\.classify must be an integer from 2 to 1000"),
    ("largeWorker.cpu", 1000, r"pdfPipeline\.largeWorker\.cpu must be a Fargate CPU setting"),
    ("largeWorker.memoryMiB", 1024, r"pdfPipeline\.largeWorker\.memoryMiB must be a size Fargate allows with cpu "
                                    r"1024"),
    ("failsafeWorker.ephemeralStorageGiB", 20, r"pdfPipeline\.failsafeWorker\.ephemeralStorageGiB must be an "
                                               r"integer from 21 to 200"),
    ("database.minCapacity", 0, r"pdfPipeline\.database\.minCapacity must be a number from 0\.5 to 128"),
    ("database.minCapacity", 0.75, r"pdfPipeline\.database\.minCapacity must be a multiple of 0\.5 ACU"),
    ("database", {"minCapacity": 2, "maxCapacity": 1},
     r"pdfPipeline\.database\.maxCapacity must not be below minCapacity \(2\)"),
    ("inference.enabled", "yes", r"pdfPipeline\.inference\.enabled must be true or false"),
    ("inference.endpointName", "my_endpoint", r"pdfPipeline\.inference\.endpointName must be a SageMaker endpoint"),
    ("inference.modelExecutionRoleArn", "arn:aws:iam::123456789012:user/model",
     r"pdfPipeline\.inference\.modelExecutionRoleArn must be an IAM role ARN"),
    ("autoIngest.prefix", "/uploads/", r"pdfPipeline\.autoIngest\.prefix must be a key prefix"),
    ("autoIngest.prefix", "uploads", r"pdfPipeline\.autoIngest\.prefix must be a key prefix"),
    ("inference", "off", r"pdfPipeline\.inference must be an object"),
    ("queueAgeAlarmMinutes", 1, r"pdfPipeline\.queueAgeAlarmMinutes must be an integer from 5"),
])
def test_a_bad_value_names_its_key(path, value, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        read(with_value(path, value))


@pytest.mark.parametrize("path, message", [
    ("largePage", r"pdfPipeline\.largePage is not a known setting"),
    ("inference.endpoint", r"pdfPipeline\.inference\.endpoint is not a known setting"),
    ("maxConcurrency.convert", r"pdfPipeline\.maxConcurrency\.convert is not a known setting"),
    ("database.minACU", r"pdfPipeline\.database\.minACU is not a known setting"),
])
def test_an_unknown_key_is_refused_with_its_full_name(path, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        read(with_value(path, 1))


def test_a_command_line_override_changes_only_the_keys_it_names():
    app = cdk.App(context={"pdfPipeline": '{"dpi": 200}'})

    config = PdfPipelineConfig.from_context(app.node)

    assert config.dpi == 200 and config.large_pages == 10
