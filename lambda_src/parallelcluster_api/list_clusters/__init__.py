"""ParallelCluster API: the list_clusters function."""
