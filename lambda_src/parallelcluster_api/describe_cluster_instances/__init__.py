"""ParallelCluster API: the describe_cluster_instances function."""
