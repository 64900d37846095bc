"""PLACEHOLDER (pc-stack): record_outcome; the handlers branch replaces it."""
