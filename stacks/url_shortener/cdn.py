"""CloudFront in front of the API: cached redirects at the edge, everything else passed through."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from constructs import Construct

from stacks.common.nag import acknowledge
from stacks.common.static_site import access_log_bucket, account_wide_name


class ShortenerDistribution(Construct):
    """HTTPS-only distribution with security headers and access logs in an encrypted bucket."""

    def __init__(self, scope: Construct, id_: str, *, api: apigw.RestApi, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        self.log_bucket = access_log_bucket(self, "AccessLogs", retention_days=log_retention_days)
        origin = origins.RestApiOrigin(api)  # HTTPS only, TLS 1.2 to the origin
        # Redirects: cached for as long as the API's Cache-Control says, keyed on the path only.
        redirect_cache = cloudfront.CachePolicy(
            self, "RedirectCache", cache_policy_name=account_wide_name(self, "RedirectCache"),
            comment="Short-link redirects, TTL from the origin's Cache-Control",
            min_ttl=cdk.Duration.seconds(0), default_ttl=cdk.Duration.seconds(0), max_ttl=cdk.Duration.days(1),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none())
        # /app: never cached. Authorization must reach the API, and CloudFront only forwards it
        # when it is part of a cache key, hence a policy whose TTLs never let a response be reused.
        app_cache = cloudfront.CachePolicy(
            self, "AppNoCache", cache_policy_name=account_wide_name(self, "AppNoCache"),
            comment="Link management: not cached, Authorization forwarded",
            min_ttl=cdk.Duration.seconds(0), default_ttl=cdk.Duration.seconds(0), max_ttl=cdk.Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list("next"),
            cookie_behavior=cloudfront.CacheCookieBehavior.none())
        app_forwarding = cloudfront.OriginRequestPolicy(
            self, "AppForwarding", origin_request_policy_name=account_wide_name(self, "AppForwarding"),
            comment="CORS request headers for the link management API",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
                "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.allow_list("next"),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none())
        security_headers = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders", response_headers_policy_name=account_wide_name(self, "SecurityHeaders"),
            comment="Security headers on every response",
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
                    content_security_policy="default-src 'none'; frame-ancestors 'none'", override=True),
            ))
        app_behavior = cloudfront.BehaviorOptions(
            origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL, cache_policy=app_cache,
            origin_request_policy=app_forwarding, response_headers_policy=security_headers)
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment="URL shortener",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=redirect_cache, response_headers_policy=security_headers),
            additional_behaviors={"/app": app_behavior, "/app/*": app_behavior},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True, log_bucket=self.log_bucket, log_file_prefix="cloudfront/",
        )
        acknowledge(self.distribution.node.default_child, "AwsSolutions-CFR1",
                    "Short links are meant for a worldwide audience; no country is blocked.")
        acknowledge(self.distribution.node.default_child, "AwsSolutions-CFR2",
                    "Requests reaching the API pass the regional WAF web ACL on its stage; a CLOUDFRONT "
                    "web ACL would have to live in us-east-1 and would only add cost for cached redirects.")
        acknowledge(self.distribution.node.default_child, "AwsSolutions-CFR4",
                    "No custom domain is configured, and the default *.cloudfront.net certificate does "
                    "not let a distribution pin the viewer TLS policy; CloudFront negotiates TLS 1.2+ "
                    "with modern clients.")
        # CacheHitRate and the per-status error rates are "additional metrics" (billed per distribution).
        self.monitoring = cloudfront.CfnMonitoringSubscription(
            self, "AdditionalMetrics", distribution_id=self.distribution.distribution_id,
            monitoring_subscription=cloudfront.CfnMonitoringSubscription.MonitoringSubscriptionProperty(
                realtime_metrics_subscription_config=cloudfront.CfnMonitoringSubscription.
                RealtimeMetricsSubscriptionConfigProperty(realtime_metrics_subscription_status="Enabled")))
        self.url = f"https://{self.distribution.distribution_domain_name}"
