"""``python -m local.services <system> --settings JSON``: one stack's API (started by ``python -m local``)."""
from __future__ import annotations

import argparse
import logging
import sys

from local.services import ask_around_me, mars_weather, telepresence_robot, url_shortener
from local.settings import Settings

SYSTEMS = {"shortener": url_shortener, "askaroundme": ask_around_me, "robot": telepresence_robot,
           "mars": mars_weather}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.services")
    parser.add_argument("system", choices=sorted(SYSTEMS))
    parser.add_argument("--settings", required=True, help="the Settings of python -m local, as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"[{args.system}] %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    SYSTEMS[args.system].start(Settings.from_json(args.settings)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
