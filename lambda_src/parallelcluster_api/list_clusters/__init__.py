"""PLACEHOLDER (pc-stack): list_clusters; the handlers branch replaces it."""
