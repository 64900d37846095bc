"""PLACEHOLDER (pc-stack): legacy_pcluster; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
