"""People who sign in to a system's web app: a Cognito user pool, its app client and hosted pages.

The same settings keys in every system's context block (``callbackUrls``, ``logoutUrls``,
``cognitoDomainPrefix``, ``requireMfa``, ``cognitoFeaturePlan``), read by
:meth:`UserPoolSettings.read`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.common.config import ContextBlock
from stacks.common.nag import acknowledge
from stacks.common.web_config import callback_url, sign_out_url

# Cognito: lowercase letters, digits and hyphens; "aws", "amazon" and "cognito" are reserved.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class UserPoolSettings:
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    domain_prefix: str | None
    require_mfa: bool
    plus_plan: bool
    # Where the settings came from, so acknowledgements can tell a reviewer which key to change.
    context_key: str

    @classmethod
    def read(cls, block: ContextBlock, *, web_origin: str = "http://localhost:8080") -> "UserPoolSettings":
        prefix = block.optional_string("cognitoDomainPrefix", pattern=_DOMAIN_PREFIX,
                                       description="a Cognito domain prefix (lowercase letters, digits, hyphens)")
        if prefix and any(word in prefix for word in ("aws", "amazon", "cognito")):
            raise block.fail("cognitoDomainPrefix", "must not contain aws, amazon or cognito", prefix)
        settings = cls(
            callback_urls=block.url_list("callbackUrls", [f"{web_origin}/callback"]),
            logout_urls=block.url_list("logoutUrls", [f"{web_origin}/"]),
            domain_prefix=prefix,
            require_mfa=block.boolean("requireMfa", True),
            plus_plan=block.choice("cognitoFeaturePlan", "plus", choices=("plus", "essentials")) == "plus",
            context_key=block.prefix,
        )
        for name, urls in (("callbackUrls", settings.callback_urls), ("logoutUrls", settings.logout_urls)):
            for url in urls:
                if not (url.startswith("https://") or url.startswith("http://localhost")):
                    raise block.fail(name, "must hold https:// URLs (http:// only for localhost)", url)
        return settings


class WebUsers(Construct):
    """Email-as-username user pool, a public code-flow app client and a hosted domain.

    ``domain_label`` starts the default hosted-domain prefix (``<label>-<account>-<region>``),
    unique per account and region without asking the user for one. ``self_sign_up=False``
    leaves creating users to administrators (for users who can act on something, such as a robot).
    ``site_url`` is the stack's own web client (``StaticSite.url``): its ``/callback`` and ``/``
    are allowed before the configured callback and sign-out URLs, with no hand edit after deploy.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: UserPoolSettings, domain_label: str,
                 removal_policy: cdk.RemovalPolicy, self_sign_up: bool = True, site_url: str | None = None) -> None:
        super().__init__(scope, id_)
        key = settings.context_key
        site_callback_urls = [callback_url(site_url)] if site_url else []
        site_logout_urls = [sign_out_url(site_url)] if site_url else []
        self.user_pool = cognito.UserPool(
            self, "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=self_sign_up,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=cdk.Duration.days(3)),
            mfa=cognito.Mfa.REQUIRED if settings.require_mfa else cognito.Mfa.OPTIONAL,
            # TOTP only: SMS would need an SNS role and a spending limit the user has not chosen.
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if settings.plus_plan else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if settings.plus_plan else None,
            deletion_protection=removal_policy == cdk.RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        if not settings.require_mfa:
            acknowledge(self.user_pool.node.default_child, "AwsSolutions-COG2",
                        f"MFA is optional because {key}.requireMfa is false in cdk.json; "
                        "users can still enrol a TOTP factor.")
        if not settings.plus_plan:
            for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
                acknowledge(self.user_pool.node.default_child, rule,
                            f"{key}.cognitoFeaturePlan is 'essentials' in cdk.json: no paid threat "
                            "protection; the pool relies on MFA and a strict password policy.")
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,  # a browser app cannot keep a secret; PKCE protects the code flow
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                # profile: the web clients ask for "openid email profile" (the user's name to show).
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[*site_callback_urls, *settings.callback_urls],
                logout_urls=[*site_logout_urls, *settings.logout_urls],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            id_token_validity=cdk.Duration.hours(1),
            access_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
            enable_token_revocation=True,
        )
        prefix = settings.domain_prefix or cdk.Fn.join("-", [domain_label, cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION])
        self.domain = self.user_pool.add_domain(
            "HostedDomain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        self.hosted_domain_url = self.domain.base_url()
        # The JWT issuer of this pool, for HTTP API JWT authorizers and OIDC clients.
        self.issuer_url = self.user_pool.user_pool_provider_url
