"""Command line: ``python -m device.robot run|provision``.

Exit codes: 0 success (``run``: a clean stop), 1 failure, 2 bad configuration or arguments
(systemd does not restart the robot on 2: restarting cannot fix it).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Sequence

from .config import DRIVERS, ConfigError, load_config

log = logging.getLogger("device.robot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m device.robot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the robot (on the Raspberry Pi)")
    run.add_argument("--config", required=True, help="path to config.json")
    provision = commands.add_parser("provision", help="create the robot's certificate and config.json "
                                                      "from the deployed stack (on your computer)")
    provision.add_argument("--stack", required=True,
                           help="CloudFormation stack of the robot: TelepresenceRobot-<robotName>")
    provision.add_argument("--out", required=True, help="directory for certificate.pem, private.key, config.json")
    provision.add_argument("--region", help="AWS region of the stack (default: your AWS configuration's)")
    provision.add_argument("--profile", help="AWS profile to use")
    provision.add_argument("--driver", default="explorerhat", choices=DRIVERS,
                           help="motor driver written to config.json (default: explorerhat)")
    provision.add_argument("--force", action="store_true", help="replace files already in --out")
    return parser


def run(config_path: str) -> int:
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(config.log_level)

    from .app import RobotApp

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        app = RobotApp(config=config)
    except Exception:
        log.exception("could not set up the robot")
        return 1
    exit_code = 0
    try:
        app.start()
        while not stop.wait(0.5):
            if not app.healthy:
                log.error("control loop ended unexpectedly")
                exit_code = 1
                break
    except Exception:
        log.exception("could not start")
        exit_code = 1
    finally:
        app.stop()  # also after a partial start: the camera may already run
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "run":
        return run(args.config)
    from .provision import ProvisioningError
    from .provision import main as provision_main

    try:
        return provision_main(args.stack, args.out, region=args.region, profile=args.profile, driver=args.driver,
                              force=args.force)
    except ProvisioningError as error:
        print(f"provisioning failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
