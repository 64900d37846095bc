"""Operator commands for the ParallelClusterApi stack (``python -m ops.parallelcluster --help``)."""
