"""ParallelCluster API: the submit_operation function."""
