"""Placeholder for the convert_page function (its owner's package replaces it)."""
