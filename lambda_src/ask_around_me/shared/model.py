"""The rules of the data every function agrees on, from the API to the aggregation. Pure: no imports.

An answer has the type of its question: a star rating, or a map point (geo).
"""

QUESTION_TYPES = ("star", "geo")
MAX_TEXT_LENGTH = 280  # characters of a question's text, after stripping
MIN_RATING, MAX_RATING = 0, 5  # a star answer's rating, inclusive
MAX_LATITUDE, MAX_LONGITUDE = 90.0, 180.0


def is_coordinate(value: object, limit: float) -> bool:
    """Whether ``value`` is a number (never a bool) within +/- ``limit``.

    The chained comparison is exact for integers of any size (Python compares int and float
    without converting), and false for NaN and the infinities: no overflow, no finiteness test.
    """
    return not isinstance(value, bool) and isinstance(value, (int, float)) and -limit <= value <= limit
