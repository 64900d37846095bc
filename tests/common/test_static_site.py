"""StaticSite: the web clients' hosting, as each stack builds it and as the construct behaves alone."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import aws_cdk as cdk
import pytest

from stacks.common import static_site
from stacks.common.nag import apply_quality_gates
from stacks.common.static_site import (
    CLIENT_ROUTES_FUNCTION,
    StaticSite,
    account_wide_name,
    client_build,
    content_security_policy,
    cors_origins,
    permissions_policy,
)
from stacks.suite import ASK_AROUND_ME, URL_SHORTENER, telepresence_robot_stack
from tests.common.sites import hosted_site
from tests.conftest import project_context, synth_suite
from tests.support.templates import as_list, render, resources

SITE_STACKS = (URL_SHORTENER, ASK_AROUND_ME, telepresence_robot_stack("robot1"))
PINNED = cdk.Environment(account="123456789012", region="eu-west-1")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=SITE_STACKS)
def site(request, suite):
    return hosted_site(suite.template_json(request.param))


# --- the bucket -----------------------------------------------------------------------------

def test_the_bucket_is_private_encrypted_tls_only_and_emptied_with_the_stack(site):
    bucket = site.bucket
    assert bucket["DeletionPolicy"] == "Delete"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [deny] = [s for s in site.bucket_policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == "s3:*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    auto_delete = [r for r in site.template["Resources"].values() if r["Type"] == "Custom::S3AutoDeleteObjects"
                   and r["Properties"]["BucketName"] == {"Ref": site.bucket_id}]
    assert len(auto_delete) == 1


def test_only_this_distribution_reads_the_bucket_through_origin_access_control(site):
    allowed = [s for s in site.bucket_policy["Statement"] if s["Effect"] == "Allow"]
    readers = [s for s in allowed if s["Principal"] == {"Service": "cloudfront.amazonaws.com"}]
    assert len(readers) == 1
    [reader] = readers
    assert reader["Action"] == "s3:GetObject"
    assert render(reader["Resource"]) == f"<{site.bucket_id}.Arn>/*"
    assert render(reader["Condition"]["StringEquals"]["AWS:SourceArn"]) == \
        f"arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<{site.distribution_id}>"
    # Everything else the policy allows is CDK's emptying of the bucket when the stack is deleted.
    others = [s for s in allowed if s is not reader]
    assert all("AutoDeleteObjects" in render(s["Principal"]["AWS"]) for s in others), others
    access_id, attribute = site.origin["OriginAccessControlId"]["Fn::GetAtt"]
    assert attribute == "Id"
    access = site.template["Resources"][access_id]["Properties"]["OriginAccessControlConfig"]
    assert (access["OriginAccessControlOriginType"], access["SigningBehavior"], access["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    assert site.origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity


# --- the distribution -----------------------------------------------------------------------

def test_viewers_are_redirected_to_https_and_client_routes_serve_the_app_page(site):
    behavior = site.distribution["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert site.distribution["DefaultRootObject"] == "index.html"
    [association] = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function = site.template["Resources"][association["FunctionARN"]["Fn::GetAtt"][0]]["Properties"]
    assert function["FunctionCode"] == CLIENT_ROUTES_FUNCTION
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"


def test_every_response_carries_the_security_headers(site):
    headers = site.headers_policy["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"] == {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                                  "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}
    assert headers["ContentSecurityPolicy"]["Override"] is True
    csp = site.content_security_policy
    assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["connect-src"][0] == "'self'"  # config.json
    [permissions] = site.headers_policy["CustomHeadersConfig"]["Items"]
    assert permissions["Header"] == "Permissions-Policy" and "camera=()" in permissions["Value"]


def test_standard_and_bucket_access_logs_go_to_a_private_bucket_that_expires_them(site):
    log_bucket_id, attribute = site.distribution["Logging"]["Bucket"]["Fn::GetAtt"]
    assert attribute == "RegionalDomainName"
    assert site.bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket_id}
    log_bucket = site.template["Resources"][log_bucket_id]
    assert log_bucket["DeletionPolicy"] == "Retain"
    [rule] = log_bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 90
    assert log_bucket["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


# --- the deployment -------------------------------------------------------------------------

def test_each_deploy_replaces_the_files_and_invalidates_the_edge_caches(site, suite):
    deployment = site.deployment
    assert deployment["DistributionId"] == {"Ref": site.distribution_id}
    assert deployment["DistributionPaths"] == ["/*"]
    assert deployment["Prune"] is True
    # Browsers revalidate every file; the edge keeps them until the next deploy invalidates them.
    assert deployment["SystemMetadata"] == {"cache-control": "public, max-age=0, s-maxage=31536000"}
    build, config = (suite.outdir / f"asset.{key.removesuffix('.zip')}" for key in deployment["SourceObjectKeys"])
    assert (build / "index.html").is_file() and not (build / "config.json").exists()
    assert sorted(p.name for p in config.iterdir()) == ["config.json"]


def test_the_deployment_provider_reaches_only_the_site_and_asset_buckets_and_invalidations(site):
    buckets = {f"<{site.bucket_id}.Arn>", f"<{site.bucket_id}.Arn>/*",
               "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>",
               "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*"}
    for statement in (s for document in site.deployment_policies() for s in document["Statement"]):
        actions = as_list(statement["Action"])
        if all(action.startswith("s3:") for action in actions):
            assert {render(r) for r in as_list(statement["Resource"])} <= buckets, statement
        else:
            assert set(actions) == {"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}, statement
    function = site.template["Resources"][site.deployment_function_id]["Properties"]
    log_group = site.template["Resources"][function["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["RetentionInDays"] == 90  # a group of our own, created before the function runs


# --- the webClient switch -------------------------------------------------------------------

@pytest.fixture(scope="module")
def without_web_clients():
    context = project_context()
    return synth_suite(context={key: {**context[key], "webClient": False}
                                for key in ("urlShortener", "askAroundMe", "telepresenceRobot")})


def _cors_origins_named(template: dict) -> set[str]:
    """Every origin an API of the template names: header mappings, the origins a mapping
    template echoes, HTTP API CORS, the drive function's ALLOWED_ORIGINS."""
    found: set[str] = set()

    def visit(value) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("header.Access-Control-Allow-Origin") and not isinstance(item, bool):
                    found.add(render(item).strip("'"))
                elif key == "AllowOrigins":
                    found.update(render(origin) for origin in item)
                elif key == "ALLOWED_ORIGINS":
                    found.update(json.loads(render(item)))
                elif key == "application/json" and "#set($allowedOrigins" in json.dumps(item):
                    echoed = re.search(r"#set\(\$allowedOrigins = (\[[^\]]*\])\)", render(item))
                    found.update(json.loads(echoed.group(1)))
                else:
                    visit(item)

    visit(template["Resources"])
    return found


@pytest.mark.parametrize("stack", SITE_STACKS)
def test_without_the_web_client_a_stack_hosts_nothing_and_trusts_only_configured_urls(without_web_clients, stack):
    template = without_web_clients.template_json(stack)
    assert not resources(template, "Custom::CDKBucketDeployment")
    assert "WebUrl" not in template["Outputs"]
    assert not any("OriginAccessControlId" in origin for d in resources(template, "AWS::CloudFront::Distribution")
                   .values() for origin in d["Properties"]["DistributionConfig"]["Origins"])
    [client] = [r["Properties"] for r in resources(template, "AWS::Cognito::UserPoolClient").values()]
    assert client["CallbackURLs"] == ["http://localhost:8080/callback"]
    assert client["LogoutURLs"] == ["http://localhost:8080/"]
    assert _cors_origins_named(template) == {"http://localhost:8080"}


@pytest.mark.parametrize("stack", SITE_STACKS)
def test_with_the_web_client_its_url_joins_the_configured_cors_origins(suite, stack):
    template = suite.template_json(stack)
    assert _cors_origins_named(template) == {hosted_site(template).url, "http://localhost:8080"}


# --- the construct alone --------------------------------------------------------------------

def _node() -> str:
    node = ROOT / "node_modules" / ".bin" / "node"
    return str(node) if node.exists() else shutil.which("node") or pytest.fail("node is not installed")


def test_client_routes_serve_the_app_page_and_files_are_served_as_they_are():
    uris = ["/", "/callback", "/links/abc-1", "/index.html", "/assets/app.3f2a.js", "/config.json", "/favicon.ico"]
    script = CLIENT_ROUTES_FUNCTION + (
        "\nconst uris = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(uris.map(uri => handler({request: {uri, headers: {}}}).uri)));\n")
    served = subprocess.run([_node(), "-e", script, json.dumps(uris)], check=True, capture_output=True,
                            text=True, env={**os.environ, "NODE_OPTIONS": ""}).stdout
    assert dict(zip(uris, json.loads(served), strict=True)) == {
        "/": "/index.html", "/callback": "/index.html", "/links/abc-1": "/index.html", "/index.html": "/index.html",
        "/assets/app.3f2a.js": "/assets/app.3f2a.js", "/config.json": "/config.json", "/favicon.ico": "/favicon.ico"}


@pytest.fixture
def web_dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(static_site, "WEB_DIR", tmp_path / "web")
    monkeypatch.setattr(static_site, "PLACEHOLDER_DIR", tmp_path / ".cache" / "web-placeholder")
    return tmp_path


def test_a_client_that_was_never_built_gets_a_placeholder_page_in_the_cache(web_dirs):
    directory, built = client_build("shortener")
    assert not built and directory == web_dirs / ".cache" / "web-placeholder" / "shortener"
    assert sorted(p.name for p in directory.iterdir()) == ["index.html"]
    page = (directory / "index.html").read_text()
    assert "<title>web/shortener: not built</title>" in page and "make web" in page


def test_the_placeholder_is_written_only_when_its_content_changes(web_dirs):
    directory, _ = client_build("shortener")
    page = directory / "index.html"
    os.utime(page, (1_000_000, 1_000_000))
    client_build("shortener")
    assert page.stat().st_mtime == 1_000_000
    page.write_text("edited by hand")
    client_build("shortener")
    assert "make web" in page.read_text()


def test_a_built_client_is_deployed_from_its_dist_directory(web_dirs):
    dist = web_dirs / "web" / "robot" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    assert client_build("robot") == (dist, True)


def test_a_dist_directory_without_an_index_page_is_not_a_build(web_dirs):
    (web_dirs / "web" / "robot" / "dist").mkdir(parents=True)
    directory, built = client_build("robot")
    assert not built and directory.name == "robot" and directory.parent.name == "web-placeholder"


def _site_app(env: cdk.Environment | None = None, *, publish: bool = True) -> cdk.App:
    app = cdk.App(context=project_context())  # the project's feature flags
    stack = cdk.Stack(app, "Hosting", env=env)
    site = StaticSite(stack, "Web", client="robot", title="Robot", log_retention_days=30)
    if publish:
        site.publish(runtime_config={"apiUrl": "https://api.example.com"}, connect_sources=["https://api.example.com"])
    apply_quality_gates(app)
    return app


@pytest.mark.parametrize("env", [None, PINNED], ids=["agnostic", "pinned"])
def test_a_site_passes_cdk_nag_whether_or_not_its_environment_is_pinned(env):
    _site_app(env).synth()  # raises on any unacknowledged finding


def test_the_stacks_config_json_replaces_one_the_build_carries(web_dirs):
    dist = web_dirs / "web" / "robot" / "dist"
    (dist / "assets").mkdir(parents=True)
    for name, text in (("index.html", "<!doctype html>"), ("config.json", '{"apiUrl": "http://localhost"}'),
                       ("assets/app.js", "export {};"), ("assets/config.json", "{}")):
        (dist / name).write_text(text)
    app = _site_app()
    assembly = Path(app.synth().directory)
    site = hosted_site(json.loads((assembly / "Hosting.template.json").read_text()))
    build, config = (assembly / f"asset.{key.removesuffix('.zip')}" for key in site.deployment["SourceObjectKeys"])
    assert sorted(str(p.relative_to(build)) for p in build.rglob("*") if p.is_file()) == [
        "assets/app.js", "assets/config.json", "index.html"]  # only the root one is the runtime configuration
    assert json.loads((config / "config.json").read_text()) == {"apiUrl": "https://api.example.com"}


def test_a_site_that_is_never_published_fails_synth():
    with pytest.raises(RuntimeError, match=r"publish\(\) was never called"):
        _site_app(publish=False).synth()


def test_a_site_is_published_once():
    stack = cdk.Stack(cdk.App(), "Hosting")
    site = StaticSite(stack, "Web", client="robot", title="Robot", log_retention_days=30)
    site.publish(runtime_config={}, connect_sources=[])
    with pytest.raises(RuntimeError, match="already called"):
        site.publish(runtime_config={}, connect_sources=[])


def test_account_wide_names_carry_the_region_and_long_stack_names_fit_with_a_hash():
    app = cdk.App()
    long_names = [f"TelepresenceRobot-{'a' * 60}-{suffix}" for suffix in ("one", "two")]
    names = [account_wide_name(cdk.Stack(app, name, env=PINNED), "WebRoutes", max_length=64) for name in long_names]
    assert all(len(name) <= 64 and name.endswith("-WebRoutes-eu-west-1") for name in names)
    assert names[0] != names[1]
    assert account_wide_name(cdk.Stack(app, "UrlShortener", env=PINNED), "WebHeaders") == \
        "UrlShortener-WebHeaders-eu-west-1"


def test_the_site_comes_first_among_the_cors_origins_and_a_lone_wildcard_stays_alone():
    site = SimpleNamespace(url="https://d1.cloudfront.net")
    assert cors_origins(("http://localhost:8080",), site=site) == ("https://d1.cloudfront.net", "http://localhost:8080")
    assert cors_origins(("*",), site=site) == ("*",)
    assert cors_origins(("http://localhost:8080",), site=None) == ("http://localhost:8080",)


def test_the_csp_allows_exactly_the_given_sources():
    policy = content_security_policy(connect_sources=["https://api.example.com", "wss://iot.example.com"],
                                     image_sources=["https://tiles.example.com"])
    directives = {name: values for name, *values in (d.split() for d in policy.split(";"))}
    assert directives["connect-src"] == ["'self'", "https://api.example.com", "wss://iot.example.com"]
    assert directives["img-src"] == ["'self'", "data:", "https://tiles.example.com"]
    assert directives["default-src"] == ["'none'"] and directives["form-action"] == ["'self'"]


def test_only_the_browser_features_a_client_uses_are_enabled_for_its_own_origin():
    assert permissions_policy(["geolocation"]) == \
        "camera=(), geolocation=(self), microphone=(), payment=(), usb=()"
    with pytest.raises(ValueError, match="unknown browser features"):
        permissions_policy(["bluetooth"])
