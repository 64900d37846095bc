"""The shared config reader and deployment environment."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.common.config import LOG_RETENTION_DAYS, ConfigError, ContextBlock, log_retention
from stacks.common.environment import deployment_environment


def test_a_missing_required_value_names_its_key():
    with pytest.raises(ConfigError, match=r"^system\.apiUrl is required$"):
        ContextBlock("system", {}).https_url("apiUrl")


def test_a_context_block_that_is_not_an_object_is_refused():
    with pytest.raises(ConfigError, match=r"^system must be an object"):
        ContextBlock("system", ["not", "an", "object"])


def test_every_accepted_retention_maps_to_a_cdk_value():
    assert {log_retention(days) for days in LOG_RETENTION_DAYS}.__len__() == len(LOG_RETENTION_DAYS)


def test_stacks_are_environment_agnostic_by_default():
    env = deployment_environment(cdk.App().node, environ={"CDK_DEFAULT_ACCOUNT": "111111111111",
                                                         "CDK_DEFAULT_REGION": "eu-west-1"})
    assert env.account is None and env.region is None


def test_context_pins_the_environment_before_environment_variables():
    app = cdk.App(context={"region": "eu-central-1"})
    env = deployment_environment(app.node, environ={"CDK_DEPLOY_ACCOUNT": "123456789012",
                                                    "CDK_DEPLOY_REGION": "us-west-2"})
    assert (env.account, env.region) == ("123456789012", "eu-central-1")


@pytest.mark.parametrize("context, environ, key", [
    ({"account": "12345"}, {}, "context key 'account'"),
    ({"region": "mars-north-1x"}, {}, "context key 'region'"),
    ({}, {"CDK_DEPLOY_REGION": "nowhere"}, "CDK_DEPLOY_REGION"),
])
def test_a_bad_environment_names_its_source(context, environ, key):
    with pytest.raises(ConfigError, match=key):
        deployment_environment(cdk.App(context=context).node, environ=environ)
