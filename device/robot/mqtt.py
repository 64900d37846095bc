"""The MQTT 5 link, on the AWS IoT Device SDK v2 (``awsiotsdk``, built on ``awscrt``).

One set of client options for every connection; only the transport differs:

* production: :func:`awsiot.mqtt5_client_builder.mtls_from_path` - mutual TLS with the
  thing's certificate to the account's ATS data endpoint (port 8883, or 443 with ALPN);
* development and tests (``broker.tls: false`` in config.json): the same options handed
  to :class:`awscrt.mqtt5.Client` without a TLS context - a plaintext connection to a
  local broker such as mosquitto.

Client id = thing name (the IoT policy allows no other), clean sessions (a command queued
while the robot was away must not drive it when it comes back), and the subscription is
made again on every connection. The subscription asks the broker not to send retained
messages (retain handling 2, "do not send"): a command retained on the topic would
otherwise drive the robot the moment it connects. Each message is handed on with its
retain flag, and the controller refuses any that still carries it. The link reports
"connected" to the application only once the subscription is granted, so the robot never
looks ready without hearing commands.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from .config import BrokerSettings

log = logging.getLogger(__name__)

KEEP_ALIVE_S = 30
MIN_RECONNECT_MS = 1_000
MAX_RECONNECT_MS = 30_000
# awscrt.mqtt5.RetainHandlingType member for the action subscription (a name: awscrt loads lazily).
ACTION_RETAIN_HANDLING = "DONT_SEND"


class MqttLink:
    def __init__(self, *, settings: BrokerSettings, client_id: str, subscribe_topic: str,
                 on_message: Callable[[str, bytes, bool], None], on_connection: Callable[[bool], None]) -> None:
        from awscrt import mqtt5

        self._mqtt5 = mqtt5
        self._settings = settings
        self._subscribe_topic = subscribe_topic
        self._on_message = on_message
        self._on_connection = on_connection
        self.subscribed = threading.Event()
        self.stopped = threading.Event()
        self._started = False
        options = mqtt5.ClientOptions(
            host_name=settings.host,
            port=settings.port,
            connect_options=mqtt5.ConnectPacket(client_id=client_id, keep_alive_interval_sec=KEEP_ALIVE_S),
            session_behavior=mqtt5.ClientSessionBehaviorType.CLEAN,
            extended_validation_and_flow_control_options=(
                mqtt5.ExtendedValidationAndFlowControlOptions.AWS_IOT_CORE_DEFAULTS),
            offline_queue_behavior=mqtt5.ClientOperationQueueBehaviorType.FAIL_ALL_ON_DISCONNECT,
            min_reconnect_delay_ms=MIN_RECONNECT_MS,
            max_reconnect_delay_ms=MAX_RECONNECT_MS,
            on_publish_callback_fn=self._received,
            on_lifecycle_event_connection_success_fn=self._connected,
            on_lifecycle_event_connection_failure_fn=self._connection_failed,
            on_lifecycle_event_disconnection_fn=self._disconnected,
            on_lifecycle_event_stopped_fn=self._stopped,
        )
        if settings.tls is not None:
            from awsiot import mqtt5_client_builder

            self.client = mqtt5_client_builder.mtls_from_path(
                cert_filepath=str(settings.tls.certificate),
                pri_key_filepath=str(settings.tls.private_key),
                ca_filepath=str(settings.tls.root_ca) if settings.tls.root_ca else None,
                endpoint=settings.host,
                client_options=options,
            )
        else:
            log.warning("MQTT without TLS to %s:%d - for a local development broker only",
                        settings.host, settings.port)
            self.client = mqtt5.Client(options)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        log.info("connecting to %s:%d", self._settings.host, self._settings.port)
        self.client.start()
        self._started = True

    def stop(self, timeout: float = 5.0) -> None:
        if not self._started:
            return  # a client that never started reports no "stopped" to wait for
        self.client.stop(self._mqtt5.DisconnectPacket())
        if not self.stopped.wait(timeout):
            log.warning("MQTT client did not report stopped within %.1f s", timeout)

    # --- operations -----------------------------------------------------------------------
    def publish(self, topic: str, message: dict[str, Any], qos: int = 1) -> Any:
        """Publish JSON; returns the SDK's future (resolved at PUBACK for QoS 1)."""
        future = self.client.publish(self._mqtt5.PublishPacket(
            topic=topic, payload=json.dumps(message, separators=(",", ":")).encode("utf-8"),
            qos=self._mqtt5.QoS(qos), content_type="application/json"))
        future.add_done_callback(lambda done: self._log_failure(done, f"publish to {topic}"))
        return future

    @staticmethod
    def _log_failure(future: Any, what: str) -> None:
        error = future.exception()
        if error is not None:
            log.warning("%s failed: %s", what, error)

    # --- SDK callbacks (CRT event-loop threads: hand over, never block) --------------------
    def _received(self, data: Any) -> None:
        packet = data.publish_packet
        payload = packet.payload if isinstance(packet.payload, bytes) else bytes(packet.payload or b"")
        self._on_message(packet.topic, payload, bool(packet.retain))

    def _connected(self, data: Any) -> None:
        log.info("connected; subscribing to %s", self._subscribe_topic)
        future = self.client.subscribe(self._mqtt5.SubscribePacket(subscriptions=[self._mqtt5.Subscription(
            topic_filter=self._subscribe_topic, qos=self._mqtt5.QoS.AT_LEAST_ONCE,
            retain_handling_type=getattr(self._mqtt5.RetainHandlingType, ACTION_RETAIN_HANDLING))]))
        future.add_done_callback(self._subscribe_done)

    def _subscribe_done(self, future: Any) -> None:
        error = future.exception()
        if error is not None:
            log.error("subscribe to %s failed: %s", self._subscribe_topic, error)
            return
        codes = future.result().reason_codes or []
        if any(int(code) >= 128 for code in codes):
            log.error("subscribe to %s refused by the broker: %s (check the IoT policy)",
                      self._subscribe_topic, [getattr(c, "name", c) for c in codes])
            return
        log.info("subscribed to %s", self._subscribe_topic)
        self.subscribed.set()
        self._on_connection(True)

    def _connection_failed(self, data: Any) -> None:
        log.warning("connection attempt failed: %s", getattr(data, "exception", None))

    def _disconnected(self, data: Any) -> None:
        log.warning("disconnected: %s", getattr(data, "exception", None))
        self.subscribed.clear()
        self._on_connection(False)

    def _stopped(self, data: Any) -> None:
        self.subscribed.clear()
        self.stopped.set()
