"""PLACEHOLDER (pc-stack): list_clusters; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
