"""The rules of the data every function agrees on, from the API to the aggregation. Pure: no imports.

An answer has the type of its question: a star rating, or a map point (geo).
"""

QUESTION_TYPES = ("star", "geo")
MAX_TEXT_LENGTH = 280  # characters of a question's text, after stripping
MIN_RATING, MAX_RATING = 0, 5  # a star answer's rating, inclusive
