"""Radius search over the Questions table's cell index. Pure: no boto3, no I/O.

The Questions table carries a GSI partitioned by ``cell``: the precision-4
geohash of the question, or one of two polar partitions for questions at or
beyond latitude 80 (north or south). A search:

1. takes the bounding box of the 8 km circle (split in two at the antimeridian),
2. asks pygeohash for the precision-4 cells intersecting each box,
3. drops the cells whose nearest point is farther than the radius (exact
   spherical distance from the centre to the cell's lat/lng rectangle),
4. adds the polar partition when the circle reaches the polar cap,
5. queries each remaining cell, and keeps the questions whose haversine
   distance is within the radius, nearest first.

Between latitudes -65.8 and 65.8 the circle's bounding box is narrower than a
precision-4 cell in both directions, so it meets at most 2 x 2 cells: at most
4 queries, against the target of 9 (see docs/ask_around_me.md for figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

import pygeohash

from ..shared.cells import CELL_PRECISION, POLAR_CAP_LATITUDE, POLAR_NORTH, POLAR_SOUTH
from ..shared.http import BadRequest, shown
from ..shared.timestamps import iso
from ..shared.views import question_view

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
SEARCH_RADIUS_M = 8_000.0  # 5 miles
# Cells are kept when their nearest point is within radius + this margin, so
# that floating-point error can only add a cell, never drop one.
COVER_MARGIN_M = 1.0


def parse_search_params(params: Mapping[str, str] | None) -> tuple[float, float]:
    """Read ``lat`` and ``lng`` from the query string, or raise BadRequest."""
    params = params or {}
    return (
        _coordinate(params.get("lat"), "lat", -90.0, 90.0),
        _coordinate(params.get("lng"), "lng", -180.0, 180.0),
    )


def _coordinate(raw: str | None, name: str, low: float, high: float) -> float:
    if raw is None or raw.strip() == "":
        raise BadRequest(f"query parameter '{name}' is required")
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"query parameter '{name}' must be a number, got {shown(raw)}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"query parameter '{name}' must be between {low:g} and {high:g}, got {shown(raw)}")
    return value


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _angular_gap_deg(lng: float, min_lng: float, max_lng: float) -> float:
    """Smallest longitude difference from ``lng`` to the interval, wrapping at 180."""
    if min_lng <= lng <= max_lng:
        return 0.0

    def gap(a: float, b: float) -> float:
        return abs((a - b + 180.0) % 360.0 - 180.0)

    return min(gap(lng, min_lng), gap(lng, max_lng))


def min_distance_to_box_m(lat: float, lng: float, box: pygeohash.BoundingBox) -> float:
    """Exact spherical distance from a point to the nearest point of a lat/lng rectangle.

    For any latitude theta the nearest longitude of the rectangle is the one
    closest to ``lng`` (cosine falls with the longitude gap), so the distance
    depends on theta only through cos d = sin(phi) sin(theta) + cos(phi) cos(theta) cos(gap)
    = C cos(theta - theta*), whose maximum over [min_lat, max_lat] is at theta*
    when inside, else at an end.
    """
    phi = math.radians(lat)
    gap = math.radians(_angular_gap_deg(lng, box.min_lon, box.max_lon))
    a = math.sin(phi)
    b = math.cos(phi) * math.cos(gap)
    low, high = math.radians(box.min_lat), math.radians(box.max_lat)
    candidates = [low, high]
    theta_star = math.atan2(a, b)
    if low <= theta_star <= high:
        candidates.append(theta_star)
    best = max(a * math.sin(t) + b * math.cos(t) for t in candidates)
    return EARTH_RADIUS_M * math.acos(max(-1.0, min(1.0, best)))


def _boxes(lat: float, lng: float, radius_m: float, min_lat: float, max_lat: float) -> list[pygeohash.BoundingBox]:
    """Bounding boxes of the circle, clipped to [min_lat, max_lat], split at the antimeridian."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    south, north = max(lat - dlat, min_lat), min(lat + dlat, max_lat)
    if south > north:
        return []
    if lat + dlat >= 90.0 or lat - dlat <= -90.0:  # the circle holds a pole
        return [pygeohash.BoundingBox(south, -180.0, north, 180.0)]
    # Widest longitude extent of a spherical cap (reached slightly poleward of lat).
    dlng = math.degrees(math.asin(min(1.0, math.sin(radius_m / EARTH_RADIUS_M) / math.cos(math.radians(lat)))))
    west, east = lng - dlng, lng + dlng
    if west < -180.0:
        return [
            pygeohash.BoundingBox(south, west + 360.0, north, 180.0),
            pygeohash.BoundingBox(south, -180.0, north, east),
        ]
    if east > 180.0:
        return [
            pygeohash.BoundingBox(south, west, north, 180.0),
            pygeohash.BoundingBox(south, -180.0, north, east - 360.0),
        ]
    return [pygeohash.BoundingBox(south, west, north, east)]


def covering_geohashes(lat: float, lng: float, radius_m: float, precision: int,
                       min_lat: float = -90.0, max_lat: float = 90.0) -> list[str]:
    """Geohash cells of ``precision`` that hold some point within ``radius_m`` of the centre.

    Only cells overlapping the latitude band [min_lat, max_lat] are considered.
    Also used (with precision 5 and the full band) to pick the geohash topics a
    client subscribes to; see docs/ask_around_me.md.
    """
    cells: set[str] = set()
    for box in _boxes(lat, lng, radius_m, min_lat, max_lat):
        cells.update(pygeohash.geohashes_in_box(box, precision=precision))
    return sorted(
        cell for cell in cells
        if min_distance_to_box_m(lat, lng, pygeohash.get_bounding_box(cell)) <= radius_m + COVER_MARGIN_M
    )


def covering_cells(lat: float, lng: float, radius_m: float = SEARCH_RADIUS_M,
                   precision: int = CELL_PRECISION,
                   polar_cap_latitude: float = POLAR_CAP_LATITUDE) -> list[str]:
    """Partition keys of the cell index to query for a radius search (one query each)."""
    cells = covering_geohashes(lat, lng, radius_m, precision, -polar_cap_latitude, polar_cap_latitude)
    dlat = math.degrees((radius_m + COVER_MARGIN_M) / EARTH_RADIUS_M)
    if lat + dlat >= polar_cap_latitude:
        cells.append(POLAR_NORTH)
    if lat - dlat <= -polar_cap_latitude:
        cells.append(POLAR_SOUTH)
    return cells


def open_since(now: datetime, open_hours: float) -> str:
    """Sort-key lower bound: questions created at or after this instant are open."""
    return iso(now - timedelta(hours=open_hours))


@dataclass(frozen=True)
class Found:
    distance_m: float
    item: Mapping[str, Any]


def select_in_range(lat: float, lng: float, items: Iterable[Mapping[str, Any]],
                    radius_m: float = SEARCH_RADIUS_M, limit: int | None = None) -> list[Found]:
    """Questions within ``radius_m`` of the centre, nearest first (ties by id)."""
    found: dict[str, Found] = {}
    for item in items:
        distance = haversine_m(lat, lng, float(item["lat"]), float(item["lng"]))
        if distance <= radius_m:
            found[str(item["questionId"])] = Found(distance, item)
    ordered = sorted(found.values(), key=lambda f: (f.distance_m, str(f.item["questionId"])))
    return ordered if limit is None else ordered[:limit]


def question_summary(found: Found) -> dict[str, Any]:
    """The JSON shape of one listed question: the question and its distance from the centre."""
    return {**question_view(found.item), "distanceMeters": round(found.distance_m, 1)}
