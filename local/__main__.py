"""``python -m local`` (``make local``): every API of the suite on loopback; see docs/local.md."""
from __future__ import annotations

import argparse
import logging
import sys

from local.settings import PORTS, Settings, SettingsError
from local.supervisor import run


def main(argv: list[str] | None = None) -> int:
    ports = ", ".join(f"{variable}={default}" for variable, default in PORTS.values())
    parser = argparse.ArgumentParser(
        prog="python -m local", description="Run the suite's APIs, sign-in, broker and web clients on loopback.",
        epilog=f"Ports (environment variables and defaults): {ports}. See docs/local.md.")
    parser.add_argument("--assembly", help="cloud assembly folder (default .cache/local/cdk.out, or LOCAL_ASSEMBLY)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[local] %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = Settings.from_environ(assembly=args.assembly)
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
