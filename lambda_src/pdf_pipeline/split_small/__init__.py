"""Placeholder for the split_small function (its owner's package replaces it)."""
