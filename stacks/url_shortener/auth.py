"""Who may manage links: a Cognito user pool with its hosted sign-in pages."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.common.nag import acknowledge
from stacks.url_shortener.config import UrlShortenerConfig


class ShortenerUsers(Construct):
    """Email-as-username user pool, a public code-flow app client and a hosted domain."""

    def __init__(self, scope: Construct, id_: str, *, config: UrlShortenerConfig) -> None:
        super().__init__(scope, id_)
        self.user_pool = cognito.UserPool(
            self, "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=True,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=cdk.Duration.days(3)),
            mfa=cognito.Mfa.REQUIRED if config.require_mfa else cognito.Mfa.OPTIONAL,
            # TOTP only: SMS would need an SNS role and a spending limit the user has not chosen.
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if config.cognito_plus_plan else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if config.cognito_plus_plan else None,
            deletion_protection=config.data_removal_policy == cdk.RemovalPolicy.RETAIN,
            removal_policy=config.data_removal_policy,
        )
        if not config.require_mfa:
            acknowledge(self.user_pool.node.default_child, "AwsSolutions-COG2",
                        "MFA is optional because urlShortener.requireMfa is false in cdk.json; "
                        "users can still enrol a TOTP factor.")
        if not config.cognito_plus_plan:
            for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
                acknowledge(self.user_pool.node.default_child, rule,
                            "urlShortener.cognitoFeaturePlan is 'essentials' in cdk.json: no paid threat "
                            "protection; the pool relies on MFA and a strict password policy.")
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,  # a browser app cannot keep a secret; PKCE protects the code flow
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=list(config.callback_urls),
                logout_urls=list(config.logout_urls),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            id_token_validity=cdk.Duration.hours(1),
            access_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
            enable_token_revocation=True,
        )
        prefix = config.cognito_domain_prefix or cdk.Fn.join(
            "-", ["shortener", cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION])
        self.domain = self.user_pool.add_domain(
            "HostedDomain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        self.hosted_domain_url = self.domain.base_url()
