"""``python -m local.token <client> [--user EMAIL] [--access]``: a token from the running local issuer.

Signs the user in to the web client's app client (as the browser would, through the sign-in
form) and prints the ID token (or the access token), for ``curl``::

    curl -H "Authorization: $(python -m local.token shortener)" http://localhost:8401/app
"""
from __future__ import annotations

import argparse
import sys

from local.oidc.client import CodeFlow, SignInFailed, http
from local.oidc.issuer import SEEDED_EMAILS
from local.settings import WEB_CLIENTS, Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token")
    parser.add_argument("client", choices=[client.name for client in WEB_CLIENTS])
    parser.add_argument("--user", default=SEEDED_EMAILS[0], help=f"one of {', '.join(SEEDED_EMAILS)}")
    parser.add_argument("--access", action="store_true", help="print the access token instead of the ID token")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ()
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    try:
        auth = http("GET", settings.url(settings.web_client(args.client).port_name, "/config.json")).json()["auth"]
    except OSError as error:
        print(f"python -m local does not answer ({error}): start it first (make local)", file=sys.stderr)
        return 1
    try:
        tokens = CodeFlow(auth["authority"], auth["clientId"], auth["redirectUri"]).tokens(args.user)
    except SignInFailed as error:
        print(f"Sign-in failed: {error}", file=sys.stderr)
        return 1
    print(tokens["access_token" if args.access else "id_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
