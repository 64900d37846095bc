"""PLACEHOLDER (pc-stack): list_cluster_log_streams; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
