"""The dashboard the UrlShortener stack hosts: its runtime configuration, what it may reach, sign-in, CORS."""
from __future__ import annotations

import pytest
from moto import mock_aws

from stacks.suite import URL_SHORTENER
from tests.common.sites import hosted_site, runtime_config
from tests.support.templates import one, render, resources
from tests.url_shortener.test_api_behaviour import ALICE, SITE_ORIGIN, make_client


@pytest.fixture(scope="module")
def template(suite) -> dict:
    return suite.template_json(URL_SHORTENER)


@pytest.fixture(scope="module")
def site(template):
    return hosted_site(template)


def _ids(template: dict) -> dict[str, str]:
    """Logical ids of what the configuration names, found by type, never written by hand."""
    rest_api_id, _ = one(template, "AWS::ApiGateway::RestApi")
    stage_id, _ = one(template, "AWS::ApiGateway::Stage")
    pool_id, _ = one(template, "AWS::Cognito::UserPool")
    client_id, _ = one(template, "AWS::Cognito::UserPoolClient")
    domain_id, _ = one(template, "AWS::Cognito::UserPoolDomain")
    [short_links_id] = [logical_id for logical_id, d in resources(template, "AWS::CloudFront::Distribution").items()
                        if logical_id != hosted_site(template).distribution_id]
    return {"api": rest_api_id, "stage": stage_id, "pool": pool_id, "client": client_id, "domain": domain_id,
            "short_links": short_links_id}


def test_the_dashboard_is_configured_with_the_stacks_own_issuer_client_api_and_short_link_base(site, template,
                                                                                               suite):
    ids = _ids(template)
    assert runtime_config(site, suite.outdir) == {
        "auth": {"authority": f"<{ids['pool']}.ProviderURL>", "clientId": f"<{ids['client']}>",
                 "redirectUri": f"{site.url}/callback", "postLogoutRedirectUri": f"{site.url}/",
                 "scope": "openid email profile", "idTokenForApi": True,
                 # Cognito's discovery document names no revocation endpoint: the hosted domain's.
                 "revocationEndpoint": f"{_hosted_domain(template)}/oauth2/revoke"},
        "apiUrl": f"https://<{ids['api']}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{ids['stage']}>/",
        "shortLinkBase": f"https://<{ids['short_links']}.DomainName>",
    }


def test_the_dashboard_may_reach_its_api_and_cognito_and_nothing_else(site, template):
    ids = _ids(template)
    csp = site.content_security_policy
    assert csp["connect-src"] == [
        "'self'", f"https://<{ids['api']}>.execute-api.<AWS::Region>.<AWS::URLSuffix>",
        "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>", f"https://<{ids['domain']}>.auth.<AWS::Region>.amazoncognito.com"]
    assert csp["img-src"] == ["'self'", "data:"]


def test_the_app_client_sends_users_back_to_the_dashboard_after_sign_in_and_sign_out(site, template):
    _, client = one(template, "AWS::Cognito::UserPoolClient")
    assert client["Properties"]["CallbackURLs"] == [{"Fn::Join": ["", ["https://", {
        "Fn::GetAtt": [site.distribution_id, "DomainName"]}, "/callback"]]}, "http://localhost:8080/callback"]
    assert client["Properties"]["LogoutURLs"][0] == {"Fn::Join": ["", ["https://", {
        "Fn::GetAtt": [site.distribution_id, "DomainName"]}, "/"]]}
    assert "profile" in client["Properties"]["AllowedOAuthScopes"]  # the dashboard asks for it


@pytest.fixture
def api(template):
    with mock_aws():
        yield make_client(template)


def test_the_api_answers_the_dashboards_preflight_and_requests_with_its_origin(api):
    preflight = api.options("/app", headers={"Origin": SITE_ORIGIN})
    assert preflight.status == 204 and preflight.header("Access-Control-Allow-Origin") == SITE_ORIGIN
    listed = api.get("/app", user=ALICE, headers={"Origin": SITE_ORIGIN})
    assert listed.status == 200 and listed.header("Access-Control-Allow-Origin") == SITE_ORIGIN


def test_a_locally_served_dashboard_is_still_answered_as_a_configured_origin(api):
    listed = api.get("/app", user=ALICE, headers={"Origin": "http://localhost:8080"})
    assert listed.header("Access-Control-Allow-Origin") == "http://localhost:8080"


def test_the_dashboard_url_is_an_output(site, template):
    assert template["Outputs"]["WebUrl"]["Value"] == {"Fn::Join": ["", ["https://", {
        "Fn::GetAtt": [site.distribution_id, "DomainName"]}]]}


def _hosted_domain(template: dict) -> str:
    [output] = [o for key, o in template["Outputs"].items() if key.startswith("HostedDomain")]
    return render(output["Value"])
