"""The SDK edge of the local handlers: iot-data Publish answered by the MQTT adapter, explicit
AWS endpoints sent to moto; the handlers' own clients, unchanged, are what is exercised."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws import IOT_DATA_ENDPOINT, IOT_DATA_SERVICE_ID, redirect_aws_endpoints
from local.iot import publish_hook

MOTO_URL = "http://127.0.0.1:8410"


class Publisher:
    def __init__(self, problem: str | None = None) -> None:
        self.published: list[dict[str, Any]] = []
        self.problem = problem

    def publish(self, topic: str, payload: bytes, *, qos: int, retain: bool, properties: Any) -> str | None:
        if self.problem:
            return self.problem
        self.published.append({"topic": topic, "payload": payload, "qos": qos, "retain": retain,
                               "expiry": getattr(properties, "MessageExpiryInterval", None),
                               "content_type": getattr(properties, "ContentType", None)})
        return None


def iot_data(publisher: Publisher):
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="local",
                                    aws_secret_access_key="local")
    session.events.register(f"before-send.{IOT_DATA_SERVICE_ID}.Publish", publish_hook(publisher))
    return session.client("iot-data", endpoint_url=f"https://{IOT_DATA_ENDPOINT}",
                          config=Config(retries={"total_max_attempts": 1}))


def test_a_publish_reaches_the_broker_with_qos_expiry_and_content_type():
    publisher = Publisher()
    iot_data(publisher).publish(topic="robot1/action", qos=1, payload=b'{"action": "stop"}',
                                contentType="application/json", messageExpiry=5)
    assert publisher.published == [{"topic": "robot1/action", "payload": b'{"action": "stop"}', "qos": 1,
                                    "retain": False, "expiry": 5, "content_type": "application/json"}]


def test_a_topic_with_a_wildcard_is_refused_like_iot_core_and_nothing_is_published():
    publisher = Publisher()
    with pytest.raises(ClientError, match="InvalidRequestException"):
        iot_data(publisher).publish(topic="robot1/#", qos=1, payload=b"{}")
    assert publisher.published == []


def test_a_broker_that_is_down_is_a_service_error_the_handler_can_catch():
    with pytest.raises(ClientError, match="ServiceUnavailableException"):
        iot_data(Publisher(problem="the local MQTT broker is not connected")).publish(topic="t", qos=1, payload=b"{}")


def test_a_client_created_with_an_aws_endpoint_is_sent_to_moto():
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="local",
                                    aws_secret_access_key="local")
    session.events.register("before-endpoint-resolution", redirect_aws_endpoints(MOTO_URL))
    s3 = session.client("s3", endpoint_url="https://s3.us-east-1.amazonaws.com",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "images", "Key": "a.bmp"}, ExpiresIn=60)
    assert url.startswith(f"{MOTO_URL}/images/a.bmp?")


def test_a_client_with_another_endpoint_keeps_it():
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="local",
                                    aws_secret_access_key="local")
    session.events.register("before-endpoint-resolution", redirect_aws_endpoints(MOTO_URL))
    s3 = session.client("s3", endpoint_url="http://storage.internal:9000")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "images", "Key": "a.bmp"}, ExpiresIn=60)
    assert url.startswith("http://storage.internal:9000/")
