"""Ask Around Me in Chromium against the local services: two users, live updates over MQTT."""


def test_a_star_answer_from_a_second_user_changes_the_askers_score_live(browser, askaroundme):
    result = browser.run("askaroundme", "starAnswerUpdatesTheAskersScoreLive", **askaroundme)
    assert result["summary"] == "★ 4.0 average, 1 answer"


def test_a_map_answer_from_a_second_user_appears_on_the_askers_heat_map(browser, askaroundme):
    result = browser.run("askaroundme", "geoAnswerAppearsOnTheAskersHeatMap", **askaroundme)
    assert "1 answer in area" in result["heat"]


def test_a_place_chosen_on_the_map_stands_in_for_a_refused_location(browser, askaroundme):
    result = browser.run("askaroundme", "aPlaceChosenOnTheMapStandsInForLocation", **askaroundme)
    assert "the place you chose" in result["note"]


def test_a_network_failure_is_shown_and_the_retry_succeeds(browser, askaroundme):
    result = browser.run("askaroundme", "networkFailureIsShownAndRetried", **askaroundme)
    assert "Could not reach" in result["message"]


def test_an_expired_session_asks_to_sign_in_again(browser, askaroundme):
    result = browser.run("askaroundme", "expiredSessionAsksToSignInAgain", **askaroundme)
    assert "session has expired" in result["message"]


def test_a_bad_configuration_names_the_key_at_fault(browser, askaroundme):
    result = browser.run("askaroundme", "aBadConfigurationNamesTheKeyAtFault", **askaroundme)
    assert result["message"].strip() == 'config.json: realtime.mode must be one of "iot", "local"'
