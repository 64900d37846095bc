"""Placeholder for the classify function (its owner's package replaces it)."""
