"""Placeholder: the classify function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
