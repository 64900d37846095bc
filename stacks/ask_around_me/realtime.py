"""Real-time updates for browsers: AWS IoT Core topics reached through a Cognito identity pool.

A browser signs in (JWT), calls ``POST /realtime/session`` (which attaches the app's IoT
policy to the caller's own Cognito identity), exchanges the same JWT for credentials of
the identity pool's authenticated role, and connects to the ATS endpoint over MQTT on
WebSocket (stacks/common/browser_iot.py). Role and IoT policy allow the same, and only:
connecting with a client id that starts with ``<prefix>-<identity id>-``, subscribing to and
receiving the geo, question and system topics and the caller's own user topic. Browsers
never publish.
"""
from __future__ import annotations

from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.ask_around_me.api import JwtIssuer
from stacks.ask_around_me.config import AskAroundMeConfig
from stacks.ask_around_me.functions import METRICS_NAMESPACE, SERVICE_NAME
from stacks.common.browser_iot import IDENTITY, SESSION_IDENTITY, BrowserIotAccess
from stacks.common.identity_pool import SignedInIdentityPool
from stacks.common.iot import IotEndpoint

ROLE_DESCRIPTION = "Signed-in Ask Around Me users: receive the app's real-time topics over MQTT"


def topic_namespace(prefix: str) -> tuple[str, ...]:
    """Topic names (MQTT wildcards excluded) a browser may subscribe to and receive from."""
    return (f"{prefix}/geo/*", f"{prefix}/questions/*", f"{prefix}/users/{IDENTITY}", f"{prefix}/system")


def session_topics(prefix: str) -> dict[str, str]:
    """What ``POST /realtime/session`` tells the browser: the page fills in ``<...>`` itself."""
    return {"geo": f"{prefix}/geo/<geohash5>", "question": f"{prefix}/questions/<questionId>",
            "user": f"{prefix}/users/{SESSION_IDENTITY}", "system": f"{prefix}/system"}


class RealtimeAccess(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: AskAroundMeConfig, issuer: JwtIssuer,
                 user_pool: cognito.IUserPool | None, user_pool_client: cognito.IUserPoolClient | None) -> None:
        super().__init__(scope, id_)
        self.endpoint = IotEndpoint(self, "DataEndpoint")

        if user_pool is not None:
            self.identities = SignedInIdentityPool(self, "Identities", user_pool=user_pool, client=user_pool_client,
                                                   role_description=ROLE_DESCRIPTION)
        else:
            # IAM holds one provider per URL per account: a second copy of the stack (another
            # region, another stage) names the existing one. Registered with the issuer URL
            # verbatim, as IAM compares it with the token's iss.
            self.oidc_provider = (
                iam.OidcProviderNative.from_oidc_provider_arn(self, "OidcProvider", config.oidc_provider_arn)
                if config.oidc_provider_arn else
                iam.OidcProviderNative(self, "OidcProvider", url=issuer.url, client_ids=list(issuer.audience)))
            self.identities = SignedInIdentityPool(self, "Identities", oidc_provider=self.oidc_provider,
                                                   role_description=ROLE_DESCRIPTION)
        self.access = BrowserIotAccess(
            self, "Browsers", identities=self.identities, login_provider=issuer.login_provider,
            data_endpoint=self.endpoint.address, client_id_prefix=config.topic_prefix,
            topics=topic_namespace(config.topic_prefix), session_topics=session_topics(config.topic_prefix),
            service_name=SERVICE_NAME, metrics_namespace=METRICS_NAMESPACE,
            log_retention_days=config.observability.log_retention_days,
            wildcard_reason="Browser clients pick their own client-id suffix and the geo and question topics they "
                            "follow; the wildcard stays inside the app's topic namespace and the caller's identity id.")
        self.iot_policy_name = self.access.iot_policy_name
        # POST /realtime/session, and the deploy-time function that detaches the policy.
        self.connect = self.access.session_function
        self.detach = self.access.detach
