"""PLACEHOLDER (pc-stack): get_cluster_log_events; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
