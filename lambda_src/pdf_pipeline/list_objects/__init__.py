"""Placeholder for the list_objects function (its owner's package replaces it)."""
