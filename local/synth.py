"""``python -m local.synth --outdir DIR --context JSON``: the suite synthesized for local use.

Run by :mod:`local.assembly` in a child process (the CDK's jsii runtime stays out of the
servers). The context is ``cdk.json``'s with the given ``-c`` style overrides; no account or
region is pinned and bundling is skipped (``aws:cdk:bundling-stacks``), so nothing leaves
the machine. cdk-nag runs as in every synth.
"""
from __future__ import annotations

import argparse
import json
import sys

from local.settings import project_context
from stacks.common.config import ConfigError
from stacks.suite import build_suite, suite_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.synth")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--context", default="{}", help="JSON object of context overrides")
    args = parser.parse_args(argv)
    context = {**project_context(), **json.loads(args.context), "aws:cdk:bundling-stacks": []}
    app = suite_app(context=context, outdir=args.outdir)
    try:
        build_suite(app, {})
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
