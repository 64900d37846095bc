"""Placeholder for the start_batch function (its owner's package replaces it)."""
