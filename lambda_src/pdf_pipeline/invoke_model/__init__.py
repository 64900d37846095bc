"""Placeholder for the invoke_model function (its owner's package replaces it)."""
