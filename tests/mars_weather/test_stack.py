"""What the MarsWeather template promises, asserted by intent."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from stacks.suite import MARS_WEATHER
from tests.support.templates import all_statements, properties_of


@pytest.fixture(scope="module")
def template(suite):
    return suite.template(MARS_WEATHER)


@pytest.fixture(scope="module")
def template_json(suite):
    return suite.template_json(MARS_WEATHER)


def test_get_mars_requires_an_api_key(template):
    template.has_resource_properties("AWS::ApiGateway::Method", {
        "HttpMethod": "GET", "ApiKeyRequired": True,
        "Integration": Match.object_like({"Type": "AWS_PROXY"})})


def test_a_usage_plan_throttles_and_sets_a_daily_quota(template):
    template.has_resource_properties("AWS::ApiGateway::UsagePlan", {
        "Throttle": {"RateLimit": 2, "BurstLimit": 5},
        "Quota": {"Limit": 500, "Period": "DAY"}})
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)


def test_outputs_give_the_url_and_key_id_but_never_the_key_value(template_json):
    outputs = template_json["Outputs"]
    assert {"ApiUrl", "ApiKeyId"} <= set(outputs)
    assert "/mars" in json.dumps(outputs["ApiUrl"]["Value"])
    keys = properties_of(template_json, "AWS::ApiGateway::ApiKey")
    assert keys and all("Value" not in key for key in keys)


def test_one_function_on_arm64_with_a_timeout_below_api_gateways(template):
    template.has_resource_properties("AWS::Lambda::Function", {
        "Architectures": ["arm64"], "Timeout": 27, "TracingConfig": {"Mode": "Active"},
        "Handler": "display_data.handler.handler",
        "Environment": {"Variables": Match.object_like({
            "MARS_IMAGE_SOURCE": "curiosity_raw", "MARS_WEATHER_SOURCE": "msl_rems",
            "CACHE_TTL_SECONDS": "3600", "PRESIGNED_URL_EXPIRY_SECONDS": str(3600 + 2 * 30 * 60)})}})


def test_the_image_bucket_is_private_encrypted_and_expires_images(template):
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": Match.any_value(),
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like(
            {"Prefix": "images/", "ExpirationInDays": 7, "Status": "Enabled"})])}})


def test_the_nasa_key_secret_is_created_without_any_key_in_the_template(template_json):
    [secret] = properties_of(template_json, "AWS::SecretsManager::Secret")
    assert "SecretString" not in secret
    assert json.loads(secret["GenerateSecretString"]["SecretStringTemplate"]) == {"api_key": ""}


def test_the_function_reaches_only_its_bucket_prefixes_and_its_secret(template_json):
    statements = all_statements(template_json)
    s3_objects = [s for s in statements if "s3:GetObject" in s["Action"]]
    assert len(s3_objects) == 1
    objects = json.dumps(s3_objects[0]["Resource"])
    assert "/images/*" in objects and "/cache/*" in objects
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(secret_reads) == 1 and "Ref" in json.dumps(secret_reads[0]["Resource"])


def test_errors_of_the_function_and_5xx_of_the_api_alarm(template):
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "Errors", "Threshold": 0})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "5XXError", "Threshold": 0})
