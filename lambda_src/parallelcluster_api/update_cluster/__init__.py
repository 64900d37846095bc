"""ParallelCluster API: the update_cluster function."""
