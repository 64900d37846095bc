"""Placeholder for the reports function (its owner's package replaces it)."""
