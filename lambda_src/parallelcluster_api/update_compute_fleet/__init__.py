"""ParallelCluster API: the update_compute_fleet function."""
