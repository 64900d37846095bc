"""The web clients' runtime configuration (``config.json``): the shapes web/README.md documents.

Plain values in, plain dicts out, no CDK: the stacks fill them with deploy-time tokens
(stacks/common/static_site.py) and ``make local`` with its loopback services (local/web.py), so
both write the same document.
"""
from __future__ import annotations

from typing import Any, Mapping

SIGN_IN_SCOPE = "openid email profile"


def callback_url(site_url: str) -> str:
    """Where the identity provider sends the browser back with the authorization code."""
    return f"{site_url}/callback"


def sign_out_url(site_url: str) -> str:
    """Where the identity provider sends the browser after signing out."""
    return f"{site_url}/"


def sign_in_config(*, authority: str, client_id: str, site_url: str,
                   revocation_endpoint: str | None = None) -> dict[str, Any]:
    """The ``auth`` block every client reads: an OIDC authorization-code flow with PKCE against
    ``authority`` (the issuer; for Cognito ``https://cognito-idp.<region>.amazonaws.com/<pool>``,
    whose discovery document points at the hosted domain), the ID token sent to the API.

    ``revocation_endpoint``: where signing out revokes the refresh token. Cognito's discovery
    document does not name its ``/oauth2/revoke``, so a stack with a hosted domain gives it
    (``cognito_revocation_endpoint``); None leaves it to the provider's discovery document."""
    return {"authority": authority, "clientId": client_id, "redirectUri": callback_url(site_url),
            "postLogoutRedirectUri": sign_out_url(site_url), "scope": SIGN_IN_SCOPE, "idTokenForApi": True,
            "revocationEndpoint": revocation_endpoint}


def cognito_revocation_endpoint(hosted_domain_url: str) -> str:
    """Cognito's token revocation endpoint on the user pool's hosted domain."""
    return f"{hosted_domain_url}/oauth2/revoke"


def shortener_config(*, auth: Mapping[str, Any], api_url: str, short_link_base: str) -> dict[str, Any]:
    return {"auth": dict(auth), "apiUrl": api_url, "shortLinkBase": short_link_base}


def ask_around_me_config(*, auth: Mapping[str, Any], api_url: str, region: str, identity_pool_id: str | None,
                         realtime_mode: str, realtime_url: str, tiles_url: str,
                         tiles_attribution: str) -> dict[str, Any]:
    return {"auth": dict(auth), "apiUrl": api_url, "region": region, "identityPoolId": identity_pool_id,
            "realtime": {"mode": realtime_mode, "url": realtime_url},
            "tiles": {"url": tiles_url, "attribution": tiles_attribution}}


def robot_config(*, auth: Mapping[str, Any], api_url: str, region: str, identity_pool_id: str | None,
                 signaling_channel_arn: str | None, telemetry_mode: str, telemetry_url: str,
                 telemetry_session_url: str, telemetry_topic: str, telemetry_interval_seconds: int) -> dict[str, Any]:
    return {"auth": dict(auth), "apiUrl": api_url, "region": region, "identityPoolId": identity_pool_id,
            "signalingChannelArn": signaling_channel_arn,
            "telemetry": {"mode": telemetry_mode, "url": telemetry_url, "sessionUrl": telemetry_session_url,
                          "topic": telemetry_topic,
                          "intervalSeconds": telemetry_interval_seconds}}
