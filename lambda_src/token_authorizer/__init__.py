"""The suite's Lambda TOKEN authorizer for JWT access tokens of a third-party identity provider."""
