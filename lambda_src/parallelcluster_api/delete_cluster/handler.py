"""PLACEHOLDER (pc-stack): delete_cluster; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
