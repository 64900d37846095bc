"""ParallelCluster API: the get_cluster_log_events function."""
