"""PLACEHOLDER (pc-stack): create_cluster; the handlers branch replaces it."""
