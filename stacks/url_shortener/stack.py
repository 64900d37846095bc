"""UrlShortener: a Lambda-less URL shortener (API Gateway + DynamoDB + Cognito + CloudFront)."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.static_site import (
    StaticSite,
    cognito_sign_in_sources,
    cors_origins,
    execute_api_origin,
)
from stacks.common.users import WebUsers
from stacks.common.web_config import cognito_revocation_endpoint, shortener_config, sign_in_config
from stacks.url_shortener.api import ShortenerApi
from stacks.url_shortener.cdn import ShortenerDistribution
from stacks.url_shortener.config import UrlShortenerConfig
from stacks.url_shortener.monitoring import ApiAlarms, EdgeAlarms
from stacks.url_shortener.storage import LinkTable

EDGE_REGION = "us-east-1"


class UrlShortenerStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: UrlShortenerConfig, **kwargs) -> None:
        super().__init__(scope, id_, description="Serverless URL shortener without Lambda (API Gateway VTL + "
                                                 "DynamoDB, Cognito, CloudFront)", **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.links = LinkTable(self, "Links", removal_policy=config.data_removal_policy)
        self.site = StaticSite(self, "Web", client="shortener", title="URL shortener",
                               log_retention_days=config.observability.log_retention_days) \
            if config.web_client else None
        self.users = WebUsers(self, "Users", settings=config.users, domain_label="shortener",
                              removal_policy=config.data_removal_policy, site_url=self.site.url if self.site else None)
        self.api = ShortenerApi(self, "Api", config=config, links=self.links, user_pool=self.users.user_pool,
                                allowed_origins=cors_origins(config.allowed_origins, site=self.site))
        self.cdn = ShortenerDistribution(self, "Cdn", api=self.api.api,
                                         log_retention_days=config.observability.log_retention_days)
        if self.site is not None:
            self._publish_dashboard(self.site)
        self.api_alarms = ApiAlarms(self, "ApiAlarms", alarms=self.alarm_topic,
                                    stage=self.api.api.deployment_stage,
                                    table_name=self.links.table.table_name,
                                    latency_threshold_ms=config.latency_alarm_ms)
        self.edge_alarms: EdgeAlarms | None = None
        if cdk.Token.is_unresolved(self.region) or self.region == EDGE_REGION:
            self.edge_alarms = EdgeAlarms(self, "EdgeAlarms", alarms=self.alarm_topic,
                                          distribution_id=self.cdn.distribution.distribution_id)
        if cdk.Token.is_unresolved(self.region):
            # An environment-agnostic template carries the CloudFront alarms, whose metrics
            # exist only in us-east-1: refuse to deploy it anywhere else rather than alarm on nothing.
            cdk.CfnRule(self, "CloudFrontAlarmsNeedUsEast1", assertions=[cdk.CfnRuleAssertion(
                assert_=cdk.Fn.condition_equals(cdk.Aws.REGION, EDGE_REGION),
                assert_description="This environment-agnostic template only deploys to us-east-1, where "
                                   "CloudFront metrics live. To deploy elsewhere, pin the region "
                                   "(cdk deploy -c region=<region>) and the app adds the "
                                   "UrlShortenerEdgeMonitoring stack in us-east-1.")])

        cdk.CfnOutput(self, "ApiUrl", value=self.api.api.url, description="API Gateway stage URL")
        cdk.CfnOutput(self, "CloudFrontUrl", value=self.cdn.url, description="Short links are served from here")
        cdk.CfnOutput(self, "UserPoolId", value=self.users.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.users.client.user_pool_client_id)
        cdk.CfnOutput(self, "HostedDomain", value=self.users.hosted_domain_url,
                      description="Cognito hosted sign-in domain")
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic.topic_arn)
        if self.site is not None:
            cdk.CfnOutput(self, "WebUrl", value=self.site.url,
                          description="The dashboard: sign in and manage your links")

    def _publish_dashboard(self, site: StaticSite) -> None:
        site.publish(
            runtime_config=shortener_config(
                auth=sign_in_config(authority=self.users.issuer_url, client_id=self.users.client.user_pool_client_id,
                                    site_url=site.url,
                                    revocation_endpoint=cognito_revocation_endpoint(self.users.hosted_domain_url)),
                api_url=self.api.api.url, short_link_base=self.cdn.url),
            connect_sources=[execute_api_origin(self.api.api.rest_api_id),
                             *cognito_sign_in_sources(self.users.hosted_domain_url)])


class UrlShortenerEdgeMonitoringStack(cdk.Stack):
    """CloudFront alarms in us-east-1 for a UrlShortener stack pinned to another region."""

    def __init__(self, scope: Construct, id_: str, *, shortener: UrlShortenerStack, config: UrlShortenerConfig,
                 **kwargs) -> None:
        super().__init__(scope, id_, description="CloudFront alarms of the URL shortener (us-east-1)", **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.edge_alarms = EdgeAlarms(self, "EdgeAlarms", alarms=self.alarm_topic,
                                      distribution_id=shortener.cdn.distribution.distribution_id)
