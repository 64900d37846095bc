"""The URL shortener dashboard in Chromium against the local services."""


def test_a_signed_in_user_creates_copies_edits_follows_and_deletes_a_link_and_signing_out_revokes_the_session(
        browser, shortener):
    result = browser.run("shortener", "createEditDeleteAndFollow", **shortener)
    assert result["afterDelete"]["status"] in (301, 302)
    assert result["refreshAfterSignOut"] == {"status": 400, "error": "invalid_grant"}


def test_links_are_listed_a_page_at_a_time(browser, shortener):
    result = browser.run("shortener", "listIsPaginated", **shortener)
    assert len(result["secondPage"]) >= 1


def test_a_taken_id_and_invalid_input_show_the_apis_messages(browser, shortener):
    result = browser.run("shortener", "takenIdAndInvalidInputShowClearErrors", **shortener)
    assert "already taken" in result["taken"]
    assert result["invalid"].startswith("Invalid request body")


def test_a_change_to_a_link_deleted_elsewhere_is_refused_with_a_reason(browser, shortener):
    result = browser.run("shortener", "refusedChangeIsExplained", **shortener)
    assert "You have no link with this id" in result["message"]


def test_a_network_failure_is_shown_and_the_retry_succeeds(browser, shortener):
    result = browser.run("shortener", "networkFailureIsShownAndRetried", **shortener)
    assert "Could not reach" in result["message"]


def test_an_expired_session_asks_to_sign_in_again(browser, shortener):
    result = browser.run("shortener", "expiredSessionAsksToSignInAgain", **shortener)
    assert "session has expired" in result["message"]


def test_an_expired_token_that_cannot_be_renewed_is_never_sent_and_the_user_is_asked_to_sign_in_again(browser,
                                                                                                      shortener):
    result = browser.run("shortener", "anExpiredTokenIsNeverSent", **shortener)
    assert "session has expired" in result["message"]
    assert result["grants"] == ["refresh_token"]


def test_an_expired_id_token_is_renewed_with_the_refresh_token_and_the_users_action_succeeds(browser, shortener):
    result = browser.run("shortener", "anExpiredIdTokenIsRenewedSilently", **shortener)
    assert result["grants"] == ["refresh_token"] and result["sentToApi"] >= 2
