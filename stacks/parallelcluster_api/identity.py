"""Who issues the access tokens the API accepts: the stack's own Cognito user pool, or an external IdP.

With Cognito the pool has a resource server ``parallelcluster`` with the scopes ``read``, ``write``
and ``admin``, and three app clients:

- people: the pool's public code-flow client (PKCE, the hosted sign-in pages), scopes ``read`` and
  ``write`` besides ``openid email``. Not ``admin``: Cognito grants a client's scopes to every user
  who signs in through it, so an admin scope there would make every user an administrator;
- machines: client credentials with a generated secret, scopes ``read`` and ``write``;
- administrators: client credentials with a generated secret, ``read``, ``write`` and ``admin``;
  whoever may read this client's secret in the account (``cognito-idp:DescribeUserPoolClient``)
  can act as administrator, so that IAM permission is the admin gate.

Users are created by administrators only: a user can start EC2 instances through the API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from lambda_src.parallelcluster_api.routes import RESOURCE_SERVER, scope_name
from stacks.common.users import UserPoolSettings, WebUsers
from stacks.parallelcluster_api.config import ParallelClusterApiConfig

SCOPES = {
    "read": "List and describe clusters, their fleets, instances, events, logs and operations",
    "write": "Create, update and delete clusters, start and stop their compute fleets",
    "admin": "See and change every user's clusters, not only one's own",
}
ACCESS_TOKEN_VALIDITY = cdk.Duration.hours(1)


@dataclass(frozen=True)
class TokenIssuer:
    issuer: str
    audiences: Sequence[str]
    # The claim holding the audience: Cognito access tokens have no "aud", their "client_id" says
    # which app client the token was issued to.
    audience_claim: str
    jwks_url: str | None


class CognitoIssuer(Construct):
    def __init__(self, scope_: Construct, id_: str, *, settings: UserPoolSettings,
                 removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope_, id_)
        self.users = WebUsers(self, "Users", settings=settings, domain_label="pcluster",
                              removal_policy=removal_policy, self_sign_up=False)
        self.user_pool = self.users.user_pool
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer", identifier=RESOURCE_SERVER, user_pool_resource_server_name="ParallelCluster API",
            scopes=[cognito.ResourceServerScope(scope_name=name, scope_description=description)
                    for name, description in SCOPES.items()])
        self.people_client = self.users.client
        # The shared web client asks for "openid email"; people also get the API's scopes. Set
        # on the resource, which must exist before Cognito accepts a client naming its scopes.
        people: cognito.CfnUserPoolClient = self.people_client.node.default_child  # type: ignore[assignment]
        people.allowed_o_auth_scopes = ["openid", "email", scope_name("read"), scope_name("write")]
        people.node.add_dependency(self.resource_server)
        self.machine_client = self._client_credentials_client("MachineClient", ("read", "write"))
        self.admin_client = self._client_credentials_client("AdminClient", ("read", "write", "admin"))
        self.token_endpoint = f"{self.users.hosted_domain_url}/oauth2/token"
        self.token_issuer = TokenIssuer(
            issuer=self.users.issuer_url, audience_claim="client_id", jwks_url=None,
            audiences=[c.user_pool_client_id for c in (self.people_client, self.machine_client, self.admin_client)])

    def _client_credentials_client(self, id_: str, scopes: tuple[str, ...]) -> cognito.UserPoolClient:
        client = self.user_pool.add_client(
            id_, generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[cognito.OAuthScope.resource_server(self.resource_server, cognito.ResourceServerScope(
                    scope_name=name, scope_description=SCOPES[name])) for name in scopes]),
            auth_flows=cognito.AuthFlow(user_password=False, user_srp=False, custom=False, admin_user_password=False),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            access_token_validity=ACCESS_TOKEN_VALIDITY, enable_token_revocation=True,
            prevent_user_existence_errors=True)
        return client


def token_issuer(scope_: Construct, config: ParallelClusterApiConfig) -> tuple[TokenIssuer, CognitoIssuer | None]:
    """The stack's own user pool (``identityProvider: cognito``) or the configured external IdP."""
    if config.identity_provider == "cognito":
        assert config.users is not None
        cognito_issuer = CognitoIssuer(scope_, "Identity", settings=config.users,
                                       removal_policy=config.data_removal_policy)
        return cognito_issuer.token_issuer, cognito_issuer
    external = config.external
    assert external is not None
    return TokenIssuer(issuer=external.issuer, audiences=[external.audience], audience_claim="aud",
                       jwks_url=external.jwks_url), None
