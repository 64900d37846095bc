"""ParallelCluster API: the get_cluster_stack_events function."""
