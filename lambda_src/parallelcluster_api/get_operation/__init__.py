"""PLACEHOLDER (pc-stack): get_operation; the handlers branch replaces it."""
