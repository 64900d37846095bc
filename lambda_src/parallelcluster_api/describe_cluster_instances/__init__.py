"""PLACEHOLDER (pc-stack): describe_cluster_instances; the handlers branch replaces it."""
