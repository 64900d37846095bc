# Mars weather display for the Adafruit PyPortal (CircuitPython 9).
#
# Every REFRESH_MINUTES it asks the Mars API (GET /mars, header x-api-key) for the latest
# rover photo and Mars weather, downloads the photo (a 320x240 8-bit BMP behind a
# presigned URL) and shows it with the weather as labels. Wi-Fi, API or photo problems
# show a readable error screen and are retried with backoff; nothing here lets an
# exception end the program.
#
# Settings come from settings.toml (os.getenv): CIRCUITPY_WIFI_SSID, CIRCUITPY_WIFI_PASSWORD,
# MARS_API_URL, MARS_API_KEY, REFRESH_MINUTES. The photo is stored on the SD card when one
# is inserted, else on the flash drive if code may write it (boot.py remounted it), else
# decoded into RAM as it downloads, one row at a time (see ram_image_bytes: about 98 KB
# free for the API's 320x240 photo; with less, only the weather is shown).
#
# The pure parts (read_settings, retry_delay, layout, error_layout) run on CPython too;
# tests import this file with fakes for the hardware modules.

import gc
import os
import time

import board
import displayio
import terminalio
from adafruit_display_text import label
from adafruit_pyportal import PyPortal

try:
    import bitmaptools  # copies a row into a Bitmap in C; most CircuitPython builds have it
except ImportError:
    bitmaptools = None

WIDTH = 320
HEIGHT = 240
RESPONSE_VERSION = 1

API_TIMEOUT_SECONDS = 30
IMAGE_TIMEOUT_SECONDS = 30
# The photo is the API's BMP: a 14-byte file header, a 40-byte BITMAPINFOHEADER, a
# 256-entry palette of 4 bytes each, then one byte per pixel, rows bottom-up.
BMP_HEADER_BYTES = 14 + 40
PALETTE_COLOURS = 256
# The largest photo accepted: the API's 320x240 BMP, 77,878 bytes (a test checks that the
# function never writes more).
MAX_IMAGE_BYTES = BMP_HEADER_BYTES + 4 * PALETTE_COLOURS + WIDTH * HEIGHT
DOWNLOAD_CHUNK = 4096
# RAM a displayio.Palette entry takes (CircuitPython's _displayio_color_t: 10 bytes, padded).
PALETTE_ENTRY_BYTES = 12
# Free RAM the in-memory photo leaves for what comes after it (the labels, the next
# request) and for fragmentation: a Bitmap needs one contiguous block.
RAM_HEADROOM_BYTES = 16 * 1024

DEFAULT_REFRESH_MINUTES = 30
MIN_REFRESH_MINUTES = 5
MAX_REFRESH_MINUTES = 24 * 60
FIRST_RETRY_SECONDS = 15
WIFI_ATTEMPTS = 3

SD_DIR = "/sd"
FLASH_DIR = "/"
IMAGE_FILES = ("mars_a.bmp", "mars_b.bmp")

# terminalio.FONT is 6x12 pixels per character at scale 1; labels get 2 px padding a side.
MARGIN = 4
CHARS_PER_LINE = (WIDTH - 2 * MARGIN - 4) // 6
CHARS_PER_BIG_LINE = (WIDTH - 2 * MARGIN - 4) // 12
LINE = 14
BIG_LINE = 26

ORANGE = 0xFFA040
WHITE = 0xFFFFFF
GREY = 0xB0B0B0
YELLOW = 0xFFD040
RED = 0xFF5050
BLACK = 0x000000

OK = "ok"
PARTIAL = "partial"
ERROR = "error"

ERROR_TITLES = {
    "settings": "Settings problem",
    "wifi": "Wi-Fi problem",
    "api": "Mars API problem",
    "image": "Photo problem",
    "internal": "Unexpected problem",
}
ERROR_HINTS = {
    "settings": "Edit settings.toml on the CIRCUITPY drive.",
    "wifi": "Check CIRCUITPY_WIFI_SSID and _PASSWORD.",
    "api": "Check MARS_API_URL and MARS_API_KEY.",
    "image": "The photo link may have expired.",
    "internal": "See the serial console for details.",
}


class Problem(Exception):
    """Something the user can act on; the message is shown on screen as is."""


# --- settings and schedule (pure) -----------------------------------------------------

def read_settings(getenv=os.getenv):
    """The display's settings from settings.toml, with problems listed instead of raised."""
    problems = []
    url = getenv("MARS_API_URL")
    key = getenv("MARS_API_KEY")
    if not url or not (str(url).startswith("https://") or str(url).startswith("http://")):
        problems.append("MARS_API_URL is missing or not a URL")
    if not key:
        problems.append("MARS_API_KEY is missing")
    minutes = getenv("REFRESH_MINUTES")
    try:
        minutes = int(minutes) if minutes is not None else DEFAULT_REFRESH_MINUTES
    except (TypeError, ValueError):
        problems.append("REFRESH_MINUTES must be a whole number")
        minutes = DEFAULT_REFRESH_MINUTES
    minutes = max(MIN_REFRESH_MINUTES, min(MAX_REFRESH_MINUTES, minutes))
    return {
        "api_url": str(url) if url else "",
        "api_key": str(key) if key else "",
        "refresh_seconds": minutes * 60,
        "problems": problems,
    }


def retry_delay(failures, refresh_seconds, first=FIRST_RETRY_SECONDS):
    """Seconds to wait: the refresh interval when all is well, else 15 s doubling up to it."""
    if failures <= 0:
        return refresh_seconds
    return min(refresh_seconds, first * 2 ** min(failures - 1, 16))


def describe_wait(seconds):
    if seconds < 120:
        return "%d s" % seconds
    return "%d min" % (seconds // 60)


def describe_error(error):
    message = str(error)
    name = type(error).__name__
    return "%s: %s" % (name, message) if message else name


# --- text helpers (pure) --------------------------------------------------------------

def ascii_text(value):
    """terminalio.FONT has ASCII glyphs only."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in str(value))


def clip(value, width):
    value = ascii_text(value)
    return value if len(value) <= width else value[:width - 3] + "..."


def wrap(value, width, max_lines):
    words = ascii_text(value).split()
    lines = []
    current = ""
    for word in words:
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = current + " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = clip(lines[-1] + " ...", width)
    return lines


def _get(mapping, *path):
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _num(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _fmt(value, pattern, missing="n/a"):
    value = _num(value)
    return missing if value is None else pattern % value


def _spec(key, text, x, y, scale=1, color=WHITE):
    width = CHARS_PER_BIG_LINE if scale > 1 else CHARS_PER_LINE
    return {"key": key, "text": clip(text, width), "x": x, "y": y, "scale": scale, "color": color}


# --- layouts (pure) -------------------------------------------------------------------

def weather_texts(weather):
    """The weather lines, keyed, from the response's ``weather`` object."""
    stale = " (old)" if weather.get("stale") else ""
    sol = _num(weather.get("sol"))
    headline = ("Sol %d" % sol if sol is not None else "Sol ?") + " " + str(weather.get("earth_date") or "")
    low = _get(weather, "temperature_c", "min")
    high = _get(weather, "temperature_c", "max")
    average = _get(weather, "temperature_c", "average")
    if _num(low) is not None or _num(high) is not None:
        temperature = "%s to %s" % (_fmt(low, "%.0fC"), _fmt(high, "%.0fC"))
    elif _num(average) is not None:
        temperature = "Avg %s" % _fmt(average, "%.0fC")
    else:
        temperature = "Temp n/a"
    speed = _get(weather, "wind", "speed_mps")
    direction = _get(weather, "wind", "direction")
    if _num(speed) is None and not direction:
        wind = "Wind n/a"
    else:
        wind = ("Wind %s %s" % (_fmt(speed, "%.1f m/s", ""), direction or "")).replace("  ", " ").strip()
    season = "Season %s" % (weather.get("season") or "n/a")
    if _num(weather.get("solar_longitude")) is not None:
        season += "  Ls %.0f" % weather["solar_longitude"]
    texts = [
        ("sol", headline.strip() + stale),
        ("temperature", temperature),
        ("pressure", "Pressure %s" % _fmt(weather.get("pressure_pa"), "%.0f Pa")),
        ("wind", wind),
        ("season", season),
    ]
    if weather.get("opacity"):
        texts.append(("sky", "Sky %s" % weather["opacity"]))
    return texts


def photo_text(image):
    parts = [str(image.get("rover") or "Rover"), str(image.get("camera") or "")]
    if _num(image.get("sol")) is not None:
        parts.append("sol %d" % image["sol"])
    if image.get("earth_date"):
        parts.append(str(image["earth_date"]))
    text = "Photo " + " ".join(part for part in parts if part)
    return text + (" (old)" if image.get("stale") else "")


def layout(data, image_problem=None, image_skipped=None):
    """Label specs (key, text, x, y, scale, color) for a version 1 response.

    ``image_problem``: why the photo could not be downloaded; ``image_skipped``: why it
    was not even tried (not enough memory)."""
    specs = []
    y = MARGIN
    weather = data.get("weather") if isinstance(data.get("weather"), dict) else None
    missing = data.get("missing") if isinstance(data.get("missing"), dict) else {}
    if weather is not None:
        for index, (key, text) in enumerate(weather_texts(weather)):
            big = index < 2
            specs.append(_spec(key, text, MARGIN, y, 2 if big else 1, ORANGE if index == 0 else WHITE))
            y += BIG_LINE if big else LINE
    else:
        specs.append(_spec("weather_missing", "No weather", MARGIN, y, 2, YELLOW))
        y += BIG_LINE
        reason = missing.get("weather") or "the API sent no weather"
        for number, line in enumerate(wrap(reason, CHARS_PER_LINE, 3)):
            specs.append(_spec("weather_reason_%d" % number, line, MARGIN, y, 1, YELLOW))
            y += LINE

    bottom = []
    image = data.get("image") if isinstance(data.get("image"), dict) else None
    if weather is not None and weather.get("station"):
        bottom.append(("station", "Weather " + str(weather["station"]), GREY))
    if image is not None and image_problem is None and image_skipped is None:
        bottom.append(("photo", photo_text(image), GREY))
    else:
        reason = image_problem or image_skipped or missing.get("image") or "the API sent no photo"
        prefix = "Photo download failed: " if image_problem else "No photo: "
        for number, line in enumerate(wrap(prefix + reason, CHARS_PER_LINE, 2)):
            bottom.append(("photo_reason_%d" % number, line, YELLOW))
    y = HEIGHT - MARGIN - LINE * len(bottom)
    for key, text, color in bottom:
        specs.append(_spec(key, text, MARGIN, y, 1, color))
        y += LINE
    return specs


def error_layout(kind, message, retry_seconds):
    """Label specs for the error screen."""
    specs = [_spec("error_title", ERROR_TITLES.get(kind, ERROR_TITLES["internal"]), MARGIN, MARGIN, 2, RED)]
    y = MARGIN + BIG_LINE + 4
    for number, line in enumerate(wrap(message, CHARS_PER_LINE, 7)):
        specs.append(_spec("error_message_%d" % number, line, MARGIN, y, 1, WHITE))
        y += LINE
    specs.append(_spec("error_hint", ERROR_HINTS.get(kind, ERROR_HINTS["internal"]),
                       MARGIN, HEIGHT - MARGIN - 2 * LINE, 1, GREY))
    specs.append(_spec("error_retry", "Retrying in " + describe_wait(retry_seconds),
                       MARGIN, HEIGHT - MARGIN - LINE, 1, GREY))
    return specs


# --- the photo in RAM (pure) ----------------------------------------------------------

class NotEnoughMemory(Problem):
    """The photo does not fit in RAM: the weather is shown without it, not retried sooner."""


def bits_per_value(value_count):
    """The bits displayio.Bitmap stores per pixel for ``value_count`` values (its own rule)."""
    bits = 1
    while (value_count - 1) >> bits:
        bits = bits * 2 if bits < 8 else bits + 8
    return bits


def bmp_row_bytes(width):
    return (width + 3) // 4 * 4


def ram_image_bytes(width, height, colours=PALETTE_COLOURS):
    """Free RAM needed to show a ``width`` x ``height`` photo without storage.

    What is allocated: the displayio.Bitmap (rows padded to 32-bit words), its Palette,
    the decoder's one-row buffer and one download chunk; plus RAM_HEADROOM_BYTES. The BMP
    itself is never held: it is decoded as it arrives (BmpDecoder). For the API's 320x240
    photo: 76,800 + 3,072 + 320 + 4,096 + 16,384 = 100,672 bytes (about 98 KB)."""
    bitmap = (width * bits_per_value(colours) + 31) // 32 * 4 * height
    return (bitmap + colours * PALETTE_ENTRY_BYTES + max(BMP_HEADER_BYTES, bmp_row_bytes(width))
            + DOWNLOAD_CHUNK + RAM_HEADROOM_BYTES)


def _u16(buffer, offset):
    return buffer[offset] | buffer[offset + 1] << 8


def _u32(buffer, offset):
    return _u16(buffer, offset) | _u16(buffer, offset + 2) << 16


class BmpDecoder:
    """Decodes the API's BMP while it downloads, straight into a displayio Bitmap and Palette.

    feed() takes the download's chunks as they come; only one row is buffered, so the
    photo needs RAM for its Bitmap, not for the file too (io.BytesIO would add a third
    copy: CircuitPython's copies a bytearray it is given). What OnDiskBitmap reads from a
    file, this reads from the stream: "BM", a 40-byte header, 8 bits per pixel, no
    compression, the palette at 54, rows bottom-up from the data offset."""

    def __init__(self, max_width, max_height, make_bitmap, make_palette):
        self.max_width = max_width
        self.max_height = max_height
        self._make_bitmap = make_bitmap
        self._make_palette = make_palette
        self.bitmap = None
        self.palette = None
        self.width = 0
        self.height = 0
        self._colours = 0
        self._buffer = bytearray(max(BMP_HEADER_BYTES, bmp_row_bytes(max_width)))
        self._view = memoryview(self._buffer)
        self._filled = 0
        self._need = BMP_HEADER_BYTES
        self._skip = 0
        self._entry = 0
        self._data_gap = 0
        self._row = 0
        self._step = self._header

    @property
    def done(self):
        return self.bitmap is not None and self._row == self.height

    def feed(self, chunk):
        view = memoryview(chunk)
        position = 0
        end = len(chunk)
        while position < end and not self.done:
            if self._skip:
                taken = min(self._skip, end - position)
                self._skip -= taken
                position += taken
                continue
            taken = min(self._need - self._filled, end - position)
            self._view[self._filled:self._filled + taken] = view[position:position + taken]
            self._filled += taken
            position += taken
            if self._filled == self._need:
                self._filled = 0
                self._step()

    def _header(self):
        header = self._buffer
        if header[0] != 0x42 or header[1] != 0x4D:  # "BM"
            raise Problem("The photo is not a BMP file.")
        data_offset = _u32(header, 10)
        width = _u32(header, 18)
        height = _u32(header, 22)  # a top-down BMP (negative height) reads as huge: refused
        colours = _u32(header, 46) or 256
        if _u32(header, 14) != 40 or _u16(header, 28) != 8 or _u32(header, 30) != 0:
            raise Problem("The photo is not an 8-bit uncompressed BMP.")
        if not (0 < width <= self.max_width and 0 < height <= self.max_height):
            raise Problem("The photo is %dx%d, larger than announced (%dx%d)."
                          % (width, height, self.max_width, self.max_height))
        if colours > PALETTE_COLOURS or data_offset < BMP_HEADER_BYTES + 4 * colours:
            raise Problem("The photo's palette is not one this display reads.")
        self.width, self.height, self._colours = width, height, colours
        self.palette = self._make_palette(colours)
        self.bitmap = self._make_bitmap(width, height, colours)
        self._data_gap = data_offset - BMP_HEADER_BYTES - 4 * colours
        self._need = 4
        self._step = self._palette_entry

    def _palette_entry(self):
        blue, green, red = self._buffer[0], self._buffer[1], self._buffer[2]
        self.palette[self._entry] = red << 16 | green << 8 | blue
        self._entry += 1
        if self._entry == self._colours:
            self._skip = self._data_gap
            self._need = bmp_row_bytes(self.width)
            self._step = self._pixel_row

    def _pixel_row(self):
        y = self.height - 1 - self._row  # rows are stored bottom-up
        if bitmaptools is not None:
            bitmaptools.arrayblit(self.bitmap, self._buffer, 0, y, self.width, y + 1)
        else:
            row = self._buffer
            bitmap = self.bitmap
            for x in range(self.width):
                bitmap[x, y] = row[x]
        self._row += 1


# --- the display (hardware through the PyPortal object) --------------------------------

def make_label(spec):
    return label.Label(terminalio.FONT, text=spec["text"], color=spec["color"], scale=spec["scale"],
                       background_color=BLACK, padding_left=2, padding_right=2, padding_top=1,
                       padding_bottom=1, anchor_point=(0.0, 0.0), anchored_position=(spec["x"], spec["y"]))


def _headers_of(response):
    headers = {}
    for name, value in response.headers.items():
        headers[name.lower()] = value
    return headers


class MarsDisplay:
    def __init__(self, portal, settings, sleep=time.sleep):
        self.portal = portal
        self.settings = settings
        self.sleep = sleep
        self.failures = 0
        self.image_id = None
        self.image_path = None
        self._storage = None
        # PortalBase's root_group holds its background group; ours go on top of it.
        self.image_group = displayio.Group()
        self.label_group = displayio.Group()
        portal.root_group.append(self.image_group)
        portal.root_group.append(self.label_group)

    # -- screen --

    def show_labels(self, specs):
        """Replace every label: nothing from the previous screen stays."""
        while len(self.label_group):
            self.label_group.pop()
        gc.collect()
        for spec in specs:
            self.label_group.append(make_label(spec))

    def clear_image(self):
        while len(self.image_group):
            self.image_group.pop()
        self.image_id = None
        self.image_path = None
        gc.collect()

    def show_message(self, text):
        self.show_labels([_spec("message", text, MARGIN, HEIGHT // 2 - BIG_LINE // 2, 2, ORANGE)])

    def next_delay(self):
        return retry_delay(self.failures, self.settings["refresh_seconds"])

    # -- one refresh --

    def refresh(self):
        """Fetch, download and show; returns OK, PARTIAL (no photo) or ERROR."""
        if self.settings["problems"]:
            return self._fail("settings", "; ".join(self.settings["problems"]))
        try:
            self.portal.network.connect(max_attempts=WIFI_ATTEMPTS)
        except Exception as error:  # noqa: BLE001 - shown on screen, retried later
            return self._fail("wifi", "Could not join the network. " + describe_error(error))
        try:
            data = self.fetch_data()
        except Problem as problem:
            return self._fail("api", str(problem))
        except Exception as error:  # noqa: BLE001
            return self._fail("api", "Request failed. " + describe_error(error))

        image_problem = None
        image_skipped = None
        image = data.get("image") if isinstance(data.get("image"), dict) else None
        if image is not None and image.get("url"):
            if image.get("id") is None or image.get("id") != self.image_id:
                try:
                    self.show_image(image)
                except NotEnoughMemory as short:
                    image_skipped = str(short)
                    self.clear_image()
                except Exception as error:  # noqa: BLE001
                    image_problem = str(error) if isinstance(error, Problem) else describe_error(error)
                    self.clear_image()
        else:
            self.clear_image()
        self.show_labels(layout(data, image_problem, image_skipped))
        if image_problem:
            self.failures += 1
            return PARTIAL
        self.failures = 0
        return OK

    def _fail(self, kind, message):
        self.failures += 1
        print("Mars display:", kind, message)
        self.clear_image()
        self.show_labels(error_layout(kind, message, self.next_delay()))
        return ERROR

    def fetch_data(self):
        response = self.portal.network.fetch(self.settings["api_url"],
                                             headers={"x-api-key": self.settings["api_key"]},
                                             timeout=API_TIMEOUT_SECONDS)
        try:
            status = response.status_code
            if status == 403:
                raise Problem("The API key was refused (HTTP 403). Check MARS_API_KEY.")
            if status == 429:
                raise Problem("Too many requests (HTTP 429): the usage plan's limit was reached.")
            if status != 200:
                raise Problem("The Mars API answered HTTP %d." % status)
            try:
                data = response.json()
            except ValueError:
                raise Problem("The Mars API answered with something that is not JSON.") from None
        finally:
            response.close()
        if not isinstance(data, dict) or data.get("version") != RESPONSE_VERSION:
            version = data.get("version") if isinstance(data, dict) else None
            raise Problem("Unsupported response version %r; update code.py." % (version,))
        return data

    # -- the photo --

    def _session(self):
        network = self.portal.network
        session = getattr(network, "requests", None)
        if session is None:
            # PortalBase sets network.requests only when connect() had to join the network;
            # after a soft reload the co-processor may still be joined.
            session = getattr(getattr(network, "_wifi", None), "requests", None)
        if session is None:
            raise Problem("The network is not ready.")
        return session

    def storage_dir(self):
        """Where photos go: the SD card, else writable flash, else None (decode in RAM)."""
        if self._storage is None:
            self._storage = ""
            try:
                if self.portal.peripherals.sd_check():
                    self._storage = SD_DIR
            except Exception:  # noqa: BLE001 - no card reader counts as no card
                pass
            if not self._storage and _writable(FLASH_DIR):
                self._storage = FLASH_DIR
        return self._storage or None

    def next_image_path(self):
        directory = self.storage_dir()
        if directory is None:
            return None
        for name in IMAGE_FILES:
            path = _join(directory, name)
            if path != self.image_path:
                return path
        return _join(directory, IMAGE_FILES[0])

    def show_image(self, image):
        path = self.next_image_path()
        if path is not None:
            with open(path, "wb") as sink:
                self.download(image["url"], sink.write)
            bitmap = displayio.OnDiskBitmap(path)
            grid = displayio.TileGrid(bitmap, pixel_shader=bitmap.pixel_shader)
        else:
            bitmap, palette = self.decode_in_ram(image)
            grid = displayio.TileGrid(bitmap, pixel_shader=palette)
        while len(self.image_group):
            self.image_group.pop()
        self.image_group.append(grid)
        self.image_id = image.get("id")
        self.image_path = path
        gc.collect()

    def decode_in_ram(self, image):
        """The photo as a Bitmap and Palette, decoded while it downloads (no SD card, no
        writable flash). Refused up front, with NotEnoughMemory, when RAM is short."""
        width = image.get("width") if isinstance(image.get("width"), int) else WIDTH
        height = image.get("height") if isinstance(image.get("height"), int) else HEIGHT
        if not (0 < width <= WIDTH and 0 < height <= HEIGHT):
            raise Problem("The photo is %sx%s, larger than the screen." % (width, height))
        # The photo on screen goes first: two photos never fit in RAM together.
        self.clear_image()
        needed = ram_image_bytes(width, height)
        free = gc.mem_free()
        if free < needed:
            raise NotEnoughMemory("not enough memory without an SD card (needs %d KB, %d KB free); "
                                  "insert an SD card." % (needed // 1024, free // 1024))
        decoder = BmpDecoder(width, height, displayio.Bitmap, displayio.Palette)
        try:
            self.download(image["url"], decoder.feed)
        except MemoryError:
            decoder = None
            gc.collect()
            raise NotEnoughMemory("not enough memory without an SD card (MemoryError); "
                                  "insert an SD card.") from None
        if not decoder.done:
            raise Problem("The photo ended before its last row.")
        return decoder.bitmap, decoder.palette

    def download(self, url, write):
        """GET ``url``, handing each chunk to ``write``; bounded in size."""
        gc.collect()
        response = self._session().get(url, stream=True, timeout=IMAGE_TIMEOUT_SECONDS)
        try:
            if response.status_code != 200:
                raise Problem("HTTP %d for the photo." % response.status_code)
            headers = _headers_of(response)
            length = int(headers.get("content-length") or 0)
            if length > MAX_IMAGE_BYTES:
                raise Problem("The photo is too large (%d bytes)." % length)
            received = 0
            for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK):
                received += len(chunk)
                if received > MAX_IMAGE_BYTES:
                    raise Problem("The photo is too large.")
                write(chunk)
                if length and received >= length:
                    break
            if length and received != length:
                raise Problem("The photo download stopped after %d of %d bytes." % (received, length))
        finally:
            response.close()

    # -- the loop --

    def run(self, cycles=None):
        done = 0
        while cycles is None or done < cycles:
            try:
                self.refresh()
            except Exception as error:  # noqa: BLE001 - a bug must not stop the display
                self._fail("internal", describe_error(error))
            done += 1
            if cycles is not None and done >= cycles:
                break
            self.sleep(self.next_delay())


def _join(directory, name):
    return directory.rstrip("/") + "/" + name


def _writable(directory):
    probe = _join(directory, ".mars_write_test")
    try:
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        os.remove(probe)
        return True
    except OSError:
        return False


def main(cycles=None, sleep=time.sleep, getenv=os.getenv):
    settings = read_settings(getenv)
    portal = PyPortal(status_neopixel=board.NEOPIXEL, default_bg=BLACK)
    display = MarsDisplay(portal, settings, sleep=sleep)
    display.show_message("Contacting Mars...")
    display.run(cycles)
    return display


if __name__ == "__main__":
    main()
