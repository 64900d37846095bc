"""Compose the display data: cache first, then both sources in parallel, always an answer.

Cache: the composed record lives in memory (warm container) and in S3 (cold starts,
other containers) until its ``expires_at``: ``CACHE_TTL_SECONDS`` after it was composed,
or ``PARTIAL_CACHE_TTL_SECONDS`` when a part was missing or stale, so a NASA outage is
retried sooner but still not on every poll. The photo URL is signed anew on every
request, cache hit or not, so it is always valid for ``PRESIGNED_URL_EXPIRY_SECONDS``.

When a source fails, the part is ``null`` and ``missing`` says why; when an earlier
record had that part, it is carried forward with ``"stale": true`` and a warning instead.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, MutableMapping

from aws_lambda_powertools import Logger

from . import image as image_module
from .config import Settings
from .sources import Photo, PhotoSource, SourceUnavailable, WeatherSource, photo_source, weather_source
from .storage import StorageError, Store
from .upstream import FINISH_SECONDS, Upstream, UpstreamError

logger = Logger(child=True)

RESPONSE_VERSION = 1
RECORD_VERSION = 1
MAX_SOURCE_IMAGE_BYTES = 20 * 1024 * 1024

# Warm-container copy of the cached records, by cache name.
MEMORY_CACHE: dict[str, dict[str, Any]] = {}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def is_fresh(record: Any, name: str, now: datetime) -> bool:
    if not isinstance(record, dict) or record.get("record_version") != RECORD_VERSION:
        return False
    if record.get("cache_name") != name:
        return False
    expires = parse_iso(record.get("expires_at"))
    return expires is not None and now < expires


def display_data(settings: Settings, *, store: Store, upstream: Upstream, api_key: Callable[[], str],
                 now: datetime, memory: MutableMapping[str, dict[str, Any]] = MEMORY_CACHE
                 ) -> tuple[dict[str, Any], str]:
    """The response body (version 1) and where it came from: ``memory``, ``s3`` or ``upstream``."""
    name = settings.cache_name
    record = memory.get(name)
    if is_fresh(record, name, now):
        return body_from_record(record, settings=settings, store=store, now=now), "memory"

    stored = store.read_record(name)
    if is_fresh(stored, name, now):
        memory[name] = stored  # type: ignore[assignment]
        return body_from_record(stored, settings=settings, store=store, now=now), "s3"  # type: ignore[arg-type]

    previous = stored if isinstance(stored, dict) and stored.get("record_version") == RECORD_VERSION else record
    record = compose(settings, store=store, upstream=upstream,
                     photos=photo_source(settings, api_key), weather=weather_source(settings, api_key),
                     now=now, previous=previous)
    store.write_record(name, record)
    memory[name] = record
    return body_from_record(record, settings=settings, store=store, now=now), "upstream"


def compose(settings: Settings, *, store: Store, upstream: Upstream, photos: PhotoSource,
            weather: WeatherSource, now: datetime, previous: dict[str, Any] | None) -> dict[str, Any]:
    """Fetch both parts (in parallel, under the upstream deadline) into a cache record."""
    previous_image = (previous or {}).get("image")
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mars")
    try:
        image_future = pool.submit(_image_part, photos, upstream, store, settings, now, previous_image)
        weather_future = pool.submit(_weather_part, weather, upstream, now)
        # Upstream calls end at the deadline; converting and storing the photo may take
        # FINISH_SECONDS more. A part still running then is reported late, not waited for.
        wait([image_future, weather_future], timeout=upstream.deadline.remaining() + FINISH_SECONDS)
        image, image_reason = _outcome(image_future, f"{photos.what}: the photo took too long, "
                                                     "the time budget ran out")
        weather_part, weather_reason = _outcome(weather_future, f"{weather.what}: took too long, "
                                                                "the time budget ran out")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    missing: dict[str, str] = {}
    warnings: list[str] = []
    if image is None:
        image = _carried_forward(previous_image, store)
        if image is None:
            missing["image"] = image_reason or "no photo"
        else:
            warnings.append(f"image: {image_reason}; showing the photo fetched at {image.get('fetched_at')}")
    if weather_part is None:
        weather_part = _carried_forward((previous or {}).get("weather"), None)
        if weather_part is None:
            missing["weather"] = weather_reason or "no weather"
        else:
            warnings.append(f"weather: {weather_reason}; showing the report fetched at "
                            f"{weather_part.get('fetched_at')}")

    degraded = bool(missing or warnings)
    ttl = min(settings.cache_ttl_seconds, settings.partial_cache_ttl_seconds) if degraded \
        else settings.cache_ttl_seconds
    return {
        "record_version": RECORD_VERSION,
        "cache_name": settings.cache_name,
        "generated_at": iso(now),
        "expires_at": iso(now + timedelta(seconds=ttl)),
        "image": image,
        "weather": weather_part,
        "missing": missing,
        "warnings": warnings,
    }


def _outcome(future: Future, late_reason: str) -> tuple[dict[str, Any] | None, str | None]:
    if not future.done():
        logger.warning("a part was not ready in time", extra={"reason": late_reason})
        return None, late_reason
    return future.result()


def _image_part(photos: PhotoSource, upstream: Upstream, store: Store, settings: Settings, now: datetime,
                previous: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    try:
        photo = photos.latest(upstream, max_days_back=settings.max_days_back, today=today_utc(now))
        if isinstance(previous, dict) and previous.get("original_url") == photo.url \
                and isinstance(previous.get("s3_key"), str) and store.image_exists(previous["s3_key"]):
            # Same photo as last time: keep the converted copy, skip download and conversion.
            return {**previous, "fetched_at": iso(now), "stale": False}, None
        raw = upstream.get_bytes(photo.url, what=f"{photo.rover} photo download", max_bytes=MAX_SOURCE_IMAGE_BYTES)
        bmp = image_module.to_display_bmp(raw)
        key = store.put_image(bmp, image_module.CONTENT_TYPE)
        return _image_record(photo, key=key, size=len(bmp), now=now), None
    except (UpstreamError, SourceUnavailable, image_module.ImageConversionError, StorageError) as error:
        logger.warning("photo unavailable", extra={"reason": error.reason})
        return None, error.reason
    except Exception:
        logger.exception("preparing the photo failed")
        return None, "internal error while preparing the photo"


def _weather_part(weather: WeatherSource, upstream: Upstream, now: datetime
                  ) -> tuple[dict[str, Any] | None, str | None]:
    try:
        report = weather.latest(upstream)
        return {**report.to_dict(), "fetched_at": iso(now), "stale": False}, None
    except (UpstreamError, SourceUnavailable) as error:
        logger.warning("weather unavailable", extra={"reason": error.reason})
        return None, error.reason
    except Exception:
        logger.exception("reading the weather failed")
        return None, "internal error while reading the weather"


def _image_record(photo: Photo, *, key: str, size: int, now: datetime) -> dict[str, Any]:
    return {
        "s3_key": key,
        "id": key.rsplit("/", 1)[-1].removesuffix(".bmp")[:16],
        "width": image_module.WIDTH,
        "height": image_module.HEIGHT,
        "format": "bmp",
        "bits_per_pixel": 8,
        "bytes": size,
        "fit": image_module.FIT,
        "source": photo.source,
        "rover": photo.rover,
        "camera": photo.camera,
        "sol": photo.sol,
        "earth_date": photo.earth_date,
        "taken_at": photo.taken_at,
        "original_url": photo.url,
        "credit": photo.credit,
        "fetched_at": iso(now),
        "stale": False,
    }


def _carried_forward(part: Any, store: Store | None) -> dict[str, Any] | None:
    if not isinstance(part, dict):
        return None
    if store is not None:
        key = part.get("s3_key")
        # The bucket's lifecycle rule may have removed an old photo by now.
        if not isinstance(key, str) or not store.image_exists(key):
            return None
    return {**part, "stale": True}


def body_from_record(record: dict[str, Any], *, settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    """Response version 1 from a cache record; the photo URL is signed here, per request."""
    missing = dict(record.get("missing") or {})
    image = None
    if isinstance(record.get("image"), dict):
        stored = dict(record["image"])
        key = stored.pop("s3_key", None)
        try:
            if not isinstance(key, str):
                raise StorageError("the cached photo has no object key")
            url = store.presign(key, settings.presigned_url_expiry_seconds)
        except StorageError as error:
            missing["image"] = error.reason
        else:
            image = {"url": url,
                     "url_expires_at": iso(now + timedelta(seconds=settings.presigned_url_expiry_seconds)),
                     **stored}
    weather = record.get("weather") if isinstance(record.get("weather"), dict) else None
    return _body(generated_at=record.get("generated_at"), next_refresh_at=record.get("expires_at"),
                 image=image, weather=weather, missing=missing, warnings=list(record.get("warnings") or []))


def unavailable_body(now: datetime, reason: str) -> dict[str, Any]:
    """The answer when nothing could be composed at all (still a 200 for the device)."""
    return _body(generated_at=iso(now), next_refresh_at=iso(now + timedelta(minutes=5)), image=None,
                 weather=None, missing={"image": reason, "weather": reason}, warnings=[])


def _body(*, generated_at: Any, next_refresh_at: Any, image: dict[str, Any] | None,
          weather: dict[str, Any] | None, missing: dict[str, str], warnings: list[str]) -> dict[str, Any]:
    stale = any(isinstance(part, dict) and part.get("stale") for part in (image, weather))
    if image is not None and weather is not None and not stale:
        status = "complete"
    elif image is None and weather is None:
        status = "unavailable"
    else:
        status = "partial"
    return {
        "version": RESPONSE_VERSION,
        "status": status,
        "generated_at": generated_at,
        "next_refresh_at": next_refresh_at,
        "image": image,
        "weather": weather,
        "missing": missing,
        "warnings": warnings,
    }


def today_utc(now: datetime) -> date:
    return now.astimezone(timezone.utc).date()
