"""PLACEHOLDER (pc-stack): poll_cluster; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
