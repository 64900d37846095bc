"""PLACEHOLDER (pc-stack): describe_compute_fleet; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
