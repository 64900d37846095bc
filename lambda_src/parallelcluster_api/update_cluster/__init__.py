"""PLACEHOLDER (pc-stack): update_cluster; the handlers branch replaces it."""
