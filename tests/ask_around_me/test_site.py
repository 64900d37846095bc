"""The web client the AskAroundMe stack hosts: runtime configuration, what it may reach, sign-in, map tiles."""
from __future__ import annotations

import re

import aws_cdk as cdk
import pytest

from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.common.config import ConfigError
from stacks.suite import ASK_AROUND_ME
from tests.ask_around_me.conftest import EXTERNAL_AUDIENCE, EXTERNAL_ISSUER
from tests.common.sites import hosted_site, runtime_config
from tests.support.templates import one, render

REGIONAL_APIS = "https://*.execute-api.<AWS::Region>.<AWS::URLSuffix>"


@pytest.fixture(scope="module")
def template(suite) -> dict:
    return suite.template_json(ASK_AROUND_ME)


@pytest.fixture(scope="module")
def site(template):
    return hosted_site(template)


def _iot_endpoint(template: dict) -> str:
    """The deploy-time lookup of the account's ATS endpoint, as the template renders its answer."""
    [describe_id] = [logical_id for logical_id, r in template["Resources"].items()
                     if r["Type"] == "Custom::AWS" and "iot:Data-ATS" in str(r["Properties"]["Create"])]
    return f"<{describe_id}.endpointAddress>"


def test_the_web_client_is_configured_with_the_stacks_issuer_api_identity_pool_iot_endpoint_and_tiles(
        site, template, suite):
    pool_id, _ = one(template, "AWS::Cognito::UserPool")
    client_id, _ = one(template, "AWS::Cognito::UserPoolClient")
    api_id, _ = one(template, "AWS::ApiGatewayV2::Api")
    identity_pool_id, _ = one(template, "AWS::Cognito::IdentityPool")
    assert runtime_config(site, suite.outdir) == {
        "auth": {"authority": f"<{pool_id}.ProviderURL>", "clientId": f"<{client_id}>",
                 "redirectUri": f"{site.url}/callback", "postLogoutRedirectUri": f"{site.url}/",
                 "scope": "openid email profile", "idTokenForApi": True,
                 # Cognito's discovery document names no revocation endpoint: the hosted domain's.
                 "revocationEndpoint": f"{_hosted_domain(template)}/oauth2/revoke"},
        "apiUrl": f"<{api_id}.ApiEndpoint>",
        "region": "<AWS::Region>",
        "identityPoolId": f"<{identity_pool_id}>",
        "realtime": {"mode": "iot", "url": f"wss://{_iot_endpoint(template)}/mqtt"},
        "tiles": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                  "attribution": "\u00a9 OpenStreetMap contributors"},
    }


def test_the_web_client_may_reach_the_apis_cognito_and_iot_of_its_region_and_load_only_tiles(site, template):
    domain_id, _ = one(template, "AWS::Cognito::UserPoolDomain")
    csp = site.content_security_policy
    # The API's own id cannot be named (its CORS names the site: a dependency cycle), hence
    # API Gateway endpoints of the stack's region.
    assert csp["connect-src"] == [
        "'self'", REGIONAL_APIS, "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>",
        f"https://<{domain_id}>.auth.<AWS::Region>.amazoncognito.com",
        "https://cognito-identity.<AWS::Region>.<AWS::URLSuffix>", f"wss://{_iot_endpoint(template)}"]
    assert csp["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]


def test_the_web_client_may_ask_for_the_users_location_and_nothing_else(site):
    [permissions] = site.headers_policy["CustomHeadersConfig"]["Items"]
    assert permissions["Value"] == "camera=(), geolocation=(self), microphone=(), payment=(), usb=()"


def test_the_app_client_sends_users_back_to_the_web_client_after_sign_in_and_sign_out(site, template):
    _, client = one(template, "AWS::Cognito::UserPoolClient")
    domain = {"Fn::GetAtt": [site.distribution_id, "DomainName"]}
    assert client["Properties"]["CallbackURLs"][0] == {"Fn::Join": ["", ["https://", domain, "/callback"]]}
    assert client["Properties"]["LogoutURLs"][0] == {"Fn::Join": ["", ["https://", domain, "/"]]}


def test_the_web_client_url_is_an_output(site, template):
    assert template["Outputs"]["WebUrl"]["Value"] == {"Fn::Join": ["", ["https://", {
        "Fn::GetAtt": [site.distribution_id, "DomainName"]}]]}


# -- an external identity provider ----------------------------------------------------------

@pytest.fixture(scope="module")
def external(external_suite):
    template = external_suite.template_json(ASK_AROUND_ME)
    return template, hosted_site(template), external_suite.outdir


def test_with_an_external_provider_the_client_signs_in_with_its_issuer_and_audience(external):
    _, site, outdir = external
    # Its callback and sign-out URLs are registered at the provider (the WebUrl output tells them).
    assert runtime_config(site, outdir)["auth"] == {
        "authority": EXTERNAL_ISSUER, "clientId": EXTERNAL_AUDIENCE[0], "redirectUri": f"{site.url}/callback",
        # No revocationEndpoint: the provider's discovery document names it.
        "postLogoutRedirectUri": f"{site.url}/", "scope": "openid email profile", "idTokenForApi": True}


def test_with_an_external_provider_the_client_may_reach_the_issuers_origin_instead_of_cognitos(external):
    template, site, _ = external
    assert site.content_security_policy["connect-src"] == [
        "'self'", REGIONAL_APIS, "https://example.eu.auth0.com",
        "https://cognito-identity.<AWS::Region>.<AWS::URLSuffix>", f"wss://{_iot_endpoint(template)}"]


# -- the tile server setting ----------------------------------------------------------------

def _tiles(url: str):
    return AskAroundMeConfig.from_context(cdk.App(context={"askAroundMe": {"tileUrl": url}}).node).tiles


def test_tiles_spread_over_subdomains_are_allowed_from_every_subdomain_of_their_host():
    assert _tiles("https://{s}.tile.example.com/{z}/{x}/{y}{r}.png?key=k").origin == "https://*.tile.example.com"
    assert _tiles("https://tiles.example.com:8443/v1/{z}/{y}/{x}").origin == "https://tiles.example.com:8443"


@pytest.mark.parametrize("url", [
    "http://tile.example.com/{z}/{x}/{y}.png",        # not https
    "https://tile.example.com/{z}/{x}.png",           # no {y}
    "https://{s}/{z}/{x}/{y}.png",                    # no host
    "https://a.{s}.example.com/{z}/{x}/{y}.png",      # {s} not the first label
    "https://tile.example.com/{z}/{x}/{y}.png\"",     # a quote would break out of the CSP or JSON
], ids=["http", "no-y", "no-host", "inner-subdomain", "quote"])
def test_a_tile_url_that_is_not_an_https_template_with_z_x_y_is_refused(url):
    with pytest.raises(ConfigError, match=re.escape("askAroundMe.tileUrl must be an https:// tile URL template")):
        _tiles(url)


@pytest.mark.parametrize("attribution", ["<a href='x'>OSM</a>", "", "x" * 301, "line\nbreak"])
def test_an_attribution_that_is_not_short_plain_text_is_refused(attribution):
    context = {"askAroundMe": {"tileAttribution": attribution}}
    with pytest.raises(ConfigError, match=re.escape("askAroundMe.tileAttribution must be plain text")):
        AskAroundMeConfig.from_context(cdk.App(context=context).node)


def _hosted_domain(template: dict) -> str:
    [output] = [o for key, o in template["Outputs"].items() if key.startswith("HostedDomain")]
    return render(output["Value"])
