"""The askAroundMe context block: defaults, and a ConfigError naming the key for every bad value."""
from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.ask_around_me.config import AskAroundMeConfig, login_provider_name
from stacks.common.config import ConfigError
from tests.conftest import project_context

COGNITO_ONLY_KEYS = ("callbackUrls", "logoutUrls", "requireMfa", "cognitoFeaturePlan")
EXTERNAL = {"identityProvider": "external", "jwtIssuer": "https://example.eu.auth0.com/",
            "jwtAudience": ["https://api.example.com"]}


def _load(block: dict[str, Any] | None) -> AskAroundMeConfig:
    context = {} if block is None else {"askAroundMe": block}
    return AskAroundMeConfig.from_context(cdk.App(context=context).node)


def _project_block(**changes: Any) -> dict[str, Any]:
    return {**project_context()["askAroundMe"], **changes}


def _external_block(**changes: Any) -> dict[str, Any]:
    block = {k: v for k, v in project_context()["askAroundMe"].items() if k not in COGNITO_ONLY_KEYS}
    return {**block, **EXTERNAL, **changes}


def _rejects(block: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"askAroundMe.{key}")):
        _load(block)


def test_defaults_load_without_any_context():
    config = _load(None)
    assert config.identity_provider == "cognito"
    assert config.jwt_issuer is None and config.jwt_audience == ()
    assert config.users is not None
    assert config.allowed_origins == ("http://localhost:8080",)
    assert config.topic_prefix == "askaroundme"
    assert config.question_open_hours == 24
    assert (config.throttle_rate_limit, config.throttle_burst_limit) == (100, 200)
    assert (config.post_rate_limit, config.post_burst_limit) == (20, 50)
    assert config.data_removal_policy == cdk.RemovalPolicy.RETAIN
    assert config.observability.log_retention_days == 90
    assert config.observability.alarm_email is None


def test_the_project_context_loads_as_written_in_cdk_json():
    block = project_context()["askAroundMe"]
    config = _load(block)
    assert config.identity_provider == block["identityProvider"]
    assert config.allowed_origins == tuple(block["allowedOrigins"])
    assert config.users is not None and config.users.require_mfa is block["requireMfa"]
    assert config.post_rate_limit == block["postRateLimit"]


def test_an_external_provider_loads_with_issuer_and_audience_and_no_user_pool():
    config = _load(_external_block(dataRemovalPolicy="destroy"))
    assert config.identity_provider == "external"
    assert config.jwt_issuer == EXTERNAL["jwtIssuer"]
    assert config.jwt_audience == tuple(EXTERNAL["jwtAudience"])
    assert config.users is None
    assert config.data_removal_policy == cdk.RemovalPolicy.DESTROY


def test_an_unknown_identity_provider_is_rejected():
    _rejects(_project_block(identityProvider="okta"), "identityProvider")


@pytest.mark.parametrize("missing", ["jwtIssuer", "jwtAudience"])
def test_an_external_provider_needs_issuer_and_audience(missing):
    block = _external_block()
    del block[missing]
    _rejects(block, missing)


def test_an_external_provider_with_an_empty_audience_is_rejected():
    _rejects(_external_block(jwtAudience=[]), "jwtAudience")


@pytest.mark.parametrize("key, value", [("jwtIssuer", "https://example.eu.auth0.com/"),
                                        ("jwtAudience", ["https://api.example.com"])])
def test_cognito_mode_refuses_an_issuer_or_audience_of_its_own(key, value):
    _rejects(_project_block(**{key: value}), key)


@pytest.mark.parametrize("issuer", ["http://example.eu.auth0.com/", "example.eu.auth0.com", ""])
def test_the_issuer_must_be_an_https_url(issuer):
    _rejects(_external_block(jwtIssuer=issuer), "jwtIssuer")


@pytest.mark.parametrize("prefix", ["ask/around", "ask#", "askaround+", "AskAroundMe", "1ask", "a" * 33])
def test_the_topic_prefix_must_be_one_lowercase_mqtt_level(prefix):
    _rejects(_project_block(topicPrefix=prefix), "topicPrefix")


@pytest.mark.parametrize("hours", [0, -1, 24 * 30 + 1, "24", True])
def test_question_open_hours_must_be_a_whole_number_of_hours_up_to_thirty_days(hours):
    _rejects(_project_block(questionOpenHours=hours), "questionOpenHours")


@pytest.mark.parametrize("key, value", [
    ("throttleRateLimit", 0), ("throttleRateLimit", 10001),
    ("throttleBurstLimit", 0), ("throttleBurstLimit", 5001),
    ("postRateLimit", 0), ("postRateLimit", 10001),
    ("postBurstLimit", 0), ("postBurstLimit", 5001),
    ("postRateLimit", 1.5),
])
def test_throttle_limits_out_of_range_are_rejected(key, value):
    _rejects(_project_block(**{key: value}), key)


@pytest.mark.parametrize("policy", ["snapshot", "RETAIN", ""])
def test_data_removal_policy_is_retain_or_destroy(policy):
    _rejects(_project_block(dataRemovalPolicy=policy), "dataRemovalPolicy")


def test_an_unknown_key_is_rejected_by_name():
    _rejects(_project_block(topicPrefx="askaroundme"), "topicPrefx")


@pytest.mark.parametrize("key", COGNITO_ONLY_KEYS)
def test_user_pool_settings_are_unknown_keys_with_an_external_provider(key):
    _rejects({**_external_block(), key: project_context()["askAroundMe"][key]}, key)


@pytest.mark.parametrize("origins", [[], "http://localhost:8080", ["localhost:8080"],
                                     ["https://app.example.com/path"]])
def test_allowed_origins_must_be_a_non_empty_list_of_origins(origins):
    _rejects(_project_block(allowedOrigins=origins), "allowedOrigins")


def test_every_error_names_the_full_key():
    with pytest.raises(ConfigError, match=r"^askAroundMe\.questionOpenHours "):
        _load(_project_block(questionOpenHours=0))


@pytest.mark.parametrize("key, stage_key", [("postRateLimit", "throttleRateLimit"),
                                            ("postBurstLimit", "throttleBurstLimit")])
def test_writing_routes_may_not_be_throttled_above_the_stage_default(key, stage_key):
    with pytest.raises(ConfigError, match=f"askAroundMe.{key}"):
        AskAroundMeConfig.from_context(cdk.App(context={"askAroundMe": {stage_key: 10, key: 11}}).node)


# -- an existing IAM OIDC provider, and the names AWS gives the issuer ---------------------------

PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/example.eu.auth0.com/"


def test_an_external_provider_may_name_an_existing_iam_oidc_provider():
    assert _load(_external_block(oidcProviderArn=PROVIDER_ARN)).oidc_provider_arn == PROVIDER_ARN


def test_without_a_provider_arn_the_stack_registers_the_issuer_itself():
    assert _load(_external_block()).oidc_provider_arn is None


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:oidc-provider/example.eu.auth0.com",  # registered without the slash
    "arn:aws-cn:iam::123456789012:oidc-provider/example.eu.auth0.com/",
    "arn:aws-us-gov:iam::123456789012:oidc-provider/example.eu.auth0.com/",
], ids=["without-trailing-slash", "china-partition", "govcloud-partition"])
def test_a_provider_arn_of_the_issuer_in_any_partition_with_or_without_its_trailing_slash_loads(arn):
    assert _load(_external_block(oidcProviderArn=arn)).oidc_provider_arn == arn


@pytest.mark.parametrize("arn", [
    "example.eu.auth0.com",
    "https://example.eu.auth0.com/",
    "arn:aws:iam::123456789012:oidc-provider/",
    "arn:aws:iam::12345:oidc-provider/example.eu.auth0.com/",
    "arn:aws:iam::123456789012:role/example.eu.auth0.com/",
    "arn:aws:iam::123456789012:saml-provider/example.eu.auth0.com/",
    "arn:aws:iam::123456789012:oidc-provider/example.eu.auth0.com/?x=1",
    "arn:aws:iam:eu-west-1:123456789012:oidc-provider/example.eu.auth0.com/",
    42,
], ids=["bare-host", "issuer-url", "no-url", "short-account", "role", "saml-provider", "query", "regional",
        "number"])
def test_the_provider_arn_must_be_an_iam_oidc_provider_arn(arn):
    _rejects(_external_block(oidcProviderArn=arn), "oidcProviderArn")


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:oidc-provider/other.eu.auth0.com/",
    "arn:aws:iam::123456789012:oidc-provider/example.eu.auth0.com/api/",
    "arn:aws:iam::123456789012:oidc-provider/EXAMPLE.eu.auth0.com/",
], ids=["other-tenant", "other-path", "other-case"])
def test_the_provider_arn_must_name_the_provider_of_the_configured_issuer(arn):
    with pytest.raises(ConfigError, match=r"askAroundMe\.oidcProviderArn must name the IAM OIDC provider of "
                                          r"jwtIssuer \(example\.eu\.auth0\.com\)"):
        _load(_external_block(oidcProviderArn=arn))


def test_a_provider_arn_is_refused_with_the_stacks_own_user_pool():
    _rejects(_project_block(oidcProviderArn=PROVIDER_ARN), "oidcProviderArn")


@pytest.mark.parametrize("issuer, name", [
    ("https://tenant.auth0.com/", "tenant.auth0.com"),
    ("https://tenant.auth0.com", "tenant.auth0.com"),
    ("https://login.example.com/tenant/v2.0/", "login.example.com/tenant/v2.0"),
    ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"),
], ids=["auth0-with-slash", "auth0-without-slash", "path-with-slash", "cognito-user-pool"])
def test_the_identity_pool_login_of_an_issuer_is_its_url_without_scheme_and_trailing_slash(issuer, name):
    assert login_provider_name(issuer) == name


def test_an_issuer_that_is_not_https_has_no_login_provider_name():
    with pytest.raises(ValueError, match="not an https issuer URL"):
        login_provider_name("http://tenant.auth0.com/")
