"""ParallelCluster API: the get_operation function."""
