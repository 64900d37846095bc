#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy <StackName>` run this."""
import sys

from stacks.common.config import ConfigError
from stacks.suite import build_suite, suite_app


def main() -> int:
    app = suite_app()
    try:
        build_suite(app)
    except ConfigError as error:  # one line naming the key, not a traceback
        print(f"Configuration error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
