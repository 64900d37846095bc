"""Placeholder: the start_batch function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
