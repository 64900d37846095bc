"""ParallelCluster API: the poll_cluster function."""
