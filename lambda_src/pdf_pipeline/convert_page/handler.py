"""Placeholder: the convert_page function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
