"""A system's web client, hosted by its own stack: private S3 bucket, CloudFront, runtime configuration.

``StaticSite`` is built in two steps because its URL and the stack's other resources need each
other: the user pool client's callback URLs and the API's CORS origins name the site, while the
site's configuration and Content-Security-Policy name the API, the user pool and its endpoints.

1. ``StaticSite(...)`` creates the bucket and the distribution; its ``url`` (also its origin) is
   known from then on (a deploy-time token).
2. ``publish(runtime_config=..., connect_sources=..., image_sources=...)`` deploys the client's
   build plus ``config.json`` (built from the stack's own values, resolved at deploy time) and
   fills in the CSP, which the headers policy reads only when the template is rendered.

The runtime configuration shapes are the contract with the clients (``web/README.md``); the
builders below (``sign_in_config``, ``shortener_config``, ``ask_around_me_config``,
``robot_config``) produce exactly those keys, from deploy-time tokens here or from local values.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from stacks.common.config import log_retention
from stacks.common.nag import acknowledge, acknowledge_wildcard_resources

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
# Where a stand-in page is written for a client that has not been built (`make web`), so that
# synth works from a fresh clone; `make clean` removes it with the rest of .cache/.
PLACEHOLDER_DIR = ROOT / ".cache" / "web-placeholder"
RUNTIME_CONFIG_KEY = "config.json"

# Client-side routes (/callback, /links/abc) have no file extension: they get the app's page;
# anything else is served as it is (a missing file stays an error, not a page).
CLIENT_ROUTES_FUNCTION = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var lastSegment = uri.substring(uri.lastIndexOf('/') + 1);
  if (lastSegment.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""

# Browser features no client uses are switched off; a client lists those it uses (for its own origin).
BROWSER_FEATURES = ("camera", "geolocation", "microphone", "payment", "usb")

# The longest region names (ap-southeast-2, us-gov-west-1) with room to spare, for names that
# must fit CloudFront's limits whether the region is known at synth time or not.
_REGION_ROOM = 16


def account_wide_name(scope: Construct, purpose: str, *, max_length: int = 128) -> str:
    """``<stack>-<purpose>-<region>``: CloudFront names (policies, origin access controls,
    functions) are unique per account, not per region, so a second deployment of the stack in
    another region needs names of its own. A stack name too long for ``max_length`` is cut and
    given a hash of the whole name, so two long names never collide."""
    stack = cdk.Stack.of(scope)
    room = max_length - len(purpose) - 2 - _REGION_ROOM
    name = stack.stack_name
    if len(name) > room:
        name = f"{name[:room - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return f"{name}-{purpose}-{stack.region}"


def access_log_bucket(scope: Construct, id_: str, *, retention_days: int) -> s3.Bucket:
    """A private, encrypted bucket for CloudFront standard logs (and S3 server access logs),
    each object expiring after ``retention_days``; kept when the stack is deleted."""
    bucket = s3.Bucket(
        scope, id_,
        encryption=s3.BucketEncryption.S3_MANAGED,  # CloudFront standard logs cannot write SSE-KMS
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=False,
        # CloudFront standard logging delivers through an ACL grant.
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(retention_days),
                                          abort_incomplete_multipart_upload_after=cdk.Duration.days(1))],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    acknowledge(bucket.node.default_child, "AwsSolutions-S1",
                "This bucket is itself the access-log destination; logging it would log the logs.")
    return bucket


def cors_origins(configured: Sequence[str], *, site: StaticSite | None) -> tuple[str, ...]:
    """The origins an API answers: its stack's own web client first, so it is the *primary*
    origin (the one on responses API Gateway generates itself, such as validation errors and
    401s, which the deployed client must be able to read), then the configured ones. A lone
    ``"*"`` already allows every origin and stays alone."""
    if site is None or tuple(configured) == ("*",):
        return tuple(configured)
    return (site.url, *configured)


# -- what a client's page may reach (Content-Security-Policy) ------------------------------

def regional_endpoint(service: str, *, scheme: str = "https") -> str:
    """``https://<service>.<region>.<url suffix>``: an AWS service endpoint of the stack's region."""
    return f"{scheme}://{service}.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"


def execute_api_origin(api_id: str) -> str:
    """The origin of an API Gateway endpoint (paths and stages are not part of an origin); ``"*"``
    stands for every API of the region."""
    return f"https://{api_id}.execute-api.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"


def cognito_sign_in_sources(hosted_domain_url: str) -> list[str]:
    """OIDC discovery and keys (cognito-idp) and the hosted domain's token endpoint."""
    return [regional_endpoint("cognito-idp"), hosted_domain_url]


def content_security_policy(*, connect_sources: Sequence[str], image_sources: Sequence[str] = ()) -> str:
    """Scripts, styles and fonts from the site itself only, nothing framed, no plugins; the page
    may fetch from its own origin (config.json) and exactly ``connect_sources``, and load images
    from itself, ``data:`` URLs and ``image_sources``."""
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *image_sources],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *connect_sources],
        "manifest-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items())


def permissions_policy(used_features: Sequence[str]) -> str:
    unknown = set(used_features) - set(BROWSER_FEATURES)
    if unknown:
        raise ValueError(f"unknown browser features {sorted(unknown)}; known: {BROWSER_FEATURES}")
    return ", ".join(f"{feature}=(self)" if feature in used_features else f"{feature}=()"
                     for feature in BROWSER_FEATURES)


# -- the client's files --------------------------------------------------------------------

def client_build(client: str) -> tuple[Path, bool]:
    """``(directory, built)``: ``web/<client>/dist`` when it holds a build (``index.html``);
    otherwise a one-page stand-in under ``.cache/web-placeholder/<client>``, written only when
    its content changes, so ``cdk synth`` works before ``make web`` has run. The page names the
    client only, so every stack (each robot's) stages the same file."""
    dist = WEB_DIR / client / "dist"
    if (dist / "index.html").is_file():
        return dist, True
    page = PLACEHOLDER_DIR / client / "index.html"
    html = (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>web/{client}: not built</title>\n</head>\n<body>\n<main>\n<h1>This web client is not built</h1>\n"
        f"<p>This stack was deployed before its web client was built. Run <code>make web</code> "
        f"(part of <code>make install</code>), which builds <code>web/{client}/dist</code>, and deploy "
        "the stack again.</p>\n</main>\n</body>\n</html>\n")
    if not page.is_file() or page.read_text() != html:
        page.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the staged folder, then renamed into it: parallel synths (test workers)
        # never stage half a page or a stray file.
        partial = PLACEHOLDER_DIR / f".{client}-index.html.{os.getpid()}"
        partial.write_text(html)
        os.replace(partial, page)
    return page.parent, False


@jsii.implements(cdk.IStableStringProducer)
class _Deferred:
    """A value computed when the template is rendered (after ``publish``)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


class StaticSite(Construct):
    """``web/<client>`` served from a private bucket through CloudFront.

    The bucket is reachable only through the distribution (origin access control: a bucket
    policy for ``cloudfront.amazonaws.com`` conditioned on this distribution's ARN), with
    SSE-S3, TLS only, public access blocked, and it is emptied and deleted with the stack (its
    content is rebuilt from the repository at every deploy). Viewers are redirected to HTTPS;
    every response carries HSTS, nosniff, frame denial, a referrer policy, a Permissions-Policy
    and the CSP; client-side routes (``/callback``) serve ``index.html``. Standard logs of the
    distribution and the bucket's server access logs go to a log bucket kept ``log_retention_days``.
    """

    def __init__(self, scope: Construct, id_: str, *, client: str, title: str, log_retention_days: int,
                 browser_features: Sequence[str] = ()) -> None:
        super().__init__(scope, id_)
        self.client = client
        self.title = title
        self._log_retention_days = log_retention_days
        self._csp: str | None = None
        self.deployment: s3_deployment.BucketDeployment | None = None

        self.log_bucket = access_log_bucket(self, "AccessLogs", retention_days=log_retention_days)
        self.bucket = s3.Bucket(
            self, "Content",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket, server_access_logs_prefix="s3/",
            removal_policy=cdk.RemovalPolicy.DESTROY, auto_delete_objects=True,
        )
        access = cloudfront.S3OriginAccessControl(
            self, "OriginAccess", origin_access_control_name=account_wide_name(self, "WebOrigin", max_length=64),
            description=f"CloudFront reads the {title} web client from its bucket",
            signing=cloudfront.Signing.SIGV4_ALWAYS)
        routes = cloudfront.Function(
            self, "ClientRoutes", function_name=account_wide_name(self, "WebRoutes", max_length=64),
            comment="Client-side routes serve index.html", runtime=cloudfront.FunctionRuntime.JS_2_0,
            code=cloudfront.FunctionCode.from_inline(CLIENT_ROUTES_FUNCTION))
        headers = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders", response_headers_policy_name=account_wide_name(self, "WebHeaders"),
            comment=f"Security headers of the {title} web client",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730), include_subdomains=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=cdk.Lazy.string(_Deferred(self._rendered_csp)), override=True)),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=[
                cloudfront.ResponseCustomHeader(header="Permissions-Policy",
                                                value=permissions_policy(browser_features), override=True)]))
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=f"{title} web client",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket, origin_access_control=access),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[cloudfront.FunctionAssociation(
                    function=routes, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True, log_bucket=self.log_bucket, log_file_prefix="cloudfront/",
        )
        distribution = self.distribution.node.default_child
        acknowledge(distribution, "AwsSolutions-CFR1",
                    f"The {title} web client is for users anywhere; no country is blocked.")
        acknowledge(distribution, "AwsSolutions-CFR2",
                    "The distribution serves static files only; the APIs the client calls sit behind "
                    "their own regional WAF web ACLs, and a CLOUDFRONT web ACL would live in us-east-1 "
                    "and add a monthly cost for public files.")
        acknowledge(distribution, "AwsSolutions-CFR4",
                    "No custom domain is configured, and the default *.cloudfront.net certificate does "
                    "not let a distribution pin the viewer TLS policy; CloudFront negotiates TLS 1.2+ "
                    "with modern clients.")
        # Also its origin (CORS, CSP): a scheme and a host, no path.
        self.url = f"https://{self.distribution.distribution_domain_name}"

    def _rendered_csp(self) -> str:
        """The CSP, read when the template is rendered: a site never published fails synth here."""
        if self._csp is None:
            raise RuntimeError(f"{self.node.path}: StaticSite.publish() was never called, so the site has no "
                               "content, configuration or CSP")
        return self._csp

    def publish(self, *, runtime_config: Mapping[str, Any], connect_sources: Sequence[str],
                image_sources: Sequence[str] = ()) -> s3_deployment.BucketDeployment:
        """Deploy the client with ``config.json`` = ``runtime_config`` (deploy-time tokens are
        resolved by the deployment), and allow the page ``connect_sources`` and ``image_sources``."""
        if self.deployment is not None:
            raise RuntimeError(f"{self.node.path}: publish() was already called")
        self._csp = content_security_policy(connect_sources=connect_sources, image_sources=image_sources)
        build, built = client_build(self.client)
        if not built:
            cdk.Annotations.of(self).add_warning_v2(
                "suite:webClientNotBuilt",
                f"web/{self.client}/dist has no build: a placeholder page is deployed instead (run make web)")
        self.deployment = s3_deployment.BucketDeployment(
            self, "Deployment", destination_bucket=self.bucket,
            sources=[
                # The stack's config.json replaces any the build carries at its root (a developer's).
                s3_deployment.Source.asset(str(build), exclude=[f"/{RUNTIME_CONFIG_KEY}"],
                                           ignore_mode=cdk.IgnoreMode.GIT),
                s3_deployment.Source.json_data(RUNTIME_CONFIG_KEY, dict(runtime_config)),
            ],
            # Every deploy replaces the files and the edge caches are told at once. Browsers
            # revalidate every file (a 304 when unchanged), so none keeps an index.html naming
            # files the new build pruned; CloudFront keeps them until the next invalidation.
            distribution=self.distribution, distribution_paths=["/*"],
            cache_control=[s3_deployment.CacheControl.set_public(),
                           s3_deployment.CacheControl.max_age(cdk.Duration.seconds(0)),
                           s3_deployment.CacheControl.s_max_age(cdk.Duration.days(365))],
            # A log group of our own, with retention, which exists before the function first runs.
            log_group=logs.LogGroup(self, "DeploymentLogs", retention=log_retention(self._log_retention_days),
                                    removal_policy=cdk.RemovalPolicy.DESTROY),
        )
        _acknowledge_deployment_provider(self.deployment, self.bucket)
        return self.deployment


# What CDK's BucketDeployment provider holds, granted by CDK itself: read on the asset bucket
# (grantRead), read-write on the site's bucket (grantReadWrite), invalidations.
_DEPLOYMENT_WILDCARD_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
_DEPLOYMENT_PROVIDER = "CDK's BucketDeployment provider function (one per stack, run only during deployments)"


def _acknowledge_deployment_provider(deployment: s3_deployment.BucketDeployment, bucket: s3.IBucket) -> None:
    role = deployment.handler_role
    function = role.node.scope  # the provider function itself lives at the stack's root
    acknowledge(function.node.default_child, "AwsSolutions-L1",
                f"The runtime of {_DEPLOYMENT_PROVIDER} is chosen by aws-cdk-lib and moves forward with it.")
    acknowledge(role.node.default_child, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                f"{_DEPLOYMENT_PROVIDER} writes its logs through the AWS managed basic execution policy.")
    grants = role.node.find_child("DefaultPolicy")
    for action in _DEPLOYMENT_WILDCARD_ACTIONS:
        acknowledge(grants, f"AwsSolutions-IAM5[Action::{action}]",
                    f"{_DEPLOYMENT_PROVIDER} gets CDK's read grant on the asset bucket and read-write grant "
                    "on the site's bucket, whose action groups end in wildcards.")
    assets = [child for child in deployment.node.children if isinstance(child, s3_assets.Asset)]
    acknowledge_wildcard_resources(
        grants, [f"{bucket.bucket_arn}/*", *(f"{asset.bucket.bucket_arn}/*" for asset in assets)],
        f"{_DEPLOYMENT_PROVIDER} copies the client's asset objects into the site's bucket and prunes "
        "what the new build no longer has: every object of both buckets.")
    handler = deployment.node.find_child("CustomResourceHandler")
    for policy in (child for child in handler.node.children if isinstance(child, iam.Policy)):
        acknowledge(policy, "AwsSolutions-IAM5[Resource::*]",
                    f"{_DEPLOYMENT_PROVIDER} invalidates the site's distribution after each deploy; CDK "
                    "grants cloudfront:CreateInvalidation and GetInvalidation on any distribution.")
