"""Where stacks deploy: environment-agnostic unless the user pins account or region."""
from __future__ import annotations

import os
from typing import Mapping

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import account_from, region_from


def deployment_environment(node: Node, environ: Mapping[str, str] = os.environ) -> cdk.Environment:
    """Context ``account``/``region`` first, then ``CDK_DEPLOY_ACCOUNT``/``CDK_DEPLOY_REGION``.

    ``CDK_DEFAULT_*`` (set by the CLI from whatever credentials happen to be around) is
    deliberately ignored, so the same commit synthesizes the same templates everywhere.
    """
    account = account_from(node.try_get_context("account"), "context key 'account'") or account_from(
        environ.get("CDK_DEPLOY_ACCOUNT"), "environment variable CDK_DEPLOY_ACCOUNT")
    region = region_from(node.try_get_context("region"), "context key 'region'") or region_from(
        environ.get("CDK_DEPLOY_REGION"), "environment variable CDK_DEPLOY_REGION")
    return cdk.Environment(account=account, region=region)
