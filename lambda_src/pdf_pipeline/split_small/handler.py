"""Placeholder: the split_small function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
