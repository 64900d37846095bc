"""Placeholder: the reports function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
