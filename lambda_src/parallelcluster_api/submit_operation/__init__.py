"""PLACEHOLDER (pc-stack): submit_operation; the handlers branch replaces it."""
