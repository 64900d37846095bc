"""Placeholder: the auto_ingest function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
