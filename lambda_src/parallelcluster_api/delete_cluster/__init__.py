"""ParallelCluster API: the delete_cluster function."""
