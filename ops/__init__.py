"""Operators' command-line tools for the suite's systems (``python -m ops.<system> ...``)."""
