"""Alarm topic, access-log format and saved queries, mapping-template loading."""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Match, Template

from stacks.common.alarms import AlarmTopic
from stacks.common.api_logging import ApiAccessLog, ApiFlavor, CallerIdentity, access_log_format
from stacks.common.mapping_templates import load_mapping_template
from tests.support.templates import properties_of

REQUIRED_LOG_FIELDS = {"requestId", "domainName", "apiId", "path", "resourcePath", "routeKey", "stage",
                       "status", "responseLatency", "integrationLatency", "integrationError", "sourceIp",
                       "userAgent", "errorMessage"}


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Observability")


def test_alarm_topic_is_kms_encrypted_with_a_key_cloudwatch_may_use():
    stack = _stack()
    AlarmTopic(stack, "Alarms", email=None)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::KMS::Key", {
        "EnableKeyRotation": True,
        "KeyPolicy": {"Statement": Match.array_with([Match.object_like({
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"]})])}})
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_alarm_topic_refuses_plain_http_publishers():
    stack = _stack()
    AlarmTopic(stack, "Alarms", email=None)
    Template.from_stack(stack).has_resource_properties("AWS::SNS::TopicPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_an_email_from_config_subscribes_to_the_topic():
    stack = _stack()
    AlarmTopic(stack, "Alarms", email="ops@example.com")
    Template.from_stack(stack).has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "ops@example.com"})


def test_alarms_made_by_the_topic_notify_on_alarm_and_on_recovery():
    stack = _stack()
    topic = AlarmTopic(stack, "Alarms", email=None)
    topic.alarm(stack, "Errors", threshold=1, description="errors",
                metric=cloudwatch.Metric(namespace="Test", metric_name="Errors"))
    template = Template.from_stack(stack)
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    [props] = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert props["AlarmActions"] == props["OKActions"] == [{"Ref": topic_id}]
    assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("flavor", list(ApiFlavor))
def test_access_log_lines_are_json_with_every_required_field(flavor):
    line = access_log_format(flavor)
    # Substitute every $context variable the way API Gateway does, numbers for the numeric ones.
    sample = re.sub(r'"\$context[^"]*"', '"value"', line)
    sample = re.sub(r"\$context\.[A-Za-z.]+", "200", sample)
    fields = json.loads(sample)
    assert REQUIRED_LOG_FIELDS <= set(fields)
    assert isinstance(fields["status"], int)


def test_http_apis_log_their_route_key_and_rest_apis_their_resource_path():
    assert '"routeKey": "$context.routeKey"' in access_log_format(ApiFlavor.HTTP)
    assert '"resourcePath": "$context.resourcePath"' in access_log_format(ApiFlavor.REST)


def test_saved_queries_run_against_the_access_log_group():
    stack = _stack()
    log = ApiAccessLog(stack, "Log", flavor=ApiFlavor.REST, api_name="demo", retention_days=30)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    queries = template.find_resources("AWS::Logs::QueryDefinition")
    strings = {q["Properties"]["Name"].rsplit("/", 1)[1]: q["Properties"]["QueryString"] for q in queries.values()}
    assert "by domainName" in strings["requests-per-domain"]
    assert "by httpMethod, resourcePath" in strings["top-paths"]
    assert "status >= 400" in strings["errors-by-path"]
    assert len(log.query_definitions) == 3


def test_mapping_templates_fill_every_placeholder(tmp_path):
    path = tmp_path / "t.vtl"
    path.write_text('{"TableName": "{{TableName}}", "Limit": {{PageSize}}}')
    assert load_mapping_template(path, {"TableName": "links", "PageSize": "25"}) == \
        '{"TableName": "links", "Limit": 25}'


@pytest.mark.parametrize("values", [{"TableName": "links"}, {"TableName": "t", "PageSize": "1", "Extra": "x"}])
def test_a_missing_or_unused_placeholder_value_is_an_error(tmp_path, values):
    path = tmp_path / "t.vtl"
    path.write_text('{"TableName": "{{TableName}}", "Limit": {{PageSize}}}')
    with pytest.raises(ValueError, match="t.vtl"):
        load_mapping_template(path, values)


def test_secure_queue_has_an_encrypted_dlq_an_alarm_and_six_times_the_consumer_timeout():
    from stacks.common.queues import SecureQueue

    stack = _stack()
    topic = AlarmTopic(stack, "Alarms", email=None)
    SecureQueue(stack, "Work", alarms=topic, consumer_timeout=cdk.Duration.seconds(20), max_receive_count=3)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SQS::Queue", {
        "VisibilityTimeout": 120, "SqsManagedSseEnabled": True,
        "RedrivePolicy": Match.object_like({"maxReceiveCount": 3})})
    template.has_resource_properties("AWS::SQS::Queue", {"MessageRetentionPeriod": 14 * 24 * 3600,
                                                         "SqsManagedSseEnabled": True})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold"})
    template.resource_count_is("AWS::SQS::QueuePolicy", 2)  # TLS-only on both


@pytest.mark.parametrize(("caller", "variable"), [
    (CallerIdentity.JWT_CLAIMS, "$context.authorizer.claims.sub"),
    (CallerIdentity.LAMBDA_AUTHORIZER, "$context.authorizer.principalId"),
    (CallerIdentity.IAM, "$context.identity.caller"),
])
def test_the_user_field_reads_the_caller_where_its_authorizer_puts_it(caller, variable):
    assert json.loads(re.sub(r"\$context\.status|\$context\.responseLatency", "0",
                             access_log_format(ApiFlavor.REST, caller)))["user"] == variable


@pytest.mark.parametrize(("stack", "variable"), [
    ("ParallelClusterApi", "$context.authorizer.principalId"),  # TOKEN authorizer
    ("PdfPipeline", "$context.identity.caller"),                # IAM (SigV4)
    ("UrlShortener", "$context.authorizer.claims.sub"),         # Cognito user pool
])
def test_every_rest_api_logs_the_caller_its_authorization_knows(suite, stack, variable):
    (stage,) = properties_of(suite.template_json(stack), "AWS::ApiGateway::Stage")
    assert f'"user": "{variable}"' in stage["AccessLogSetting"]["Format"]
