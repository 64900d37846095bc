"""ParallelCluster API: the list_cluster_log_streams function."""
