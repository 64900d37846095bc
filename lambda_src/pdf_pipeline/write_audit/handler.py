"""Placeholder: the write_audit function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
