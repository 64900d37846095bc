"""A Cognito identity pool for signed-in users only: one authenticated role, nothing for guests."""
from __future__ import annotations

from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"


class SignedInIdentityPool(Construct):
    """Exchanges a user's JWT for credentials of ``role``; grant to ``role`` what they may do.

    Tokens come either from a Cognito user pool client (``user_pool`` with ``client``) or from
    an OpenID Connect provider registered in IAM (``oidc_provider``). Unauthenticated
    identities are off and no role exists for them; the enhanced flow only, so the pool and
    not the caller picks the role.
    """

    def __init__(self, scope: Construct, id_: str, *, role_description: str,
                 user_pool: cognito.IUserPool | None = None, client: cognito.IUserPoolClient | None = None,
                 oidc_provider: iam.IOidcProvider | None = None) -> None:
        super().__init__(scope, id_)
        if (user_pool is None) == (oidc_provider is None) or (user_pool is None) != (client is None):
            raise ValueError("give either user_pool with client, or oidc_provider")
        cognito_providers = None if user_pool is None else [cognito.CfnIdentityPool.CognitoIdentityProviderProperty(
            client_id=client.user_pool_client_id, provider_name=user_pool.user_pool_provider_name,
            server_side_token_check=True)]  # signed-out (revoked) tokens get no credentials
        self.identity_pool = cognito.CfnIdentityPool(
            self, "IdentityPool", allow_unauthenticated_identities=False, allow_classic_flow=False,
            cognito_identity_providers=cognito_providers,
            open_id_connect_provider_arns=None if oidc_provider is None else [oidc_provider.oidc_provider_arn])
        self.identity_pool_id = self.identity_pool.ref
        self.role = iam.Role(
            self, "AuthenticatedRole", description=role_description,
            assumed_by=iam.WebIdentityPrincipal(COGNITO_IDENTITY, conditions={
                "StringEquals": {f"{COGNITO_IDENTITY}:aud": self.identity_pool_id},
                "ForAnyValue:StringLike": {f"{COGNITO_IDENTITY}:amr": "authenticated"},
            }))
        self.role_attachment = cognito.CfnIdentityPoolRoleAttachment(
            self, "Roles", identity_pool_id=self.identity_pool_id, roles={"authenticated": self.role.role_arn})
