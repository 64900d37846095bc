"""ParallelCluster API: the describe_cluster function."""
