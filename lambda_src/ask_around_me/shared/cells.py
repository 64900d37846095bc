"""The Questions table's cell index: which partition a question lives in. Pure: no boto3.

save_question writes ``cell`` with :func:`index_cell`; list_questions queries the same
partitions (precision-4 geohash cells, and one partition per polar cap).
"""

from __future__ import annotations

import pygeohash

CELL_PRECISION = 4
# Questions at or beyond this latitude live in one partition per pole, so that
# a search near a pole never fans out over hundreds of thin precision-4 cells.
POLAR_CAP_LATITUDE = 80.0
POLAR_NORTH = "polar-north"
POLAR_SOUTH = "polar-south"


def index_cell(lat: float, lng: float) -> str:
    """Partition key of the cell index: precision-4 geohash, or a polar partition."""
    if lat >= POLAR_CAP_LATITUDE:
        return POLAR_NORTH
    if lat <= -POLAR_CAP_LATITUDE:
        return POLAR_SOUTH
    return pygeohash.encode(lat, lng, precision=CELL_PRECISION)
