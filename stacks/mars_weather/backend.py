"""The function that composes the display's data, its private image bucket and the NASA key."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge
from stacks.mars_weather.config import MarsWeatherConfig

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "mars_weather" / "display_data"
IMAGE_PREFIX = "images/"
CACHE_PREFIX = "cache/"
# The whole answer (all upstream calls, their retries, the image conversion) must fit well
# inside API Gateway's 29 s integration timeout, so the device gets a 200 rather than a 504.
FUNCTION_TIMEOUT = cdk.Duration.seconds(27)
UPSTREAM_BUDGET_SECONDS = 20


class DisplayDataBackend(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: MarsWeatherConfig) -> None:
        super().__init__(scope, id_)
        self.bucket = s3.Bucket(
            self, "Images",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireConvertedImages", prefix=IMAGE_PREFIX,
                                 expiration=cdk.Duration.days(config.image_retention_days)),
                s3.LifecycleRule(id="ExpireCachedAnswers", prefix=CACHE_PREFIX,
                                 expiration=cdk.Duration.days(1)),
                s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
            ],
            # Everything in it is regenerated from NASA's feeds on the next request. CloudFormation
            # deletes only empty buckets, so the stack empties it first (CDK's deploy-time function).
            removal_policy=cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        acknowledge(self.bucket.node.default_child, "AwsSolutions-S1",
                    "Holds only regenerable converted NASA photos and a cached answer, read through "
                    "short-lived presigned URLs; server access logs would add cost without value.")
        self.nasa_api_key = secretsmanager.Secret(
            self, "NasaApiKey",
            description="NASA API key for the Mars weather display: set {\"api_key\": \"<key>\"}; "
                        "DEMO_KEY is used while api_key is empty",
            # A generated placeholder keeps any key value out of the template; api_key stays empty
            # until the user sets it.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"api_key": ""}), generate_string_key="placeholder",
                exclude_punctuation=True),
        )
        acknowledge(self.nasa_api_key.node.default_child, "AwsSolutions-SMG4",
                    "The secret holds a NASA-issued API key that can only be rotated by hand at "
                    "api.nasa.gov; there is no rotation API to automate.")
        self.function = PythonFunction(
            self, "DisplayData", entry=FUNCTION_DIR, service_name="mars-weather",
            metrics_namespace="MarsWeather", log_retention_days=config.observability.log_retention_days,
            description="Composes Mars photo + weather for the PyPortal display",
            timeout=FUNCTION_TIMEOUT, memory_size=1024,
            environment={
                "MARS_IMAGE_SOURCE": config.image_source,
                "MARS_WEATHER_SOURCE": config.weather_source,
                "MARS_ROVER_PHOTOS_ROVER": config.rover_photos_rover,
                "NASA_API_KEY_SECRET_ID": self.nasa_api_key.secret_arn,
                "IMAGE_BUCKET_NAME": self.bucket.bucket_name,
                "CACHE_TTL_SECONDS": str(config.cache_ttl_seconds),
                "PRESIGNED_URL_EXPIRY_SECONDS": str(config.presigned_url_expiry_seconds),
                "MAX_DAYS_BACK": str(config.max_days_back),
                "UPSTREAM_TIMEOUT_SECONDS": str(config.upstream_timeout_seconds),
                "UPSTREAM_RETRIES": str(config.upstream_retries),
                "UPSTREAM_BUDGET_SECONDS": str(UPSTREAM_BUDGET_SECONDS),
            })
        role = self.function.role
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject"],
            resources=[self.bucket.arn_for_objects(f"{IMAGE_PREFIX}*"),
                       self.bucket.arn_for_objects(f"{CACHE_PREFIX}*")]))
        # Without ListBucket a missing cache object reads as AccessDenied instead of NoSuchKey.
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{IMAGE_PREFIX}*", f"{CACHE_PREFIX}*"]}}))
        self.nasa_api_key.grant_read(role)
        policy = role.node.find_child("DefaultPolicy").node.default_child
        bucket_id = cdk.Stack.of(self).get_logical_id(self.bucket.node.default_child)
        for prefix in (IMAGE_PREFIX, CACHE_PREFIX):
            acknowledge(policy, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                        f"Object names under {prefix} are content hashes and cache keys chosen at run "
                        "time; access is limited to that prefix of this stack's own bucket.")
