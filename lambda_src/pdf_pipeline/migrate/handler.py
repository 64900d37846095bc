"""Placeholder: the migrate function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
