"""ParallelCluster API: the create_cluster function."""
