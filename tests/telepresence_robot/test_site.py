"""The web client each TelepresenceRobot-<robot> stack hosts: runtime configuration, reach, sign-in."""
from __future__ import annotations

import pytest

from stacks.suite import telepresence_robot_stack
from tests.common.sites import hosted_site, runtime_config
from tests.support.templates import one, only, render, resources

ROBOT = "robot1"


@pytest.fixture(scope="module")
def template(suite) -> dict:
    return suite.template_json(telepresence_robot_stack(ROBOT))


@pytest.fixture(scope="module")
def site(template):
    return hosted_site(template)


def _data_endpoint(template: dict) -> str:
    [describe_id] = [logical_id for logical_id, r in template["Resources"].items()
                     if r["Type"] == "Custom::AWS" and "iot:Data-ATS" in str(r["Properties"]["Create"])]
    return f"<{describe_id}.endpointAddress>"


def test_the_web_client_is_configured_with_the_robots_pool_drive_api_channel_and_telemetry(site, template, suite):
    pool_id, _ = one(template, "AWS::Cognito::UserPool")
    client_id, _ = one(template, "AWS::Cognito::UserPoolClient")
    api_id, _ = one(template, "AWS::ApiGateway::RestApi")
    stage_id, _ = one(template, "AWS::ApiGateway::Stage")
    identity_pool_id, _ = one(template, "AWS::Cognito::IdentityPool")
    channel_id, _ = only(template, "AWS::KinesisVideo::SignalingChannel", Name=ROBOT)
    assert runtime_config(site, suite.outdir) == {
        "auth": {"authority": f"<{pool_id}.ProviderURL>", "clientId": f"<{client_id}>",
                 "redirectUri": f"{site.url}/callback", "postLogoutRedirectUri": f"{site.url}/",
                 "scope": "openid email profile", "idTokenForApi": True,
                 # Cognito's discovery document names no revocation endpoint: the hosted domain's.
                 "revocationEndpoint": f"{_hosted_domain(template)}/oauth2/revoke"},
        "apiUrl": f"https://<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{stage_id}>/publish",
        "region": "<AWS::Region>",
        "identityPoolId": f"<{identity_pool_id}>",
        "signalingChannelArn": f"<{channel_id}.Arn>",
        "telemetry": {"mode": "iot", "url": f"wss://{_data_endpoint(template)}/mqtt",
                      "sessionUrl": f"https://<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{stage_id}>/session",
                      "topic": f"{ROBOT}/telemetry", "intervalSeconds": 30},
    }


def test_the_web_client_may_reach_its_api_cognito_iot_and_kinesis_video_signaling_only(site, template):
    api_id, _ = one(template, "AWS::ApiGateway::RestApi")
    domain_id, _ = one(template, "AWS::Cognito::UserPoolDomain")
    assert site.content_security_policy["connect-src"] == [
        "'self'", f"https://<{api_id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>",
        "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>",
        f"https://<{domain_id}>.auth.<AWS::Region>.amazoncognito.com",
        "https://cognito-identity.<AWS::Region>.<AWS::URLSuffix>", f"wss://{_data_endpoint(template)}",
        # the control plane, and the channel's endpoints GetSignalingChannelEndpoint answers
        "https://kinesisvideo.<AWS::Region>.<AWS::URLSuffix>", "https://*.kinesisvideo.<AWS::Region>.<AWS::URLSuffix>",
        "wss://*.kinesisvideo.<AWS::Region>.<AWS::URLSuffix>"]


def test_the_robots_app_client_sends_users_back_to_its_web_client(site, template):
    _, client = one(template, "AWS::Cognito::UserPoolClient")
    assert render(client["Properties"]["CallbackURLs"][0]) == f"{site.url}/callback"
    assert render(client["Properties"]["LogoutURLs"][0]) == f"{site.url}/"


def test_the_web_client_url_is_an_output(site, template):
    assert render(template["Outputs"]["WebUrl"]["Value"]) == site.url


def test_every_robot_gets_its_own_web_client_with_names_of_its_own(suite):
    # Two robots deploy side by side: CloudFront names are per account, so each carries its stack.
    template = suite.template_json(telepresence_robot_stack(ROBOT))
    names = {render(r["Properties"].get("Name") or r["Properties"][config]["Name"])
             for cfn_type, config in (("AWS::CloudFront::ResponseHeadersPolicy", "ResponseHeadersPolicyConfig"),
                                      ("AWS::CloudFront::OriginAccessControl", "OriginAccessControlConfig"),
                                      ("AWS::CloudFront::Function", None))
             for r in resources(template, cfn_type).values()}
    assert names == {f"TelepresenceRobot-{ROBOT}-{purpose}-<AWS::Region>"
                     for purpose in ("WebHeaders", "WebOrigin", "WebRoutes")}


def _hosted_domain(template: dict) -> str:
    [output] = [o for key, o in template["Outputs"].items() if key.startswith("HostedDomain")]
    return render(output["Value"])
