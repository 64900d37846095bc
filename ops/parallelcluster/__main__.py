"""``python -m ops.parallelcluster starter-config --stack ParallelClusterApi [--region R] > cluster.yaml``."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ops.parallelcluster.starter_config import StarterConfigError, stack_outputs, starter_config
from stacks.parallelcluster_api.outputs import STACK_NAME


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.parallelcluster",
                                     description="Operator commands for the ParallelClusterApi stack")
    commands = parser.add_subparsers(dest="command", required=True)
    starter = commands.add_parser("starter-config", help="write a starter cluster configuration (YAML) to stdout, "
                                                         "from the stack's outputs")
    starter.add_argument("--stack", default=STACK_NAME, help=f"stack name (default {STACK_NAME})")
    starter.add_argument("--region", help="the stack's region (default: the AWS CLI's configured region)")
    args = parser.parse_args(argv)

    import boto3  # here, so --help works without the SDK configured

    session = boto3.session.Session(region_name=args.region)
    if not session.region_name:
        print("error: no region: pass --region or configure one for the AWS CLI", file=sys.stderr)
        return 2
    try:
        text = starter_config(stack_outputs(session.client("cloudformation"), args.stack), stack_name=args.stack,
                              region=session.region_name)
    except StarterConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
