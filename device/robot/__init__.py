"""The telepresence robot's Raspberry Pi application.

``python -m device.robot run --config config.json`` drives the motors from
``<thing>/action`` over AWS IoT Core (MQTT 5, mutual TLS), publishes ``<thing>/telemetry``
and supervises the Kinesis Video Streams WebRTC master sample that streams the camera.
``python -m device.robot provision --stack <name> --out <dir>`` runs on your computer and
creates the robot's certificate and ``config.json`` from the deployed stack.

Modules: :mod:`.config` (config.json), :mod:`.commands` (the drive command rules),
:mod:`.motors` (drivers), :mod:`.controller` (commands, safety stops, telemetry),
:mod:`.mqtt` (the AWS IoT Device SDK v2 client), :mod:`.camera` (the streaming process),
:mod:`.app` (wiring), :mod:`.provision` (certificate and config from the stack).
"""
