"""PLACEHOLDER (pc-stack): list_official_images; the handlers branch replaces it."""


def handler(event, context):
    raise NotImplementedError
