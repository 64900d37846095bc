"""The local OpenID Connect issuer (Cognito user pools and hosted sign-in stand-in)."""
