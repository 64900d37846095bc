"""Placeholder: the invoke_model function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
