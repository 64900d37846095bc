"""ParallelCluster API: the describe_compute_fleet function."""
