"""PLACEHOLDER (pc-stack): the ParallelCluster API function package; the handlers branch replaces it."""
