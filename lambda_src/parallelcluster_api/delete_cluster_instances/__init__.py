"""ParallelCluster API: the delete_cluster_instances function."""
