"""GET /v3/clusters/{clusterName}/logstreams: ParallelCluster's answer, for a cluster the caller may see
(404 for any other)."""

from ..shared.clusters import cluster_route

handler = cluster_route("list_cluster_log_streams")
