"""The browser subscribes to exactly the geohash topics the backend's radius search covers."""

import json
import random
import subprocess

from ask_around_me.list_questions.logic import SEARCH_RADIUS_M, covering_geohashes

from tests.web.conftest import NODE, ROOT


def _client_cover(centres: list[tuple[float, float]]) -> list[list[str]]:
    completed = subprocess.run([str(NODE), str(ROOT / "tests" / "web" / "geo_cover.mjs")], cwd=ROOT, check=True,
                               input=json.dumps(centres), capture_output=True, text=True, timeout=120)
    return json.loads(completed.stdout)


def test_the_clients_geo_topics_are_the_cells_the_backend_covers(built_clients):
    rng = random.Random(12)
    centres = [(rng.uniform(-66, 66), rng.uniform(-180, 180)) for _ in range(300)]
    # Edges: the antimeridian, the equator, a cell corner, near a pole.
    centres += [(0.0, 179.99), (0.0, -179.99), (0.0, 0.0), (47.63671875, -122.34375), (80.5, 10.0), (-89.9, 0.0)]
    client = _client_cover(centres)
    for (lat, lng), cells in zip(centres, client, strict=True):
        assert sorted(cells) == covering_geohashes(lat, lng, SEARCH_RADIUS_M, 5), (lat, lng)
