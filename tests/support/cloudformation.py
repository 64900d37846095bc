"""A stand-in for CloudFormation's presigned ResponseURL, for the suite's custom resource functions
(suite_lib.cloudformation): an HTTP server on loopback recording the answers PUT to it."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


class CloudFormationStandIn:
    """Records the PUTs sent to ``url``; answers 500 to the first ``failures`` of them, as a
    broken network or S3 would."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures = 0
        stand_in = self

        class Recorder(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                failing, stand_in.failures = stand_in.failures > 0, stand_in.failures - 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presigned/response?X-Amz-Signature=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def answers(self) -> list[dict[str, Any]]:
        return [json.loads(request["body"]) for request in self.requests]


@contextmanager
def cloudformation_stand_in() -> Iterator[CloudFormationStandIn]:
    """A running stand-in, shut down afterwards."""
    stand_in = CloudFormationStandIn()
    stand_in.thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()
