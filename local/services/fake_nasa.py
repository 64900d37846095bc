"""A stand-in for NASA's feeds on loopback, serving fixtures in the feeds' own shapes.

The Mars function's default sources: Curiosity's raw images (``/api/v1/raw_image_items/``:
the latest sol with ``per_page=1``, a sol's items with ``condition_2=<sol>:sol:gte``) and the
REMS weather (``/rss/api/?feed=weather&category=msl``), plus the photo itself (a generated
JPEG). The item and record shapes are those of the feeds (as tests/mars_weather records them:
frame type under ``extended``, weather values as strings).
"""
from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

from PIL import Image

from local.httpserver import LocalServer, Request, Response

LATEST_SOL = 4500
MSL_RAW_PATH = "/api/v1/raw_image_items/"
RSS_PATH = "/rss/api/"
PHOTO_PATH = "/msl-raw-images/proj/msl/redops/ods/surface/sol/04500/opgs/edr/ncam/NLB_local.JPG"


def curiosity_item(sol: int, url: str, *, instrument: str = "NAV_LEFT_B", sample_type: str = "full") -> dict[str, Any]:
    """One item of ``raw_image_items``: every field at the top level but the frame type."""
    item_id = 1_500_000 + sol
    taken = (date.today() - timedelta(days=1)).isoformat()
    return {
        "id": item_id, "sol": sol, "imageid": f"NLB_{sol}_0813038955EDR_F1190000NCAM00100M_", "instrument": instrument,
        "url": url, "https_url": url, "mission": "msl", "date_taken": f"{taken}T10:11:12.000Z",
        "date_received": f"{taken}T11:12:08.000Z", "title": f"Sol {sol}: {instrument}",
        "description": "This image was taken by Curiosity.", "link": f"/raw_images/{item_id}",
        "image_credit": "NASA/JPL-Caltech", "is_thumbnail": sample_type == "thumbnail",
        "sample_type_sort": 1 if sample_type == "full" else 999,
        "extended": {"lmst": f"Sol-0{sol}M10:40:32.355", "bucket": "msl-raws", "url_list": url,
                     "contributor": "Team MSLICE", "filter_name": None, "sample_type": sample_type},
    }


def rems_sol(sol: int, **overrides: Any) -> dict[str, Any]:
    """One REMS record of the weather feed: every value a string, ``--`` when not measured."""
    record = {"id": str(sol), "terrestrial_date": (date.today() - timedelta(days=LATEST_SOL - sol + 1)).isoformat(),
              "sol": str(sol), "ls": "203", "season": "Month 7", "min_temp": "-78", "max_temp": "-12",
              "pressure": "812", "pressure_string": "Higher", "abs_humidity": "--", "wind_speed": "--",
              "wind_direction": "--", "atmo_opacity": "Sunny", "sunrise": "05:31", "sunset": "17:44",
              "local_uv_irradiance_index": "Moderate", "min_gts_temp": "-85", "max_gts_temp": "3"}
    record.update(overrides)
    return record


def photo_jpeg(width: int = 640, height: int = 480) -> bytes:
    photo = Image.new("RGB", (width, height), (190, 110, 60))
    for x in range(0, width, 8):  # some structure, so that the display's quantization has work to do
        for y in range(0, height, 8):
            photo.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class FakeNasa:
    """The fake feeds, listening on a free loopback port from construction."""

    def __init__(self) -> None:
        self._photo = photo_jpeg()
        self.server = LocalServer("fake-nasa", 0, self._handle).start()
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def function_environment(self) -> dict[str, str]:
        """The Mars function's variables that point its feeds here."""
        return {"MSL_RAW_IMAGES_URL": self.base_url + MSL_RAW_PATH, "MARS_RSS_API_URL": self.base_url + RSS_PATH,
                "NASA_API_URL": self.base_url}

    def _handle(self, request: Request) -> Response:
        query = {name: values[-1] for name, values in request.query.items()}
        photo_url = self.base_url + PHOTO_PATH
        if request.path == MSL_RAW_PATH and query.get("per_page") == "1":
            return _json({"items": [curiosity_item(LATEST_SOL, photo_url, sample_type="thumbnail")],
                          "more": True, "total": 1, "page": 0, "per_page": 1})
        if request.path == MSL_RAW_PATH and query.get("condition_2", "").endswith(":sol:gte"):
            sol = query["condition_2"].split(":")[0]
            items = [curiosity_item(LATEST_SOL, photo_url, sample_type="thumbnail"),
                     curiosity_item(LATEST_SOL, photo_url), curiosity_item(LATEST_SOL, photo_url,
                                                                             instrument="CHEMCAM_RMI")]
            found = items if sol == str(LATEST_SOL) else []
            return _json({"items": found, "more": False, "total": len(found), "page": 0, "per_page": 100})
        if request.path == RSS_PATH and query.get("feed") == "weather" and query.get("category") == "msl":
            return _json({"descriptions": {"disclaimer_en": "outreach data (local fixture)"},
                          "soles": [rems_sol(LATEST_SOL - 1), rems_sol(LATEST_SOL - 2, min_temp="-80")]})
        if request.path == PHOTO_PATH:
            return Response(200, self._photo, content_type="image/jpeg")
        return _json({"error": "not found"}, 404)


def _json(document: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(document), content_type="application/json")
