#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy <StackName>` run this."""
import aws_cdk as cdk

from stacks.suite import build_suite

app = cdk.App()
build_suite(app)
app.synth()
