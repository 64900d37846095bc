"""Run device/pyportal/code.py on CPython: fakes for the hardware modules, installed at the edge.

The fakes go into ``sys.modules`` for one test (``monkeypatch.setitem``) under the names
code.py imports: ``board``, ``displayio``, ``terminalio``, ``adafruit_display_text.label``,
``adafruit_pyportal`` (whose network reaches a scripted :class:`FakeInternet`) and
``bitmaptools``; ``gc`` reports the free RAM the test sets (``Device.free_memory``).
code.py itself is loaded from its file, fresh for every test.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lambda_src.mars_weather.display_data.image import indexed_bmp

CODE_PY = Path(__file__).resolve().parents[2] / "device" / "pyportal" / "code.py"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mars"
API_KEY = "device-api-key-value"


# --- displayio and friends -------------------------------------------------------------

class Group:
    def __init__(self, *, scale: int = 1, x: int = 0, y: int = 0) -> None:
        self._items: list[Any] = []
        self.scale, self.x, self.y = scale, x, y

    def append(self, item: Any) -> None:
        if any(existing is item for existing in self._items):
            raise ValueError("Layer already in a group")
        self._items.append(item)

    def pop(self, index: int = -1) -> Any:
        return self._items.pop(index)

    def remove(self, item: Any) -> None:
        self._items.remove(item)

    def index(self, item: Any) -> int:
        return self._items.index(item)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def __contains__(self, item: Any) -> bool:
        return any(existing is item for existing in self._items)


class Palette:
    def __init__(self, count: int) -> None:
        self.colours = [0] * count

    def __setitem__(self, index: int, colour: int) -> None:
        self.colours[index] = colour

    def __getitem__(self, index: int) -> int:
        return self.colours[index]

    def __len__(self) -> int:
        return len(self.colours)


class Bitmap:
    """Stores one value per pixel, refusing what CircuitPython's Bitmap refuses."""

    def __init__(self, width: int, height: int, value_count: int) -> None:
        self.width, self.height, self.value_count = width, height, value_count
        self.values = bytearray(width * height)

    def __setitem__(self, index: tuple[int, int], value: int) -> None:
        x, y = index
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise IndexError("pixel coordinates out of bounds")
        if not 0 <= value < self.value_count:
            raise ValueError("pixel value requires too many bits")
        self.values[y * self.width + x] = value

    def __getitem__(self, index: tuple[int, int]) -> int:
        x, y = index
        return self.values[y * self.width + x]


class BitmapTools:
    """``bitmaptools.arrayblit``: values of ``data``, row by row, into the rectangle."""

    def __init__(self) -> None:
        self.blits = 0

    def arrayblit(self, bitmap: Bitmap, data: Any, x1: int = 0, y1: int = 0, x2: int | None = None,
                  y2: int | None = None, skip_index: int | None = None) -> None:
        self.blits += 1
        x2 = bitmap.width if x2 is None else x2
        y2 = bitmap.height if y2 is None else y2
        values = iter(data)
        for y in range(y1, y2):
            for x in range(x1, x2):
                bitmap[x, y] = next(values) % bitmap.value_count


class OnDiskBitmap:
    """Checks what CircuitPython's OnDiskBitmap checks first, then keeps the path."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as handle:
            header = handle.read(54)
        if header[:2] != b"BM":
            raise ValueError("Invalid BMP file")
        self.path = path
        self.width = int.from_bytes(header[18:22], "little")
        self.height = int.from_bytes(header[22:26], "little")
        self.pixel_shader = Palette(256)


class TileGrid:
    def __init__(self, bitmap: Any, *, pixel_shader: Any, x: int = 0, y: int = 0, **_: Any) -> None:
        self.bitmap, self.pixel_shader, self.x, self.y = bitmap, pixel_shader, x, y


class Label:
    def __init__(self, font: Any, *, text: str = "", color: int = 0xFFFFFF, scale: int = 1, **kwargs: Any) -> None:
        self.font, self.text, self.color, self.scale = font, text, color, scale
        self.anchored_position = kwargs.get("anchored_position")
        self.kwargs = kwargs


class FakeDisplay:
    width = 320
    height = 240

    def __init__(self) -> None:
        self.root_group: Any = None


# --- the network -----------------------------------------------------------------------

class FakeResponse:
    def __init__(self, status_code: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self._body = body
        self.headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.closed = False

    def json(self) -> Any:
        return json.loads(self._body.decode())  # ValueError on bad JSON, as adafruit_requests

    def iter_content(self, chunk_size: int = 1, decode_unicode: bool = False):
        for start in range(0, len(self._body), chunk_size):
            yield self._body[start:start + chunk_size]

    def close(self) -> None:
        self.closed = True


@dataclass
class Call:
    url: str
    headers: dict[str, str] | None
    timeout: float | None
    stream: bool = False


@dataclass
class FakeInternet:
    """What the PyPortal's network reaches: scripted answers per URL, in order."""

    wifi_failures: list[Exception] = field(default_factory=list)
    answers: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    connects: int = 0

    def answer(self, url: str, *answers: Any) -> None:
        """Queue answers for ``url`` (a FakeResponse or an exception); the last one repeats."""
        self.answers[url] = list(answers)

    def api(self, *bodies: Any) -> None:
        self.answer(API_URL, *[body if isinstance(body, (FakeResponse, Exception))
                               else FakeResponse(200, json.dumps(body).encode(),
                                                 {"Content-Type": "application/json"})
                               for body in bodies])

    def get(self, url: str, headers: dict[str, str] | None, timeout: float | None, stream: bool = False) -> Any:
        self.calls.append(Call(url, headers, timeout, stream))
        queue = self.answers.get(url)
        if not queue:
            return FakeResponse(404, b"not found")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def calls_to(self, url: str) -> list[Call]:
        return [call for call in self.calls if call.url == url]


class FakeSession:
    def __init__(self, internet: FakeInternet) -> None:
        self._internet = internet

    def get(self, url: str, *, headers: dict[str, str] | None = None, stream: bool = False, timeout: float = 60):
        return self._internet.get(url, headers, timeout, stream)


class FakeNetwork:
    def __init__(self, internet: FakeInternet) -> None:
        self._internet = internet
        self.requests: FakeSession | None = None
        self.connected = False

    def connect(self, max_attempts: int = 10) -> None:
        self._internet.connects += 1
        if self._internet.wifi_failures:
            error = self._internet.wifi_failures.pop(0) if len(self._internet.wifi_failures) > 1 \
                else self._internet.wifi_failures[0]
            raise error
        self.connected = True
        self.requests = FakeSession(self._internet)

    def fetch(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = 10):
        self.connect()
        return self._internet.get(url, headers, timeout)


class FakePeripherals:
    def __init__(self, sd_card: bool) -> None:
        self._sd_card = sd_card

    def sd_check(self) -> bool:
        return self._sd_card


@dataclass
class Device:
    internet: FakeInternet
    sd_card: bool = True
    free_memory: int = 150_000  # what gc.mem_free() answers
    portals: list[Any] = field(default_factory=list)
    tools: BitmapTools = field(default_factory=BitmapTools)


def fake_modules(device: Device) -> dict[str, types.ModuleType]:
    board = types.ModuleType("board")
    board.NEOPIXEL = "NEOPIXEL"
    board.DISPLAY = FakeDisplay()

    displayio = types.ModuleType("displayio")
    for cls in (Group, Palette, Bitmap, OnDiskBitmap, TileGrid):
        setattr(displayio, cls.__name__, cls)

    terminalio = types.ModuleType("terminalio")
    terminalio.FONT = object()

    display_text = types.ModuleType("adafruit_display_text")
    label_module = types.ModuleType("adafruit_display_text.label")
    label_module.Label = Label
    display_text.label = label_module

    class PyPortal:
        def __init__(self, *, status_neopixel: Any = None, default_bg: Any = 0x000000, **_: Any) -> None:
            self.display = board.DISPLAY
            self.root_group = Group()
            self.root_group.append(Group())  # PortalBase's background group
            self.display.root_group = self.root_group
            self.network = FakeNetwork(device.internet)
            self.peripherals = FakePeripherals(device.sd_card)
            self.status_neopixel = status_neopixel
            device.portals.append(self)

    pyportal = types.ModuleType("adafruit_pyportal")
    pyportal.PyPortal = PyPortal

    modules = {"board": board, "displayio": displayio, "terminalio": terminalio,
               "adafruit_display_text": display_text, "adafruit_display_text.label": label_module,
               "adafruit_pyportal": pyportal}
    tools = types.ModuleType("bitmaptools")
    tools.arrayblit = device.tools.arrayblit
    modules["bitmaptools"] = tools
    return modules


# --- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def internet() -> FakeInternet:
    return FakeInternet()


@pytest.fixture
def device(internet: FakeInternet) -> Device:
    return Device(internet)


@pytest.fixture
def code(device: Device, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """code.py loaded with the fakes; its SD card and flash drive are folders under tmp_path."""
    for name, module in fake_modules(device).items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("pyportal_code_under_test", CODE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "sd").mkdir()
    (tmp_path / "flash").mkdir()
    monkeypatch.setattr(module, "SD_DIR", str(tmp_path / "sd"))
    monkeypatch.setattr(module, "FLASH_DIR", str(tmp_path / "flash"))
    # A full collection per screen is cheap on the device, slow in a big test process.
    monkeypatch.setattr(module, "gc", types.SimpleNamespace(collect=lambda: None, mem_free=lambda: device.free_memory))
    return module


@pytest.fixture
def settings_toml() -> dict[str, str]:
    """What os.getenv would read from settings.toml."""
    return {"CIRCUITPY_WIFI_SSID": "home", "CIRCUITPY_WIFI_PASSWORD": "secret", "MARS_API_URL": API_URL,
            "MARS_API_KEY": API_KEY, "REFRESH_MINUTES": "30"}


@pytest.fixture
def run(code, settings_toml):
    """Run main() for ``cycles`` refreshes; returns (display, sleeps)."""

    def go(cycles: int = 1):
        sleeps: list[float] = []
        display = code.main(cycles=cycles, sleep=sleeps.append, getenv=settings_toml.get)
        return display, sleeps

    return go


# --- API responses -------------------------------------------------------------------------

PHOTO_URL = "https://mars-display-images.s3.eu-west-1.amazonaws.com/images/abc.bmp?X-Amz-Signature=1"
PHOTO_URL_2 = "https://mars-display-images.s3.eu-west-1.amazonaws.com/images/def.bmp?X-Amz-Signature=2"


def bmp_bytes(colour: tuple[int, int, int] = (180, 90, 40), size: tuple[int, int] = (320, 240),
              bottom: tuple[int, int, int] | None = None) -> bytes:
    """An 8-bit BMP as the API sends it (the function's own writer), ``bottom`` colouring the lower half."""
    photo = Image.new("RGB", size, colour)
    if bottom is not None:
        photo.paste(bottom, (0, size[1] // 2, size[0], size[1]))
    return indexed_bmp(photo.quantize(colors=16))


def good_response(**overrides: Any) -> dict[str, Any]:
    body = {
        "version": 1, "status": "complete", "generated_at": "2025-05-31T12:00:00Z",
        "next_refresh_at": "2025-05-31T13:00:00Z",
        "image": {"url": PHOTO_URL, "url_expires_at": "2025-05-31T14:00:00Z", "id": "abc", "width": 320,
                  "height": 240, "format": "bmp", "bits_per_pixel": 8, "bytes": 77878, "fit": "letterbox",
                  "source": "curiosity_raw", "rover": "Curiosity", "camera": "NAV_LEFT_B", "sol": 4500,
                  "earth_date": "2025-05-31", "taken_at": "2025-05-31T10:11:12.000Z",
                  "original_url": "https://mars.nasa.gov/msl-raw-images/x.JPG", "credit": "NASA/JPL-Caltech",
                  "fetched_at": "2025-05-31T12:00:00Z", "stale": False},
        "weather": {"source": "msl_rems", "station": "Curiosity REMS, Gale crater", "sol": 4499,
                    "earth_date": "2025-05-30", "season": "Month 7", "solar_longitude": 203.0,
                    "temperature_c": {"min": -78.0, "max": -12.0, "average": None}, "pressure_pa": 812.0,
                    "wind": {"speed_mps": None, "direction": None}, "opacity": "Sunny", "sunrise": "05:31",
                    "sunset": "17:44", "uv_index": "Moderate", "first_utc": None, "last_utc": None,
                    "fetched_at": "2025-05-31T12:00:00Z", "stale": False},
        "missing": {}, "warnings": [],
    }
    body.update(overrides)
    return body
