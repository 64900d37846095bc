"""PLACEHOLDER (pc-stack): update_cluster; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
