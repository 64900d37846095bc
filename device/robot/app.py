"""Wiring: config -> motor driver, camera supervisor, control loop and MQTT link."""

from __future__ import annotations

import logging
import threading
from typing import Any

from .camera import CameraSupervisor, DisabledCamera, camera_command, camera_environment
from .config import RobotConfig
from .controller import Controller
from .motors import MotorDriver, create_driver
from .mqtt import MqttLink

log = logging.getLogger(__name__)

FINAL_TELEMETRY_TIMEOUT_S = 2.0
CONTROL_LOOP_STOP_TIMEOUT_S = 5.0


def _camera(config: RobotConfig) -> CameraSupervisor | DisabledCamera:
    camera = config.camera
    if not camera.enabled:
        return DisabledCamera()
    return CameraSupervisor(
        command=camera_command(config), env=camera_environment(config),
        restart_delay_s=camera.restart_delay_s, max_restart_delay_s=camera.max_restart_delay_s,
        stable_after_s=camera.stable_after_s, stop_timeout_s=camera.stop_timeout_s)


class RobotApp:
    def __init__(self, *, config: RobotConfig, driver: MotorDriver | None = None) -> None:
        self.config = config
        self.driver = driver or create_driver(config.motors)
        self.camera = _camera(config)
        self.controller = Controller(
            driver=self.driver, motors=config.motors, thing_name=config.thing_name,
            action_topic=config.action_topic, telemetry_interval_s=config.telemetry_interval_s,
            publish_telemetry=self._publish_telemetry, camera_status=self.camera.status)
        self.link = MqttLink(settings=config.broker, client_id=config.thing_name,
                             subscribe_topic=config.action_topic, on_message=self.controller.on_message,
                             on_connection=self.controller.on_connection)
        self._control_thread = threading.Thread(target=self.controller.run, name="robot-control", daemon=True)
        self._stopped = False

    def _publish_telemetry(self, report: dict[str, Any]) -> Any:
        return self.link.publish(self.config.telemetry_topic, report)

    @property
    def healthy(self) -> bool:
        """False if the control loop ended without being asked to (the service should restart)."""
        return self._stopped or not self.controller.finished.is_set()

    def start(self) -> None:
        log.info("starting robot %s (motor driver %s)", self.config.thing_name, self.driver.name)
        self.driver.stop()  # a known state, whatever the last run left behind
        self._control_thread.start()
        self.camera.start()
        self.link.start()

    def stop(self) -> None:
        """Motors first, then the last telemetry report, the connection and the camera.

        Safe after a partial start: :meth:`start` may have failed at any step.
        """
        if self._stopped:
            return
        self._stopped = True
        log.info("stopping")
        if self._control_thread.is_alive():
            self.controller.shutdown()
            self._control_thread.join(CONTROL_LOOP_STOP_TIMEOUT_S)
        self._report_final_telemetry()
        self.link.stop()
        self.camera.stop()
        try:
            # Also stops the motors when the control loop could not (it died, or hangs in the driver).
            self.driver.close()
        except Exception:
            log.exception("motor driver close failed")
        log.info("stopped")

    def _report_final_telemetry(self) -> None:
        final = self.controller.final_telemetry
        if final is None:
            return
        try:
            final.result(FINAL_TELEMETRY_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - best effort on the way out
            log.warning("last telemetry report not confirmed: %s", error)
