"""The robot viewer in Chromium against the local services: what the drive API is sent."""


def test_holding_a_control_repeats_its_command_and_releasing_it_stops(browser, robot):
    result = browser.run("robot", "holdingAControlRepeatsItAndReleasingStops", **robot)
    assert result["moves"] >= 3
    assert result["stops"] >= 1


def test_arrow_keys_drive_and_space_stops(browser, robot):
    result = browser.run("robot", "arrowKeysDriveAndSpaceStops", **robot)
    assert result["afterSpace"][0] == "forward"
    assert result["afterSpace"][-1] == "stop"


def test_the_stop_button_gets_through_while_a_move_is_stuck(browser, robot):
    result = browser.run("robot", "stopGetsThroughWhileAMoveIsStuck", **robot)
    assert result["commands"][0] == "forward"
    assert result["commands"][1] == "stop"


def test_refused_commands_are_shown_to_the_driver(browser, robot):
    result = browser.run("robot", "refusedCommandsAreShown", **robot)
    assert "could not be delivered" in result["moving"]


def test_telemetry_shows_the_robot_online_then_silent_after_two_intervals(browser, robot):
    result = browser.run("robot", "telemetryShowsOnlineThenSilent", **robot)
    assert result["silent"] == "Silent"


def test_the_video_is_a_clear_placeholder_locally(browser, robot):
    result = browser.run("robot", "videoIsAPlaceholderLocally", **robot)
    assert "Video is not available locally" in result["text"]


def test_a_network_failure_is_shown_to_the_driver(browser, robot):
    result = browser.run("robot", "networkFailureIsShown", **robot)
    assert "Could not reach" in result["moving"]


def test_an_expired_session_asks_to_sign_in_again(browser, robot):
    result = browser.run("robot", "expiredSessionAsksToSignInAgain", **robot)
    assert "session has expired" in result["message"]
