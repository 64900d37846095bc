"""AWS IoT Core's data plane, locally: iot-data ``Publish`` delivered to the local MQTT broker.

:func:`publish_hook` is a botocore ``before-send`` handler for ``iot-data`` ``Publish``: it
reads the request the SDK serialised (topic in the path; ``qos``, ``retain``,
``messageExpiry``, ``contentType``, ``responseTopic`` in the query; the ``x-amz-mqtt5-*``
headers; the payload as body), checks it as IoT Core does, publishes it with MQTT 5 (the
message expiry and content type become the message's properties) and answers the SDK as the
service would: 200, or an error the SDK raises as ``ClientError`` (a broker that cannot be
reached is 503, which the SDK retries). The handlers' code does not change.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import threading
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as paho
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger("local.iot")

MAX_PAYLOAD_BYTES = 128 * 1024  # IoT Core's message size limit
MAX_TOPIC_BYTES = 256
PUBLISH_TIMEOUT_SECONDS = 5.0
# A broker that is down answers at once (the SDK retries), not after the function's timeout.
CONNECT_WAIT_SECONDS = 1.0


class _Body(io.BytesIO):
    """The raw response body botocore reads (``stream()``)."""

    def stream(self, **_: Any):
        yield self.getvalue()


class BrokerPublisher:
    """One MQTT 5 connection to the local broker, reconnected by paho's network thread."""

    def __init__(self, host: str, port: int, *, client_id: str | None = None) -> None:
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                                   client_id=client_id or f"local-iot-{uuid.uuid4().hex[:8]}")
        self._connected = threading.Event()
        self._client.on_connect = lambda *args: self._connected.set()
        self._client.on_disconnect = lambda *args: self._connected.clear()
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, topic: str, payload: bytes, *, qos: int, retain: bool, properties: Properties) -> str | None:
        """Publish; None when the broker has it (QoS 1: acknowledged), else why not."""
        if not self._connected.wait(CONNECT_WAIT_SECONDS):
            return "the local MQTT broker is not connected"
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return f"the local MQTT broker refused the message ({paho.error_string(info.rc)})"
        try:
            info.wait_for_publish(PUBLISH_TIMEOUT_SECONDS)
        except RuntimeError as error:
            return f"the local MQTT broker did not take the message: {error}"
        return None if info.is_published() else "the local MQTT broker did not acknowledge the message in time"

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _answer(request: AWSPreparedRequest, status: int, error: str | None = None, message: str = "") -> AWSResponse:
    headers = {"content-type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    if error:
        headers["x-amzn-ErrorType"] = error
    body = json.dumps({"message": message}).encode() if error else b"{}"
    return AWSResponse(request.url, status, headers, _Body(body))


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    data = body.read()
    if hasattr(body, "seek"):
        body.seek(0)
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


def publish_hook(publisher: BrokerPublisher) -> Callable[..., AWSResponse]:
    """The ``before-send.iot-data-plane.Publish`` handler."""

    def publish(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        parts = urlsplit(request.url)
        topic = unquote(parts.path.removeprefix("/topics/"))
        query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        payload = _body_bytes(request.body)
        if not topic or any(c in topic for c in "+#") or len(topic.encode("utf-8")) > MAX_TOPIC_BYTES:
            return _answer(request, 400, "InvalidRequestException",
                           f"topic {topic!r} is not a valid topic name (no wildcards, at most 256 bytes)")
        if topic.startswith("$"):
            return _answer(request, 403, "UnauthorizedException", f"topic {topic!r} is reserved")
        if len(payload) > MAX_PAYLOAD_BYTES:
            return _answer(request, 413, "RequestEntityTooLargeException", "the payload is larger than 128 KB")
        qos = int(query.get("qos", "0") or 0)
        if qos not in (0, 1):
            return _answer(request, 400, "InvalidRequestException", "qos must be 0 or 1")
        properties = Properties(PacketTypes.PUBLISH)
        if query.get("messageExpiry"):
            properties.MessageExpiryInterval = int(query["messageExpiry"])
        if query.get("contentType"):
            properties.ContentType = query["contentType"]
        if query.get("responseTopic"):
            properties.ResponseTopic = query["responseTopic"]
        headers = {name.lower(): value for name, value in request.headers.items()}
        if headers.get("x-amz-mqtt5-payload-format-indicator") == "UTF8_DATA":
            properties.PayloadFormatIndicator = 1
        if headers.get("x-amz-mqtt5-correlation-data"):
            properties.CorrelationData = base64.b64decode(headers["x-amz-mqtt5-correlation-data"])
        if headers.get("x-amz-mqtt5-user-properties"):
            pairs = json.loads(base64.b64decode(headers["x-amz-mqtt5-user-properties"]))
            properties.UserProperty = [(str(k), str(v)) for pair in pairs for k, v in pair.items()]
        problem = publisher.publish(topic, payload, qos=qos, retain=query.get("retain") == "true",
                                    properties=properties)
        if problem:
            log.warning("iot-data Publish to %s failed: %s", topic, problem)
            return _answer(request, 503, "ServiceUnavailableException", problem)
        log.debug("published %d bytes to %s", len(payload), topic)
        return _answer(request, 200)

    return publish
