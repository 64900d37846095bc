"""PLACEHOLDER (pc-stack): get_cluster_stack_events; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
