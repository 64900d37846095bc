"""The provider's keys: cached across invocations, refetched sparingly, served through outages."""
from __future__ import annotations

import socket
import time
import uuid

from lambda_src.token_authorizer.logic import DenyReason

from .conftest import JWKS_PATH, rsa_key
from .helpers import assert_refused

FLOOD = 200


def test_keys_are_fetched_once_for_many_invocations(authorizer):
    for _ in range(20):
        assert authorizer.bearer(authorizer.token()).reason is None

    assert authorizer.provider.server.requests == 1


def test_a_flood_of_unknown_kids_costs_at_most_one_refetch_per_cooldown(authorizer):
    authorizer.configure(JWKS_REFETCH_COOLDOWN_SECONDS="1")
    assert authorizer.bearer(authorizer.token()).reason is None
    time.sleep(1.1)  # the cooldown since the first fetch has passed

    tokens = [authorizer.token(kid=str(uuid.uuid4())) for _ in range(FLOOD)]

    started = time.monotonic()
    decisions = [authorizer.bearer(token) for token in tokens]
    elapsed = time.monotonic() - started

    assert {decision.reason for decision in decisions} == {DenyReason.UNKNOWN_KEY}
    assert authorizer.provider.server.requests == 2, "the first fetch, then one refetch for the whole flood"
    assert elapsed < 1.0, f"{FLOOD} refusals took {elapsed:.2f} s: the flood waited for the provider"


def test_unknown_kids_within_the_cooldown_cause_no_fetch(authorizer):
    assert authorizer.bearer(authorizer.token()).reason is None

    for _ in range(10):
        authorizer.bearer(authorizer.token(kid=str(uuid.uuid4())))

    assert authorizer.provider.server.requests == 1


def test_a_rotated_in_key_is_found_by_the_refetch_its_unknown_kid_triggers(authorizer):
    authorizer.configure(JWKS_REFETCH_COOLDOWN_SECONDS="1")
    assert authorizer.bearer(authorizer.token()).reason is None
    rotated = rsa_key("rsa-2")
    authorizer.provider.server.reset([*authorizer.provider.published(), rotated.public_jwk])
    time.sleep(1.1)

    assert authorizer.bearer(authorizer.token(rotated)).reason is None
    assert authorizer.provider.server.requests == 1  # the counter was reset with the rotation


def test_a_withdrawn_key_is_refused_once_the_cached_key_set_expires(authorizer):
    authorizer.configure(JWKS_CACHE_SECONDS="1")
    assert authorizer.bearer(authorizer.token()).reason is None
    authorizer.provider.server.reset([authorizer.provider.ec.public_jwk])  # rsa-1 withdrawn
    time.sleep(1.1)

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.UNKNOWN_KEY)


def test_an_outage_keeps_serving_the_cached_keys(authorizer):
    authorizer.configure(JWKS_CACHE_SECONDS="1")
    assert authorizer.bearer(authorizer.token()).reason is None
    authorizer.provider.server.mode = "down"
    time.sleep(1.1)  # the cached set is due for a refresh, which fails

    decisions = [authorizer.bearer(authorizer.token()) for _ in range(10)]

    assert {decision.reason for decision in decisions} == {None}
    assert authorizer.provider.server.requests == 2, "one failed refresh, then the cached set again"


def test_an_outage_before_any_keys_were_fetched_denies_without_raising(authorizer):
    authorizer.provider.server.mode = "down"

    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token()}"))

    assert [s["Effect"] for s in response["policyDocument"]["Statement"]] == ["Deny"]


def test_an_outage_without_keys_is_retried_once_per_cooldown_not_per_request(authorizer):
    authorizer.provider.server.mode = "down"

    decisions = [authorizer.bearer(authorizer.token()) for _ in range(20)]

    assert {decision.reason for decision in decisions} == {DenyReason.KEYS_UNAVAILABLE}
    assert authorizer.provider.server.requests == 1


def test_keys_are_fetched_once_the_provider_is_back_after_the_cooldown(authorizer):
    authorizer.configure(JWKS_REFETCH_COOLDOWN_SECONDS="1")
    authorizer.provider.server.mode = "down"
    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.KEYS_UNAVAILABLE)
    authorizer.provider.server.mode = "ok"
    time.sleep(1.1)

    assert authorizer.bearer(authorizer.token()).reason is None


def test_an_unreachable_provider_denies_without_raising(authorizer):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    authorizer.configure(JWKS_URL=f"http://127.0.0.1:{port}{JWKS_PATH}")

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.KEYS_UNAVAILABLE)


def test_a_slow_provider_is_given_up_on_at_the_fetch_timeout(authorizer):
    authorizer.provider.server.mode, authorizer.provider.server.delay_seconds = "slow", 5.0

    started = time.monotonic()
    decision = authorizer.bearer(authorizer.token())
    elapsed = time.monotonic() - started

    assert_refused(decision, DenyReason.KEYS_UNAVAILABLE)
    assert elapsed < 0.5 + 0.5, f"answered after {elapsed:.2f} s with a 0.5 s fetch timeout"


def test_a_provider_trickling_its_answer_is_cut_off_at_the_fetch_timeout(authorizer):
    # Every byte arrives within the socket timeout; only a deadline on the whole fetch ends it.
    authorizer.provider.server.mode, authorizer.provider.server.delay_seconds = "trickle", 0.05

    started = time.monotonic()
    decision = authorizer.bearer(authorizer.token())
    elapsed = time.monotonic() - started

    assert_refused(decision, DenyReason.KEYS_UNAVAILABLE)
    assert elapsed < 0.5 + 0.5, f"answered after {elapsed:.2f} s with a 0.5 s fetch timeout"


def test_a_key_set_with_no_usable_key_is_an_outage_not_a_crash(authorizer):
    authorizer.provider.server.reset([{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}])

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.KEYS_UNAVAILABLE)


def test_a_key_set_larger_than_the_cap_is_an_outage(authorizer):
    padding = {"kid": "padding", "kty": "oct", "use": "enc", "k": "A" * 300_000}
    authorizer.provider.server.reset([*authorizer.provider.published(), padding])

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.KEYS_UNAVAILABLE)
