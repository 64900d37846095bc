"""ParallelCluster API: the legacy_pcluster function."""
