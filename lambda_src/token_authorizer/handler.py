"""PLACEHOLDER (pc-stack): the TOKEN authorizer function; the authorizer branch replaces it."""


def handler(event, context):
    raise NotImplementedError
