"""SignedInIdentityPool: credentials for signed-in users only, from a user pool or an OIDC issuer."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from stacks.common.identity_pool import SignedInIdentityPool


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Pool")


def test_a_user_pool_client_is_the_only_provider_and_revoked_tokens_are_checked():
    stack = _stack()
    users = cognito.UserPool(stack, "Users")
    client = users.add_client("Web")
    SignedInIdentityPool(stack, "Identities", user_pool=users, client=client, role_description="readers")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Cognito::IdentityPool", {
        "AllowUnauthenticatedIdentities": False, "AllowClassicFlow": False,
        "CognitoIdentityProviders": [Match.object_like({"ServerSideTokenCheck": True})],
        "OpenIdConnectProviderARNs": Match.absent()})
    template.resource_count_is("AWS::IAM::Role", 1)
    template.has_resource_properties("AWS::Cognito::IdentityPoolRoleAttachment", {
        "Roles": {"authenticated": Match.any_value()}})


def test_the_role_trusts_only_authenticated_identities_of_this_pool():
    stack = _stack()
    provider = iam.OidcProviderNative(stack, "Issuer", url="https://example.eu.auth0.com/", client_ids=["api"])
    SignedInIdentityPool(stack, "Identities", oidc_provider=provider, role_description="readers")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Cognito::IdentityPool", {
        "OpenIdConnectProviderARNs": [Match.any_value()], "CognitoIdentityProviders": Match.absent()})
    template.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [{
        "Action": "sts:AssumeRoleWithWebIdentity", "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": {"Ref": Match.any_value()}},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}],
        "Version": "2012-10-17"}})


@pytest.mark.parametrize("with_pool, with_client, with_oidc", [
    (False, False, False), (True, False, False), (True, True, True), (False, True, False)])
def test_exactly_one_kind_of_provider_is_required(with_pool, with_client, with_oidc):
    stack = _stack()
    users = cognito.UserPool(stack, "Users")
    client = users.add_client("Web")
    provider = iam.OidcProviderNative(stack, "Issuer", url="https://example.com", client_ids=["x"])
    with pytest.raises(ValueError, match="either user_pool with client, or oidc_provider"):
        SignedInIdentityPool(stack, "Identities", role_description="readers",
                             user_pool=users if with_pool else None, client=client if with_client else None,
                             oidc_provider=provider if with_oidc else None)
