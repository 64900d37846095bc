"""Pluggable photo and weather sources, each turning one NASA feed into a plain record.

Photo sources (``MARS_IMAGE_SOURCE``):

* ``curiosity_raw`` (default): ``{MSL_RAW_IMAGES_URL}`` = https://mars.nasa.gov/api/v1/raw_image_items/
  ``?condition_1=msl:mission&condition_2=<sol>:sol:gte&condition_3=<sol>:sol:lte&...`` -> ``{"items": [...]}``
* ``perseverance_raw``: ``{MARS_RSS_API_URL}`` = https://mars.nasa.gov/rss/api/
  ``?feed=raw_images&category=mars2020&feedtype=json&...`` -> ``{"images": [...]}``
* ``mars_rover_photos`` (the original post's API, archived in 2025):
  ``{NASA_API_URL}/mars-photos/api/v1/rovers/<rover>/photos?earth_date=...&api_key=...`` -> ``{"photos": [...]}``

Weather sources (``MARS_WEATHER_SOURCE``):

* ``msl_rems`` (default): ``{MARS_RSS_API_URL}?feed=weather&category=msl&feedtype=json`` -> ``{"soles": [...]}``
* ``mars2020_meda``: ``{MARS_RSS_API_URL}?feed=weather&category=mars2020&feedtype=json`` -> ``{"sols": [...]}``
* ``insight_weather`` (the original post's API; empty since InSight ended in December 2022):
  ``{NASA_API_URL}/insight_weather/?api_key=...&feedtype=json&ver=1.0`` -> ``{"sol_keys": [...], "<sol>": {...}}``

Photo sources walk back at most ``MAX_DAYS_BACK`` sols (Earth days for
``mars_rover_photos``), the latest included, one request each. Feeds that answer with
nothing usable raise :class:`SourceUnavailable`; transport failures raise
:class:`~.upstream.UpstreamError`. Both carry a reason fit for the response.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Protocol, TypeVar

from .config import Settings
from .upstream import Upstream

Step = TypeVar("Step")


class SourceUnavailable(Exception):
    """The feed answered, but with nothing usable; ``reason`` is fit for the response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Photo:
    url: str
    source: str
    rover: str
    camera: str
    sol: int | None
    taken_at: str | None
    earth_date: str | None
    credit: str


@dataclass(frozen=True)
class Weather:
    source: str
    station: str
    sol: int | None
    earth_date: str | None = None
    season: str | None = None
    solar_longitude: float | None = None
    temperature_min_c: float | None = None
    temperature_max_c: float | None = None
    temperature_average_c: float | None = None
    pressure_pa: float | None = None
    wind_speed_mps: float | None = None
    wind_direction: str | None = None
    opacity: str | None = None
    sunrise: str | None = None
    sunset: str | None = None
    uv_index: str | None = None
    first_utc: str | None = None
    last_utc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``weather`` object of response version 1."""
        return {
            "source": self.source,
            "station": self.station,
            "sol": self.sol,
            "earth_date": self.earth_date,
            "season": self.season,
            "solar_longitude": self.solar_longitude,
            "temperature_c": {"min": self.temperature_min_c, "max": self.temperature_max_c,
                              "average": self.temperature_average_c},
            "pressure_pa": self.pressure_pa,
            "wind": {"speed_mps": self.wind_speed_mps, "direction": self.wind_direction},
            "opacity": self.opacity,
            "sunrise": self.sunrise,
            "sunset": self.sunset,
            "uv_index": self.uv_index,
            "first_utc": self.first_utc,
            "last_utc": self.last_utc,
        }


class PhotoSource(Protocol):
    name: str
    what: str

    def latest(self, upstream: Upstream, *, max_days_back: int, today: date) -> Photo: ...


class WeatherSource(Protocol):
    name: str
    what: str

    def latest(self, upstream: Upstream) -> Weather: ...


# --- value helpers ---------------------------------------------------------------------

_MISSING_MARKERS = ("", "--", "n/a", "N/A", "null", "None")


def number(value: Any) -> float | None:
    """A finite float from a feed value; ``None`` for the feeds' many ways of saying "no data"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if value in _MISSING_MARKERS:
            return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    result = number(value)
    return int(result) if result is not None and result == int(result) else None


def text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    result = str(value).strip()
    return None if result in _MISSING_MARKERS else result


def _records(payload: Any, key: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise SourceUnavailable(f"{what}: unexpected JSON shape (no '{key}' list)")
    return [item for item in payload[key] if isinstance(item, dict)]


def _date_part(value: Any) -> str | None:
    found = text(value)
    return found[:10] if found and len(found) >= 10 else None


def _usable_url(value: Any) -> str | None:
    found = text(value)
    return found if found and found.lower().startswith(("http://", "https://")) else None


def _field(record: dict[str, Any], *path: str) -> Any:
    """``record[path[0]][path[1]]...``, or ``None`` where a level is missing or not an object."""
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class _Candidate:
    item: dict[str, Any]
    camera: str
    url: str
    full_frame: bool


def _best(candidates: Iterable[_Candidate], preference: tuple[str, ...]) -> _Candidate | None:
    """Full frames before subframes and downsampled frames, then by camera preference
    (unknown cameras last), then in feed order."""
    rank = {camera: index for index, camera in enumerate(preference)}
    ordered = sorted(enumerate(candidates),
                     key=lambda pair: (not pair[1].full_frame, rank.get(pair[1].camera, len(preference)), pair[0]))
    return ordered[0][1] if ordered else None


def _walk_back(steps: list[Step], page: Callable[[Step], list[dict[str, Any]]],
               pick: Callable[[list[dict[str, Any]]], Photo | None]) -> Photo | None:
    """The first photo ``pick`` finds on the pages of ``steps`` (newest first), one request per step."""
    for step in steps:
        photo = pick(page(step))
        if photo is not None:
            return photo
    return None


# --- photo sources ---------------------------------------------------------------------

class _RawImageFeed(ABC):
    """The raw-image feeds behind mars.nasa.gov's galleries: ask for the latest sol, then
    walk back sol by sol (the latest included, at most ``max_days_back``) for a frame."""

    name = ""
    what = ""
    rover = ""
    list_key = ""
    preference: tuple[str, ...] = ()

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @abstractmethod
    def latest_sol_query(self) -> dict[str, Any]:
        """The query for the feed's newest frames (its answer names the latest sol)."""

    @abstractmethod
    def sol_query(self, sol: int) -> dict[str, Any]:
        """The query for the frames of one sol."""

    @abstractmethod
    def candidate(self, item: dict[str, Any]) -> _Candidate | None:
        """The item as a photo to choose from, or ``None`` (a thumbnail, no usable URL)."""

    @abstractmethod
    def photo(self, chosen: _Candidate) -> Photo:
        """The chosen candidate as the display's photo."""

    def latest(self, upstream: Upstream, *, max_days_back: int, today: date) -> Photo:
        probe = _records(upstream.get_json(self.base_url, self.latest_sol_query(), what=self.what),
                         self.list_key, self.what)
        latest_sol = integer(probe[0].get("sol")) if probe else None
        if latest_sol is None:
            raise SourceUnavailable(f"{self.what} listed no images")
        sols = [sol for sol in range(latest_sol, latest_sol - max_days_back, -1) if sol >= 0]
        found = _walk_back(
            sols, lambda sol: _records(upstream.get_json(self.base_url, self.sol_query(sol), what=self.what),
                                       self.list_key, self.what),
            self._pick)
        if found is None:
            raise SourceUnavailable(f"no full-size {self.rover} photo in the last {len(sols)} sols "
                                    f"({sols[-1]}-{sols[0]})")
        return found

    def _pick(self, items: list[dict[str, Any]]) -> Photo | None:
        chosen = _best((found for found in map(self.candidate, items) if found is not None), self.preference)
        return self.photo(chosen) if chosen is not None else None


class CuriosityRawImages(_RawImageFeed):
    """Curiosity's raw-image feed (``/api/v1/raw_image_items/``), behind mars.nasa.gov's gallery.

    Each item: ``{"id", "sol", "imageid", "instrument", "url", "https_url", "date_taken",
    "is_thumbnail", "image_credit", ..., "extended": {"sample_type", "lmst", "bucket",
    "mast_az", "mast_el", "url_list", "contributor", "filter_name"}}``. The frame type sits
    under ``extended``: ``"full"``, ``"thumbnail"``, ``"subframe"``, ``"downsampled"``,
    ``"chemcam prc"``...; there is no top-level ``sample_type``.
    """

    name = "curiosity_raw"
    what = "Curiosity raw-image feed"
    rover = "Curiosity"
    list_key = "items"
    # Colour mast camera first, then navigation and hazard cameras (greyscale, always wide).
    preference = ("MAST_LEFT", "MAST_RIGHT", "NAV_LEFT_B", "NAV_RIGHT_B", "NAV_LEFT_A", "NAV_RIGHT_A",
                  "FHAZ_LEFT_B", "FHAZ_RIGHT_B", "RHAZ_LEFT_B", "RHAZ_RIGHT_B", "FHAZ_LEFT_A",
                  "FHAZ_RIGHT_A", "RHAZ_LEFT_A", "RHAZ_RIGHT_A", "MAHLI", "CHEMCAM_RMI", "MARDI")

    def latest_sol_query(self) -> dict[str, Any]:
        return {"order": "sol desc", "per_page": 1, "page": 0, "condition_1": "msl:mission"}

    def sol_query(self, sol: int) -> dict[str, Any]:
        return {"order": "date_taken desc", "per_page": 100, "page": 0, "condition_1": "msl:mission",
                "condition_2": f"{sol}:sol:gte", "condition_3": f"{sol}:sol:lte",
                "extended": "thumbnail::sample_type::noteq"}

    def candidate(self, item: dict[str, Any]) -> _Candidate | None:
        sample_type = (text(_field(item, "extended", "sample_type")) or "").lower()
        url = _usable_url(item.get("https_url")) or _usable_url(item.get("url"))
        if item.get("is_thumbnail") is True or sample_type == "thumbnail" or url is None:
            return None
        return _Candidate(item, text(item.get("instrument")) or "", url, full_frame=sample_type == "full")

    def photo(self, chosen: _Candidate) -> Photo:
        item = chosen.item
        return Photo(url=chosen.url, source=self.name, rover=self.rover, camera=chosen.camera or "unknown",
                     sol=integer(item.get("sol")), taken_at=text(item.get("date_taken")),
                     earth_date=_date_part(item.get("date_taken")),
                     credit=text(item.get("image_credit")) or "NASA/JPL-Caltech")


class PerseveranceRawImages(_RawImageFeed):
    """Perseverance's raw-image feed (mars.nasa.gov's RSS API, JSON flavour).

    Each image: ``{"imageid", "sol", "sample_type": "Full" | "Thumbnail" | ...,
    "camera": {"instrument", "filter_name", ...}, "image_files": {"small", "medium",
    "large", "full_res"}, "date_taken_utc", "date_taken_mars", "credit", "caption",
    "extended": {"dimension", "subframeRect", ...}, ...}``: here ``sample_type`` is
    top-level and capitalised.
    """

    name = "perseverance_raw"
    what = "Perseverance raw-image feed"
    rover = "Perseverance"
    list_key = "images"
    preference = ("MCZ_LEFT", "MCZ_RIGHT", "NAVCAM_LEFT", "NAVCAM_RIGHT", "FRONT_HAZCAM_LEFT_A",
                  "FRONT_HAZCAM_RIGHT_A", "REAR_HAZCAM_LEFT", "REAR_HAZCAM_RIGHT", "SUPERCAM_RMI",
                  "SHERLOC_WATSON", "SKYCAM")

    def _query(self, **extra: Any) -> dict[str, Any]:
        return {"feed": "raw_images", "category": "mars2020", "feedtype": "json", "page": 0,
                "order": "sol desc", **extra}

    def latest_sol_query(self) -> dict[str, Any]:
        return self._query(num=1)

    def sol_query(self, sol: int) -> dict[str, Any]:
        return self._query(num=100, condition_2=f"{sol}:sol:gte", condition_3=f"{sol}:sol:lte",
                           extended="sample_type::full,")

    def candidate(self, item: dict[str, Any]) -> _Candidate | None:
        sample_type = (text(item.get("sample_type")) or "").lower()
        # "large" is a ~1200 px JPEG: plenty for 320x240, far smaller than full_res PNGs.
        url = next(filter(None, (_usable_url(_field(item, "image_files", size))
                                 for size in ("large", "medium", "full_res", "small"))), None)
        if "thumbnail" in sample_type or url is None:
            return None
        return _Candidate(item, text(_field(item, "camera", "instrument")) or "", url,
                          full_frame=sample_type == "full")

    def photo(self, chosen: _Candidate) -> Photo:
        item = chosen.item
        return Photo(url=chosen.url, source=self.name, rover=self.rover, camera=chosen.camera or "unknown",
                     sol=integer(item.get("sol")), taken_at=text(item.get("date_taken_utc")),
                     earth_date=_date_part(item.get("date_taken_utc")),
                     credit=text(item.get("credit")) or "NASA/JPL-Caltech")


class MarsRoverPhotos:
    """The Mars Rover Photos API of the original post (api.nasa.gov; archived in 2025)."""

    name = "mars_rover_photos"
    what = "Mars Rover Photos API"
    preference = ("MAST", "NAVCAM", "FHAZ", "RHAZ", "MCZ_LEFT", "MCZ_RIGHT", "NAVCAM_LEFT",
                  "NAVCAM_RIGHT", "FRONT_HAZCAM_LEFT_A", "PANCAM")

    def __init__(self, base_url: str, rover: str, api_key: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.rover = rover
        self.api_key = api_key

    def latest(self, upstream: Upstream, *, max_days_back: int, today: date) -> Photo:
        url = f"{self.base_url}/mars-photos/api/v1/rovers/{self.rover}/photos"
        key = self.api_key()
        days = [today - timedelta(days=offset) for offset in range(max_days_back)]
        found = _walk_back(
            days, lambda day: _records(upstream.get_json(url, {"earth_date": day.isoformat(), "page": 1,
                                                              "api_key": key}, what=self.what),
                                       "photos", self.what),
            self._pick)
        if found is None:
            raise SourceUnavailable(f"no {self.rover.title()} photo in the last {len(days)} days "
                                    f"({days[-1].isoformat()} to {days[0].isoformat()})")
        return found

    def _pick(self, photos: list[dict[str, Any]]) -> Photo | None:
        # This API lists full frames only.
        chosen = _best((_Candidate(photo, text(_field(photo, "camera", "name")) or "", url, full_frame=True)
                        for photo in photos if (url := _usable_url(photo.get("img_src")))), self.preference)
        if chosen is None:
            return None
        photo = chosen.item
        return Photo(url=chosen.url, source=self.name,
                     rover=text(_field(photo, "rover", "name")) or self.rover.title(),
                     camera=chosen.camera or "unknown", sol=integer(photo.get("sol")), taken_at=None,
                     earth_date=_date_part(photo.get("earth_date")), credit="NASA/JPL-Caltech")


# --- weather sources -------------------------------------------------------------------

def _has_measurements(record: dict[str, Any]) -> bool:
    return any(number(record.get(key)) is not None for key in ("min_temp", "max_temp", "pressure"))


class _RssWeather:
    """The weather feeds on mars.nasa.gov's RSS API share one record shape."""

    name = ""
    what = ""
    station = ""
    category = ""
    list_key = ""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def latest(self, upstream: Upstream) -> Weather:
        payload = upstream.get_json(self.base_url, {"feed": "weather", "category": self.category,
                                                     "feedtype": "json"}, what=self.what)
        records = [record for record in _records(payload, self.list_key, self.what)
                   if integer(record.get("sol")) is not None and _has_measurements(record)]
        if not records:
            raise SourceUnavailable(f"{self.what} has no sols with measurements")
        record = max(records, key=lambda item: integer(item.get("sol")) or -1)
        return Weather(
            source=self.name, station=self.station, sol=integer(record.get("sol")),
            earth_date=_date_part(record.get("terrestrial_date")), season=text(record.get("season")),
            solar_longitude=number(record.get("ls")),
            temperature_min_c=number(record.get("min_temp")), temperature_max_c=number(record.get("max_temp")),
            pressure_pa=number(record.get("pressure")), wind_speed_mps=number(record.get("wind_speed")),
            wind_direction=text(record.get("wind_direction")), opacity=text(record.get("atmo_opacity")),
            sunrise=text(record.get("sunrise")), sunset=text(record.get("sunset")),
            uv_index=text(record.get("local_uv_irradiance_index")),
        )


class MslRemsWeather(_RssWeather):
    name = "msl_rems"
    what = "Curiosity REMS weather feed"
    station = "Curiosity REMS, Gale crater"
    category = "msl"
    list_key = "soles"


class Mars2020MedaWeather(_RssWeather):
    name = "mars2020_meda"
    what = "Perseverance MEDA weather feed"
    station = "Perseverance MEDA, Jezero crater"
    category = "mars2020"
    list_key = "sols"


class InsightWeather:
    """InSight's weather service of the original post; it lists no sols since the mission ended."""

    name = "insight_weather"
    what = "InSight weather API"
    station = "InSight, Elysium Planitia"

    def __init__(self, base_url: str, api_key: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def latest(self, upstream: Upstream) -> Weather:
        payload = upstream.get_json(f"{self.base_url}/insight_weather/",
                                    {"api_key": self.api_key(), "feedtype": "json", "ver": "1.0"}, what=self.what)
        if not isinstance(payload, dict) or not isinstance(payload.get("sol_keys"), list):
            raise SourceUnavailable(f"{self.what}: unexpected JSON shape (no 'sol_keys' list)")
        sols = [key for key in payload["sol_keys"] if isinstance(payload.get(str(key)), dict)]
        if not sols:
            raise SourceUnavailable(f"{self.what} reported no sols (InSight ended in December 2022)")
        key = str(sols[-1])
        record = payload[key]

        def stat(sensor: str, field: str) -> float | None:
            values = record.get(sensor)
            return number(values.get(field)) if isinstance(values, dict) else None

        wind = record.get("WD") if isinstance(record.get("WD"), dict) else {}
        common = wind.get("most_common") if isinstance(wind.get("most_common"), dict) else {}
        return Weather(
            source=self.name, station=self.station, sol=integer(key),
            earth_date=_date_part(record.get("Last_UTC")) or _date_part(record.get("First_UTC")),
            season=text(record.get("Season")),
            temperature_min_c=stat("AT", "mn"), temperature_max_c=stat("AT", "mx"),
            temperature_average_c=stat("AT", "av"), pressure_pa=stat("PRE", "av"),
            wind_speed_mps=stat("HWS", "av"), wind_direction=text(common.get("compass_point")),
            first_utc=text(record.get("First_UTC")), last_utc=text(record.get("Last_UTC")),
        )


def photo_source(settings: Settings, api_key: Callable[[], str]) -> PhotoSource:
    if settings.image_source == "perseverance_raw":
        return PerseveranceRawImages(settings.mars_rss_api_url)
    if settings.image_source == "mars_rover_photos":
        return MarsRoverPhotos(settings.nasa_api_url, settings.mars_rover_photos_rover, api_key)
    return CuriosityRawImages(settings.msl_raw_images_url)


def weather_source(settings: Settings, api_key: Callable[[], str]) -> WeatherSource:
    if settings.weather_source == "mars2020_meda":
        return Mars2020MedaWeather(settings.mars_rss_api_url)
    if settings.weather_source == "insight_weather":
        return InsightWeather(settings.nasa_api_url, api_key)
    return MslRemsWeather(settings.mars_rss_api_url)
