"""GET /v3/clusters/{clusterName}/computefleet: ParallelCluster's answer, for a cluster the caller may see
(404 for any other)."""

from ..shared.clusters import cluster_route

handler = cluster_route("describe_compute_fleet")
