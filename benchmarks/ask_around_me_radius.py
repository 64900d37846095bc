"""Ask Around Me radius search: DynamoDB queries and items read per 8 km search, by geohash precision.

Runs the search code of lambda_src/ask_around_me/list_questions/logic.py (the
same cell cover the Lambda function queries) over random search points, and
prints for each precision:

- queries: index partitions queried per search (one DynamoDB Query each while
  a cell's open questions fit in one 1 MB page);
- items read: open questions in the queried cells, for a uniform density of
  open questions (``--density``, per km^2), i.e. density x area of the cells;
- in range: the questions actually within 8 km (density x area of the circle);
- read/in-range: the read amplification;
- RCU: eventually consistent read units per search at ``--item-bytes`` per
  projected item (each Query rounds up to 4 KB, half a unit per 4 KB).

Run:  python benchmarks/ask_around_me_radius.py [--searches 5000] [--density 1.0] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pygeohash

from lambda_src.ask_around_me.list_questions.logic import (
    CELL_PRECISION,
    EARTH_RADIUS_M,
    POLAR_CAP_LATITUDE,
    POLAR_NORTH,
    POLAR_SOUTH,
    SEARCH_RADIUS_M,
    covering_cells,
    covering_geohashes,
)

R_KM = EARTH_RADIUS_M / 1000.0
BANDS = [(0, 30), (30, 45), (45, 60), (60, 66), (66, 75), (75, 80), (80, 90)]


def cell_area_km2(cell: str) -> float:
    """Exact area of a lat/lng rectangle on the sphere.

    A polar partition holds every open question beyond the polar cap latitude,
    a region with next to no population: it is counted as a query but its
    items are not (a uniform density there would be meaningless).
    """
    if cell in (POLAR_NORTH, POLAR_SOUTH):
        return 0.0
    box = pygeohash.get_bounding_box(cell)
    return (R_KM ** 2 * math.radians(box.max_lon - box.min_lon)
            * (math.sin(math.radians(box.max_lat)) - math.sin(math.radians(box.min_lat))))


def circle_area_km2() -> float:
    return 2 * math.pi * R_KM ** 2 * (1 - math.cos(SEARCH_RADIUS_M / EARTH_RADIUS_M))


def random_point(rng: random.Random, low: float, high: float) -> tuple[float, float]:
    """Uniform over the area of the band |lat| in [low, high]."""
    s = rng.uniform(math.sin(math.radians(low)), math.sin(math.radians(high)))
    return rng.choice((1, -1)) * math.degrees(math.asin(s)), rng.uniform(-180.0, 180.0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(points, precision, density, item_bytes):
    queries, read, rcu = [], [], []
    for lat, lng in points:
        cells = covering_cells(lat, lng, precision=precision)
        queries.append(len(cells))
        items = [density * cell_area_km2(c) for c in cells]
        read.append(sum(items))
        rcu.append(sum(0.5 * max(1, math.ceil(n * item_bytes / 4096)) for n in items))
    in_range = density * circle_area_km2()
    return {
        "queries_mean": statistics.fmean(queries), "queries_p95": percentile(queries, 0.95),
        "queries_max": max(queries), "read_mean": statistics.fmean(read), "read_max": max(read),
        "in_range": in_range, "amplification": statistics.fmean(read) / in_range, "rcu_mean": statistics.fmean(rcu),
    }


def _queries(m: dict[str, float]) -> str:
    return f"{m['queries_mean']:.2f} / {m['queries_p95']} / {m['queries_max']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", type=int, default=3000, help="random search points per row")
    parser.add_argument("--density", type=float, default=1.0, help="open questions per km^2")
    parser.add_argument("--item-bytes", type=int, default=300, help="projected index item size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    print(f"8 km radius search; circle area {circle_area_km2():.1f} km^2; density {args.density:g} open "
          f"questions/km^2 ({args.density * circle_area_km2():.0f} in range per search); {args.searches} random "
          f"points per row\n")
    mid = [random_point(rng, 0, 60) for _ in range(args.searches)]
    header = (f"{'precision':>9} {'cell at 0 deg (km)':>19} {'queries mean/p95/max':>21} {'items read mean/max':>20} "
              f"{'read/in-range':>13} {'RCU/search':>10}")
    print("Latitudes -60..60, by index precision")
    print(header)
    for precision in (3, 4, 5, 6):
        box = pygeohash.get_bounding_box("s" * precision)
        width = R_KM * math.radians(box.max_lon - box.min_lon)
        height = R_KM * math.radians(box.max_lat - box.min_lat)
        m = measure(mid, precision, args.density, args.item_bytes)
        marker = "  <- chosen" if precision == CELL_PRECISION else ""
        size = f"{width:.1f} x {height:.1f}"
        read = f"{m['read_mean']:.0f} / {m['read_max']:.0f}"
        print(f"{precision:>9} {size:>19} {_queries(m):>21} {read:>20} {m['amplification']:>13.1f} "
              f"{m['rcu_mean']:>10.1f}{marker}")

    print(f"\nChosen precision {CELL_PRECISION} by latitude band (polar cap at |lat| >= {POLAR_CAP_LATITUDE:g}; "
          "items of the polar partitions not counted)")
    print(f"{'|lat| band':>10} {'queries mean/p95/max':>21} {'items read mean':>15} {'read/in-range':>13} "
          f"{'geo topics (p5) mean/max':>24}")
    for low, high in BANDS:
        points = [random_point(rng, low, high) for _ in range(max(200, args.searches // 5))]
        m = measure(points, CELL_PRECISION, args.density, args.item_bytes)
        topics = [len(covering_geohashes(lat, lng, SEARCH_RADIUS_M, 5)) for lat, lng in points]
        band = f"{low}-{high}"
        subscriptions = f"{statistics.fmean(topics):.1f} / {max(topics)}"
        print(f"{band:>10} {_queries(m):>21} {m['read_mean']:>15.0f} {m['amplification']:>13.1f} "
              f"{subscriptions:>24}")

    # The worst case is structural, not random: scan a fine latitude grid against cell-aligned longitudes.
    worst = (0, None)
    for i in range(0, 90_001, 7):
        lat = i / 1000.0
        for lng in (0.0, 1e-9, 0.3515625 - 1e-9, 0.17, 179.9999, -180.0):
            n = len(covering_cells(lat, lng))
            worst = max(worst, (n, (lat, lng)), key=lambda w: w[0])
    print(f"\nWorst case over a 0.007-degree latitude scan, all latitudes: {worst[0]} queries at {worst[1]}")


if __name__ == "__main__":
    main()
