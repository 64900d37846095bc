"""Placeholder: the list_objects function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
