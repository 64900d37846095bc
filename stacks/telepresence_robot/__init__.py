"""Telepresence robot: one stack per robot (AWS IoT Core, Kinesis Video Streams WebRTC, drive API)."""
