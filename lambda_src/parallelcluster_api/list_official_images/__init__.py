"""ParallelCluster API: the list_official_images function."""
