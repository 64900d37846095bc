"""``python -m pdf_pipeline.worker --mode large|failsafe``: the container's entry point.

SIGTERM (ECS stopping the task: scale-in, deployment) and SIGINT set the stop event: the
loop returns the message in hand to its queue and exits 0 within a few seconds, inside
ECS's stop timeout.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from ..shared.aws import client
from ..shared.pdf_tools import pdf_tools
from .service import MODES, environ_settings, run_worker

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (main thread only, as Python's signal handlers run there)."""
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, lambda *_: stop.set())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pdf_pipeline.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    install_stop_signals(stop)
    run_worker(args.mode, environ_settings(), sqs=client("sqs"), s3=client("s3"), tools=pdf_tools(), stop=stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
