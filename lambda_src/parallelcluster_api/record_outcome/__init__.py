"""ParallelCluster API: the record_outcome function."""
