"""Placeholder for the write_audit function (its owner's package replaces it)."""
