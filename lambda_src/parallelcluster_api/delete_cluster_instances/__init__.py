"""PLACEHOLDER (pc-stack): delete_cluster_instances; the handlers branch replaces it."""
