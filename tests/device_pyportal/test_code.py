"""device/pyportal/code.py on CPython: layout, refresh without stale labels, error screens, backoff."""
from __future__ import annotations

import json
import tomllib
import tracemalloc
from pathlib import Path

import pytest

from .conftest import API_KEY, API_URL, PHOTO_URL, PHOTO_URL_2, FakeResponse, bmp_bytes, good_response


def texts(display) -> dict[str, str]:
    return {label.text for label in display.label_group}


def text_list(display) -> list[str]:
    return [label.text for label in display.label_group]


def one_text(display, start: str) -> str:
    (found,) = [text for text in text_list(display) if text.startswith(start)]
    return found


@pytest.fixture
def good_day(internet):
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes(), {"Content-Type": "image/bmp"}))


# --- a good response -------------------------------------------------------------------------

def test_a_good_response_shows_every_weather_field_and_the_photo_source(good_day, run):
    display, _ = run()

    assert text_list(display) == [
        "Sol 4499 2025-05-30",
        "-78C to -12C",
        "Pressure 812 Pa",
        "Wind n/a",
        "Season Month 7  Ls 203",
        "Sky Sunny",
        "Weather Curiosity REMS, Gale crater",
        "Photo Curiosity NAV_LEFT_B sol 4500 2025-05-31",
    ]


def test_labels_stay_on_the_320_by_240_screen(good_day, run, code):
    display, _ = run()

    for label in display.label_group:
        x, y = label.anchored_position
        height = 12 * label.scale
        width = (len(label.text) * 6 + 4) * label.scale
        assert 0 <= x and x + width <= 320 + 2 * label.scale, label.text
        assert 0 <= y and y + height <= 240, label.text


def test_wind_is_shown_when_the_api_knows_it(internet, run):
    weather = good_response()["weather"] | {"wind": {"speed_mps": 7.2, "direction": "WNW"}}
    internet.api(good_response(weather=weather, image=None, missing={"image": "no photo today"}))

    display, _ = run()

    assert "Wind 7.2 m/s WNW" in texts(display)


def test_the_api_is_called_with_the_api_key_header_and_a_timeout(good_day, internet, run):
    run()

    (call,) = internet.calls_to(API_URL)
    assert call.headers == {"x-api-key": API_KEY}
    assert call.timeout and call.timeout <= 30


def test_the_photo_is_downloaded_to_the_sd_card_and_shown_under_the_labels(good_day, internet, run, device):
    display, _ = run()

    (download,) = internet.calls_to(PHOTO_URL)
    assert download.stream and download.timeout
    assert "x-api-key" not in (download.headers or {})  # the presigned URL needs no API key
    (grid,) = list(display.image_group)
    assert grid.bitmap.path.endswith("/sd/mars_a.bmp")
    assert (grid.bitmap.width, grid.bitmap.height) == (320, 240)
    root = device.portals[0].root_group
    assert root.index(display.image_group) < root.index(display.label_group)


def test_without_an_sd_card_the_photo_goes_to_writable_flash(good_day, device, run):
    device.sd_card = False

    display, _ = run()

    (grid,) = list(display.image_group)
    assert grid.bitmap.path.endswith("/flash/mars_a.bmp")


@pytest.fixture
def no_storage(device, code, monkeypatch, tmp_path):
    """No SD card and a flash drive code.py may not write: the photo can only go to RAM."""
    device.sd_card = False
    monkeypatch.setattr(code, "FLASH_DIR", str(tmp_path / "read-only-does-not-exist"))


RED, BLUE = (200, 30, 30), (30, 30, 200)


def shown_colour(grid, x: int, y: int) -> int:
    return grid.pixel_shader[grid.bitmap[x, y]]


@pytest.mark.parametrize("with_bitmaptools", [True, False], ids=["bitmaptools", "pixel by pixel"])
def test_without_writable_storage_the_photo_is_decoded_in_memory_the_right_way_up(
        internet, device, code, no_storage, run, monkeypatch, with_bitmaptools):
    if not with_bitmaptools:
        monkeypatch.setattr(code, "bitmaptools", None)  # a build without it
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes(RED, bottom=BLUE)))

    display, _ = run()

    (grid,) = list(display.image_group)
    assert (grid.bitmap.width, grid.bitmap.height) == (320, 240)
    assert not hasattr(grid.bitmap, "path")
    assert shown_colour(grid, 0, 0) == 0xC81E1E  # the top row is the last one in the file
    assert shown_colour(grid, 319, 239) == 0x1E1EC8
    assert (device.tools.blits > 0) == with_bitmaptools


def test_the_in_memory_photo_is_decoded_without_holding_the_file_in_ram(internet, device, no_storage, run):
    internet.api(good_response())
    photo = bmp_bytes(RED, bottom=BLUE)
    internet.answer(PHOTO_URL, FakeResponse(200, photo))

    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    bitmap = 320 * 240  # the fake Bitmap's one byte per pixel
    assert peak < bitmap + len(photo) // 2  # the photo was never copied whole (once would be 77,878)


def test_without_storage_and_short_of_memory_only_the_weather_is_shown(internet, device, code, no_storage, run):
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes()))
    device.free_memory = code.ram_image_bytes(320, 240) - 1

    display, sleeps = run(cycles=2)

    assert internet.calls_to(PHOTO_URL) == []
    assert len(display.image_group) == 0
    lines = text_list(display)
    assert lines[0] == "Sol 4499 2025-05-30"
    assert "No photo: not enough memory without an SD card" in " ".join(lines)
    assert sleeps == [1800]  # not a failure: retrying sooner would not find more RAM


def test_the_memory_needed_is_what_the_bitmap_palette_and_buffers_of_that_photo_take(code):
    bitmap = 320 * 240  # 8 bits per value for 256 colours, rows of 320 bytes are whole words
    palette = 256 * code.PALETTE_ENTRY_BYTES
    assert code.ram_image_bytes(320, 240) == (bitmap + palette + 320 + code.DOWNLOAD_CHUNK
                                              + code.RAM_HEADROOM_BYTES)
    # One pixel wider: a word more per Bitmap row, and a BMP row (the decoder's buffer) 4 bytes longer.
    assert code.ram_image_bytes(321, 240) - code.ram_image_bytes(320, 240) == 240 * 4 + 4


def test_the_memory_check_uses_the_size_of_the_announced_photo(internet, device, code, no_storage, run):
    small = good_response()["image"] | {"width": 160, "height": 120}
    internet.api(good_response(image=small))
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes(size=(160, 120))))
    device.free_memory = (code.ram_image_bytes(160, 120) + code.ram_image_bytes(320, 240)) // 2

    display, _ = run()

    (grid,) = list(display.image_group)
    assert (grid.bitmap.width, grid.bitmap.height) == (160, 120)


def test_a_photo_larger_than_announced_is_refused_in_memory(internet, device, code, no_storage, run):
    small = good_response()["image"] | {"width": 160, "height": 120}
    internet.api(good_response(image=small))
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes(size=(320, 240))))

    display, _ = run()

    assert len(display.image_group) == 0
    assert "larger than announced" in " ".join(text_list(display))


def test_running_out_of_memory_while_decoding_shows_the_weather_only(internet, device, code, no_storage, run,
                                                                     monkeypatch):
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes()))

    def fragmented(width: int, height: int, value_count: int):
        raise MemoryError("memory allocation failed, allocating 76800 bytes")

    monkeypatch.setattr(code.displayio, "Bitmap", fragmented)

    display, _ = run()

    assert len(display.image_group) == 0
    assert "No photo: not enough memory" in " ".join(text_list(display))


def test_a_new_photo_in_memory_replaces_the_old_one_instead_of_joining_it(internet, no_storage, run):
    internet.api(good_response(), good_response(image=good_response()["image"] | {"id": "def", "url": PHOTO_URL_2}))
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes(RED)))
    internet.answer(PHOTO_URL_2, FakeResponse(200, bmp_bytes(BLUE)))

    display, _ = run(cycles=2)

    (grid,) = list(display.image_group)
    assert shown_colour(grid, 160, 120) == 0x1E1EC8


# --- refreshing ------------------------------------------------------------------------------

def test_a_refresh_replaces_every_label_and_leaves_no_stale_one(internet, run):
    internet.api(good_response(),
                 good_response(weather=None, image=None,
                               missing={"weather": "Curiosity REMS weather feed: HTTP 500",
                                        "image": "no full-size Curiosity photo in the last 7 sols"}))
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes()))

    display, _ = run(cycles=2)

    assert text_list(display) == [
        "No weather",
        "Curiosity REMS weather feed: HTTP 500",
        "No photo: no full-size Curiosity photo in the last",
        "7 sols",
    ]


def test_refreshing_does_not_pile_up_groups_or_images(good_day, internet, run, device):
    internet.api(good_response(), good_response(image=good_response()["image"] | {"id": "def", "url": PHOTO_URL_2}))
    internet.answer(PHOTO_URL_2, FakeResponse(200, bmp_bytes((20, 20, 200))))

    display, _ = run(cycles=3)

    assert len(device.portals[0].root_group) == 3  # background, photo, labels
    assert len(display.image_group) == 1


def test_an_unchanged_photo_is_not_downloaded_again(good_day, internet, run):
    run(cycles=3)

    assert len(internet.calls_to(PHOTO_URL)) == 1
    assert len(internet.calls_to(API_URL)) == 3


def test_a_new_photo_goes_to_the_other_file_so_the_shown_one_is_never_overwritten(good_day, internet, run):
    internet.api(good_response(), good_response(image=good_response()["image"] | {"id": "def", "url": PHOTO_URL_2}))
    internet.answer(PHOTO_URL_2, FakeResponse(200, bmp_bytes((20, 20, 200))))

    display, _ = run(cycles=2)

    (grid,) = list(display.image_group)
    assert grid.bitmap.path.endswith("/sd/mars_b.bmp")


def test_all_is_well_means_waiting_the_refresh_interval(good_day, run):
    _, sleeps = run(cycles=3)

    assert sleeps == [1800, 1800]


# --- failures ---------------------------------------------------------------------------------

def test_a_wifi_failure_shows_the_wifi_error_screen(internet, run):
    internet.wifi_failures = [OSError("Maximum number of attempts reached when trying to connect to WiFi")]

    display, _ = run()

    lines = text_list(display)
    assert lines[0] == "Wi-Fi problem"
    assert "Maximum number of attempts reached" in " ".join(lines)
    assert lines[-1] == "Retrying in 15 s"
    assert len(display.image_group) == 0


def test_repeated_failures_back_off_exponentially_up_to_the_refresh_interval(internet, run, settings_toml):
    settings_toml["REFRESH_MINUTES"] = "5"
    internet.wifi_failures = [OSError("no AP")]

    _, sleeps = run(cycles=7)

    assert sleeps == [15, 30, 60, 120, 240, 300]


def test_after_a_failure_a_good_refresh_returns_to_the_normal_interval(internet, run):
    internet.api(TimeoutError("timed out"), good_response(image=None, missing={"image": "none"}))

    display, sleeps = run(cycles=3)

    assert sleeps == [15, 1800]
    assert text_list(display)[0] == "Sol 4499 2025-05-30"


def test_an_api_timeout_shows_the_api_error_screen_instead_of_crashing(internet, run):
    internet.api(OSError(116, "ETIMEDOUT"))

    display, _ = run()

    assert text_list(display)[0] == "Mars API problem"
    assert "ETIMEDOUT" in " ".join(text_list(display))


def test_a_refused_api_key_says_so(internet, run):
    internet.api(FakeResponse(403, b'{"message":"Forbidden"}'))

    display, _ = run()

    assert text_list(display)[0] == "Mars API problem"
    assert "API key was refused" in " ".join(text_list(display))


def test_an_api_answer_that_is_not_json_shows_the_error_screen(internet, run):
    internet.api(FakeResponse(200, b"<html>Bad gateway</html>"))

    display, _ = run()

    assert text_list(display)[0] == "Mars API problem"
    assert "not JSON" in " ".join(text_list(display))


def test_an_unknown_response_version_asks_for_new_code(internet, run):
    internet.api(good_response(version=2))

    display, _ = run()

    assert "Unsupported response version 2" in " ".join(text_list(display))


def test_a_failed_photo_download_keeps_the_weather_and_retries_sooner(internet, run):
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(403, b"<Error><Code>AccessDenied</Code></Error>"))

    display, sleeps = run(cycles=2)

    assert text_list(display)[0] == "Sol 4499 2025-05-30"
    assert one_text(display, "Photo download failed").startswith("Photo download failed: HTTP 403")
    assert len(display.image_group) == 0
    assert sleeps == [15]


def test_a_truncated_photo_download_is_not_shown(internet, run):
    internet.api(good_response())
    internet.answer(PHOTO_URL, FakeResponse(200, bmp_bytes()[:1000], {"Content-Length": "77878"}))

    display, _ = run()

    assert len(display.image_group) == 0
    assert "stopped after 1000 of 77878 bytes" in " ".join(text_list(display))


def test_missing_settings_show_the_settings_error_screen_without_touching_the_network(internet, run, settings_toml):
    del settings_toml["MARS_API_KEY"]

    display, _ = run()

    assert text_list(display)[0] == "Settings problem"
    assert "MARS_API_KEY is missing" in " ".join(text_list(display))
    assert internet.calls == [] and internet.connects == 0


# --- the pure parts ----------------------------------------------------------------------------

def test_the_backoff_schedule_doubles_from_15_seconds_and_is_capped(code):
    assert [code.retry_delay(n, 1800) for n in range(0, 10)] == [1800, 15, 30, 60, 120, 240, 480, 960, 1800, 1800]


def test_refresh_minutes_default_to_30_and_stay_within_bounds(code):
    assert code.read_settings({"MARS_API_URL": API_URL, "MARS_API_KEY": "k"}.get)["refresh_seconds"] == 1800
    assert code.read_settings({"REFRESH_MINUTES": 1}.get)["refresh_seconds"] == 300
    assert code.read_settings({"REFRESH_MINUTES": "nope"}.get)["problems"][-1].startswith("REFRESH_MINUTES")


def test_long_reasons_are_wrapped_to_the_screen_width(code):
    lines = code.wrap("word " * 60, code.CHARS_PER_LINE, 3)

    assert len(lines) == 3
    assert all(len(line) <= code.CHARS_PER_LINE for line in lines)
    assert lines[-1].endswith("...")


def test_text_outside_the_terminal_font_is_replaced(code):
    assert code.ascii_text("-80\u00b0C") == "-80?C"


def test_the_layout_of_a_stale_weather_report_says_it_is_old(code):
    weather = good_response()["weather"] | {"stale": True}

    specs = code.layout(good_response(weather=weather))

    assert specs[0]["text"] == "Sol 4499 2025-05-30 (old)"


def test_the_example_settings_name_every_setting_code_py_reads(code):
    with open(Path(code.__file__).with_name("settings.toml.example"), "rb") as handle:
        settings = tomllib.load(handle)

    assert {"CIRCUITPY_WIFI_SSID", "CIRCUITPY_WIFI_PASSWORD", "MARS_API_URL", "MARS_API_KEY",
            "REFRESH_MINUTES"} <= set(settings)
    assert json.dumps(settings)  # plain values only
