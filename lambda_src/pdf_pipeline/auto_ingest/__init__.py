"""Placeholder for the auto_ingest function (its owner's package replaces it)."""
