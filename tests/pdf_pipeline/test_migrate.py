"""The migrate custom resource: CloudFormation's protocol against a loopback HTTP server standing in
for the presigned ResponseURL, the master secret in moto's Secrets Manager, a real PostgreSQL."""
from __future__ import annotations

import contextlib
import functools
import json
import time
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

# First: it sets the Lambda environment (Powertools reads it when the handler module is imported).
from tests.pdf_pipeline.postgres import APP_USER, MASTER_USER, free_port  # noqa: E402

pytest_plugins = ["tests.pdf_pipeline.postgres"]

from lambda_src.pdf_pipeline.db import connection  # noqa: E402
from lambda_src.pdf_pipeline.db.migrate import load_migrations  # noqa: E402
from lambda_src.pdf_pipeline.migrate import handler as migrate  # noqa: E402
from suite_lib import cloudformation  # noqa: E402
from tests.support.cloudformation import CloudFormationStandIn  # noqa: E402
from tests.support.cloudformation import cloudformation_stand_in as running_stand_in  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402

LATEST = str(len(load_migrations()))


@pytest.fixture
def cloudformation_stand_in() -> Iterator[CloudFormationStandIn]:
    with running_stand_in() as stand_in:
        yield stand_in


@pytest.fixture
def deployment(postgres, database, monkeypatch):
    """The function's environment for a fresh database, its master secret in Secrets Manager,
    and the test CA in place of the AWS trust anchors."""
    with mock_aws():
        secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="rds!cluster-abc", SecretString=json.dumps({"username": MASTER_USER,
                                                               "password": postgres.admin_password}))
        for name, value in {"DB_HOST": postgres.host, "DB_PORT": str(postgres.port), "DB_NAME": database,
                            "DB_USER": APP_USER, "MASTER_SECRET_ARN": secret["ARN"]}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(migrate, "_secrets", None)
        monkeypatch.setattr(migrate, "connect", functools.partial(connection.connect,
                                                                  ssl_context=postgres.tls_context()))
        yield database


def _request(stand_in, request_type: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": request_type, "ResponseURL": stand_in.url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/PdfPipeline/guid",
            "RequestId": f"request-{request_type}", "LogicalResourceId": "AuditSchema",
            "ResourceType": "Custom::AuditSchema",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:migrate",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:migrate",
                                   "SchemaVersion": LATEST}, **extra}


def _run(event, remaining_ms: int = 300_000) -> None:
    migrate.handler(event, FakeLambdaContext(remaining_ms=remaining_ms))


def _tables(postgres, database) -> list[str]:
    with contextlib.closing(postgres.connect(database)) as admin:
        return [name for (name,) in admin.run("SELECT name FROM audit.schema_migrations ORDER BY version")]


def test_create_applies_the_migrations_and_answers_success_with_the_schema_version(
        postgres, deployment, cloudformation_stand_in):
    _run(_request(cloudformation_stand_in, "Create"))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["PhysicalResourceId"], answer["Data"]) == (
        "SUCCESS", f"pdf-pipeline-audit-schema/{deployment}", {"SchemaVersion": LATEST})
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/PdfPipeline/guid", "request-Create", "AuditSchema")
    assert answer["Reason"].startswith("Create: applied 0001_audit_schema, 0002_report_views")
    assert _tables(postgres, deployment) == [migration.name for migration in load_migrations()]


def test_the_answer_is_put_with_an_empty_content_type_to_the_presigned_path(deployment, cloudformation_stand_in):
    _run(_request(cloudformation_stand_in, "Create"))
    [request] = cloudformation_stand_in.requests
    assert (request["path"], request["headers"].get("Content-Type")) == (
        "/presigned/response?X-Amz-Signature=abc", "")


def test_an_update_applies_nothing_new_and_keeps_the_physical_id(deployment, cloudformation_stand_in):
    _run(_request(cloudformation_stand_in, "Create"))
    _run(_request(cloudformation_stand_in, "Update", PhysicalResourceId="pdf-pipeline-audit-schema/kept",
                  OldResourceProperties={"SchemaVersion": "1"}))
    update = cloudformation_stand_in.answers[1]
    assert (update["Status"], update["PhysicalResourceId"], update["Reason"]) == (
        "SUCCESS", "pdf-pipeline-audit-schema/kept",
        f"Update: applied nothing (the schema was current); schema version {LATEST}")


def test_delete_succeeds_without_touching_the_database(deployment, cloudformation_stand_in, monkeypatch):
    monkeypatch.setenv("DB_PORT", str(free_port()))  # nothing listens: any connection attempt would fail
    _run(_request(cloudformation_stand_in, "Delete", PhysicalResourceId="pdf-pipeline-audit-schema/x"))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "pdf-pipeline-audit-schema/x")


def test_an_unreachable_database_is_a_failed_answer_within_the_deadline(deployment, cloudformation_stand_in,
                                                                         monkeypatch):
    monkeypatch.setenv("DB_PORT", str(free_port()))
    started = time.monotonic()
    _run(_request(cloudformation_stand_in, "Create"))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["Reason"].startswith("InterfaceError: Can't create a connection")) == (
        "FAILED", True)
    assert time.monotonic() - started < 10


def test_a_master_secret_without_credentials_fails_without_showing_the_secret(deployment, cloudformation_stand_in):
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="rds!cluster-abc", SecretString=json.dumps({"password": "hunter2-secret"}))
    _run(_request(cloudformation_stand_in, "Create"))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["Reason"]) == (
        "FAILED", "InvalidSecret: the master secret has no username and password")
    assert b"hunter2" not in cloudformation_stand_in.requests[0]["body"]


def test_an_unknown_request_type_is_a_failed_answer(deployment, cloudformation_stand_in):
    _run(_request(cloudformation_stand_in, "Rollback"))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["Reason"]) == (
        "FAILED", "InvalidRequest: RequestType must be one of Create, Update, Delete, got 'Rollback'")


def test_with_no_time_left_for_migrations_the_answer_is_failed_and_says_so(deployment, cloudformation_stand_in):
    _run(_request(cloudformation_stand_in, "Create"), remaining_ms=int(migrate.ANSWER_RESERVE_S * 1000))
    [answer] = cloudformation_stand_in.answers
    assert (answer["Status"], answer["Reason"].startswith("MigrationError: out of time before 0001")) == (
        "FAILED", True)


def test_the_answer_is_retried_when_the_response_url_fails(deployment, cloudformation_stand_in, monkeypatch):
    monkeypatch.setattr(cloudformation.time, "sleep", lambda seconds: None)
    cloudformation_stand_in.failures = 2
    _run(_request(cloudformation_stand_in, "Delete", PhysicalResourceId="pdf-pipeline-audit-schema/x"))
    assert [answer["Status"] for answer in cloudformation_stand_in.answers] == ["SUCCESS"] * 3


def test_the_invocation_fails_when_no_answer_can_be_delivered_so_lambda_retries(deployment, cloudformation_stand_in,
                                                                               monkeypatch):
    monkeypatch.setattr(cloudformation.time, "sleep", lambda seconds: None)
    cloudformation_stand_in.failures = 10
    with pytest.raises(OSError, match="500"):
        _run(_request(cloudformation_stand_in, "Delete", PhysicalResourceId="pdf-pipeline-audit-schema/x"))
    assert len(cloudformation_stand_in.requests) == cloudformation.RESPONSE_ATTEMPTS


def test_a_long_reason_is_cut_to_fit_cloudformations_limit():
    body = cloudformation.response_body({"StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}, success=False,
                                        reason="x" * 10_000, physical_id="p" * 2000, data={"SchemaVersion": "2"})
    document = json.loads(body)
    assert len(body) <= cloudformation.MAX_RESPONSE_BYTES
    assert (len(document["Reason"]), len(document["PhysicalResourceId"])) == (cloudformation.MAX_REASON_CHARS, 1024)


def test_the_reserve_covers_every_answer_attempt():
    assert migrate.ANSWER_RESERVE_S > cloudformation.RESPONSE_ATTEMPTS * cloudformation.RESPONSE_TIMEOUT_S + sum(
        range(1, cloudformation.RESPONSE_ATTEMPTS))
