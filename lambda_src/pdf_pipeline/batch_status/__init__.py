"""Placeholder for the batch_status function (its owner's package replaces it)."""
