"""AskAroundMe: location-based questions and answers with real-time updates."""
from __future__ import annotations

from urllib.parse import urlsplit

import aws_cdk as cdk
from constructs import Construct

from stacks.ask_around_me.api import POST, AskAroundMeApi, JwtIssuer
from stacks.ask_around_me.config import AskAroundMeConfig, login_provider_name
from stacks.ask_around_me.processing import QuestionProcessing, QuestionQueues
from stacks.ask_around_me.realtime import RealtimeAccess
from stacks.ask_around_me.storage import AskAroundMeTables
from stacks.common.alarms import AlarmTopic
from stacks.common.static_site import (
    StaticSite,
    cognito_sign_in_sources,
    cors_origins,
    execute_api_origin,
    regional_endpoint,
)
from stacks.common.users import WebUsers
from stacks.common.web_config import ask_around_me_config, cognito_revocation_endpoint, sign_in_config

# The HTTP API's origin cannot be named in its web client's CSP: the API's CORS configuration
# names the site's distribution, which names its headers policy, so the policy naming the API
# would be a dependency cycle. The CSP allows API Gateway endpoints of the stack's region.
REGIONAL_API_ENDPOINTS = execute_api_origin("*")


def issuer_origin(issuer_url: str) -> str:
    parts = urlsplit(issuer_url)
    return f"{parts.scheme}://{parts.netloc}"


class AskAroundMeStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: AskAroundMeConfig, **kwargs) -> None:
        super().__init__(scope, id_, description="Ask Around Me: HTTP API, queues, streams, IoT fan-out", **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.tables = AskAroundMeTables(self, "Tables", removal_policy=config.data_removal_policy)
        self.queues = QuestionQueues(self, "Queues", alarms=self.alarm_topic)

        self.site = StaticSite(self, "Web", client="askaroundme", title="Ask Around Me",
                               log_retention_days=config.observability.log_retention_days,
                               browser_features=("geolocation",)) if config.web_client else None
        self.users: WebUsers | None = None
        if config.users is not None:
            self.users = WebUsers(self, "Users", settings=config.users, domain_label="askaroundme",
                                  removal_policy=config.data_removal_policy,
                                  site_url=self.site.url if self.site else None)
            issuer = JwtIssuer(url=self.users.issuer_url, audience=(self.users.client.user_pool_client_id,),
                               login_provider=self.users.user_pool.user_pool_provider_name)
        else:
            issuer = JwtIssuer(url=config.jwt_issuer, audience=config.jwt_audience,
                               login_provider=login_provider_name(config.jwt_issuer))

        self.realtime = RealtimeAccess(
            self, "Realtime", config=config, issuer=issuer,
            user_pool=self.users.user_pool if self.users else None,
            user_pool_client=self.users.client if self.users else None)
        self.api = AskAroundMeApi(self, "Api", config=config, issuer=issuer, tables=self.tables,
                                  queues=self.queues,
                                  allowed_origins=cors_origins(config.allowed_origins, site=self.site))
        self.api.route("/realtime/session", POST, self.realtime.connect)
        self.processing = QuestionProcessing(
            self, "Processing", config=config, tables=self.tables, queues=self.queues, alarms=self.alarm_topic,
            iot_data_endpoint=self.realtime.endpoint.address)
        self._alarms()
        if self.site is not None:
            self._publish_web_client(self.site, config, issuer)

        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API")
        cdk.CfnOutput(self, "JwtIssuer", value=issuer.url)
        cdk.CfnOutput(self, "IotDataEndpoint", value=self.realtime.endpoint.address,
                      description="ATS endpoint for MQTT over WebSocket (wss://<endpoint>/mqtt)")
        cdk.CfnOutput(self, "IdentityPoolId", value=self.realtime.identities.identity_pool_id)
        cdk.CfnOutput(self, "TopicPrefix", value=config.topic_prefix)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic.topic_arn)
        if self.users is not None:
            cdk.CfnOutput(self, "UserPoolId", value=self.users.user_pool.user_pool_id)
            cdk.CfnOutput(self, "UserPoolClientId", value=self.users.client.user_pool_client_id)
            cdk.CfnOutput(self, "HostedDomain", value=self.users.hosted_domain_url)
        if self.site is not None:
            cdk.CfnOutput(self, "WebUrl", value=self.site.url,
                          description="The web client: questions and answers around you")

    def _publish_web_client(self, site: StaticSite, config: AskAroundMeConfig, issuer: JwtIssuer) -> None:
        iot_endpoint = self.realtime.endpoint.address
        # With an external identity provider, the browser talks to the issuer's origin (discovery,
        # keys, token endpoint); its callback URLs are registered there, not by this stack.
        sign_in = (cognito_sign_in_sources(self.users.hosted_domain_url) if self.users is not None
                   else [issuer_origin(issuer.url)])
        site.publish(
            runtime_config=ask_around_me_config(
                auth=sign_in_config(
                    authority=issuer.url, client_id=issuer.audience[0], site_url=site.url,
                    revocation_endpoint=cognito_revocation_endpoint(self.users.hosted_domain_url)
                    if self.users is not None else None),
                api_url=self.api.url, region=cdk.Aws.REGION,
                identity_pool_id=self.realtime.identities.identity_pool_id,
                realtime_mode="iot", realtime_url=f"wss://{iot_endpoint}/mqtt",
                tiles_url=config.tiles.url, tiles_attribution=config.tiles.attribution),
            connect_sources=[REGIONAL_API_ENDPOINTS, *sign_in, regional_endpoint("cognito-identity"),
                             f"wss://{iot_endpoint}"],
            image_sources=[config.tiles.origin])

    def _alarms(self) -> None:
        one_minute = cdk.Duration.minutes(1)
        for function in (*self.processing.consumers, self.api.post_question, self.api.post_answer,
                         self.api.list_questions, self.api.get_answers, self.api.get_heatmap,
                         self.api.delete_answer, self.realtime.connect, self.realtime.detach):
            self.alarm_topic.alarm(
                function, "ErrorsAlarm", threshold=0,
                metric=function.function.metric_errors(period=one_minute),
                description=f"{function.node.path} failed (handled errors are 4xx or partial batch failures)")
        self.alarm_topic.alarm(
            self, "Api5xx", threshold=0,
            metric=self.api.stage.metric_server_error(period=one_minute, statistic="Sum"),
            description="The Ask Around Me API answered 5xx")
        for source, queue in (("Answers", self.processing.aggregate_answers),
                              ("Questions", self.processing.publish_updates)):
            self.alarm_topic.alarm(
                queue, "IteratorAgeAlarm", threshold=cdk.Duration.minutes(5).to_milliseconds(),
                metric=queue.function.metric("IteratorAge", period=one_minute, statistic="Maximum"),
                description=f"The {source} stream consumer is falling behind (oldest record over 5 minutes)")
