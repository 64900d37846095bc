"""GET /v3/clusters/{clusterName}/logstreams/{logStreamName}: ParallelCluster's answer, for a cluster the caller may see
(404 for any other)."""

from ..shared.clusters import cluster_route

handler = cluster_route("get_cluster_log_events")
