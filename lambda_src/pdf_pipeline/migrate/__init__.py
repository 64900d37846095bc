"""Placeholder for the migrate function (its owner's package replaces it)."""
