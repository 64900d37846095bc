"""PLACEHOLDER (pc-stack): update_compute_fleet; the handlers branch replaces it."""
