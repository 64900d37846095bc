"""MarsWeather: the backend a PyPortal polls for a Mars photo and the latest Martian weather."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.mars_weather.api import MarsApi
from stacks.mars_weather.backend import DisplayDataBackend
from stacks.mars_weather.config import MarsWeatherConfig

# Names the PyPortal installer reads (device/pyportal): keep them stable.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_API_KEY_ID = "ApiKeyId"


class MarsWeatherStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: MarsWeatherConfig, **kwargs) -> None:
        super().__init__(scope, id_, description="Mars weather display backend (REST API + Lambda)", **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.backend = DisplayDataBackend(self, "Backend", config=config)
        self.api = MarsApi(self, "Api", config=config, function=self.backend.function.function)
        function = self.backend.function.function
        one_minute = cdk.Duration.minutes(1)
        self.alarm_topic.alarm(
            self, "FunctionErrors", threshold=0, metric=function.metric_errors(period=one_minute),
            description="The display-data function failed (it should always answer 200 with what it has)")
        self.alarm_topic.alarm(
            self, "Api5xx", threshold=0,
            metric=self.api.api.deployment_stage.metric_server_error(period=one_minute, statistic="Sum"),
            description="GET /mars answered 5xx")
        cdk.CfnOutput(self, OUTPUT_API_URL, value=self.api.url, description="GET this URL with x-api-key")
        cdk.CfnOutput(self, OUTPUT_API_KEY_ID, value=self.api.api_key.key_id,
                      description="aws apigateway get-api-key --api-key <id> --include-value")
        cdk.CfnOutput(self, "NasaApiKeySecretArn", value=self.backend.nasa_api_key.secret_arn,
                      description="Put {\"api_key\": \"<your key>\"} here (DEMO_KEY until then)")
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic.topic_arn)
