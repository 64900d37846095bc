"""PLACEHOLDER (pc-stack): describe_cluster; the handlers branch replaces it."""
